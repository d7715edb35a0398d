/**
 * Routes for access tokens: create (the secret is answered once, here, and
 * the caller recorded as its creator), list, revoke (`?cascade=true`: with
 * every token it minted, transitively). All need admin.
 *
 * Tokens are managed only while access control is on: on a server running
 * open anyone could mint one, and it would stay valid once a root token
 * turns access control on.
 */
import { Hono } from "hono";
import type { MiddlewareHandler } from "hono";
import { FloeError } from "../errors.ts";
import { accessMode } from "../auth/mode.ts";
import { createToken, listTokens, parseTokenRequest, revokeToken, revokeTokenTree, tokenToJson } from "../auth/tokens.ts";
import type { FloeEnv } from "./env.ts";
import { access, needs } from "../auth/access.ts";
import { readJsonBody } from "./body.ts";

const refuseWhileOpen: MiddlewareHandler<FloeEnv> = async (c, next) => {
  if (accessMode(c.env).kind === "open") {
    throw new FloeError(
      "forbidden",
      "tokens need FLOE_ROOT_TOKEN: this server runs open (development), where anyone could mint a token that would outlive the switch to access control; set FLOE_ROOT_TOKEN (locally in .dev.vars) to manage tokens",
    );
  }
  await next();
};

export const tokenRoutes = new Hono<FloeEnv>()
  .use(access(needs.admin), refuseWhileOpen)
  .get("/", async (c) => c.json({ tokens: (await listTokens(c.env.CATALOG)).map(tokenToJson) }))
  .post("/", async (c) => {
    const request = parseTokenRequest(await readJsonBody(c.req.raw));
    const { token, secret } = await createToken(c.env.CATALOG, request, c.get("principal")!.id, Date.now());
    return c.json({ ...tokenToJson(token), token: secret }, 201);
  })
  .delete("/:id", async (c) => {
    const id = c.req.param("id");
    const cascade = c.req.query("cascade");
    if (cascade !== undefined && cascade !== "true" && cascade !== "false") throw FloeError.badRequest("cascade must be true or false");
    if (cascade === "true") return c.json({ id, revoked: true, revokedIds: await revokeTokenTree(c.env.CATALOG, id) });
    await revokeToken(c.env.CATALOG, id);
    return c.json({ id, revoked: true });
  });
