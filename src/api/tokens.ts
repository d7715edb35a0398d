/** Routes for access tokens: create (the secret is answered once, here), list, revoke. All need admin. */
import { Hono } from "hono";
import { createToken, listTokens, parseTokenRequest, revokeToken, tokenToJson } from "../auth/tokens.ts";
import type { FloeEnv } from "./env.ts";
import { readJsonBody } from "./body.ts";

export const tokenRoutes = new Hono<FloeEnv>()
  .get("/", async (c) => c.json({ tokens: (await listTokens(c.env.CATALOG)).map(tokenToJson) }))
  .post("/", async (c) => {
    const request = parseTokenRequest(await readJsonBody(c.req.raw));
    const { token, secret } = await createToken(c.env.CATALOG, request, Date.now());
    return c.json({ ...tokenToJson(token), token: secret }, 201);
  })
  .delete("/:id", async (c) => {
    const id = c.req.param("id");
    await revokeToken(c.env.CATALOG, id);
    return c.json({ id, revoked: true });
  });
