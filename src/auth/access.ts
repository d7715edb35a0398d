/**
 * Access control for the HTTP API: who is calling (the bearer token), and
 * whether the route's need is granted by that token's scopes.
 *
 * Invariants of `auth/`:
 * - Every route declares what it needs where it is declared (`access(...)`,
 *   its first handler), decided from the method and path alone before any
 *   catalog lookup, so a refusal reveals nothing about which databases or
 *   tables exist; the WebSocket subscribe is checked at upgrade time. Only
 *   `GET /v1/health` and the API description need no token.
 * - No valid token: 401. A valid token whose scopes do not grant the need: 403.
 *   A subscription keeps checking its scoped token and closes once it is revoked.
 * - A request no route matches needs `admin` before it hears 404.
 * - Secrets are stored only as SHA-256 and compared in constant time
 *   (`secrets.ts`, `tokens.ts`); no secret or Authorization header is ever
 *   logged or put in an answer.
 * - An address that keeps failing to authenticate is answered 429 before
 *   anything it sends is looked up (`throttle.ts`); the root token and
 *   tokens this isolate already knows cost no lookup and still pass.
 * - The API runs open only when asked to explicitly (`mode.ts`), and then
 *   not to web pages of other origins.
 */
import type { Context, MiddlewareHandler } from "hono";
import { FloeError } from "../errors.ts";
import { accessMode } from "./mode.ts";
import { allowedOrigins } from "./cors.ts";
import type { Scope } from "./scopes.ts";
import { adminScope, formatScope, grantsAny, seesDatabase } from "./scopes.ts";
import { sameSecret } from "./secrets.ts";
import { findKnownToken, findToken } from "./tokens.ts";
import { authFailureWindowMs, authFailuresPerWindowMax, failedAuthentications } from "./throttle.ts";
import { websocketAuth } from "../vocabulary.ts";

/** Who is calling: a token (its id), the root token (`root`) or anyone, on a server running open (`open`). */
export interface Principal {
  id: string;
  name: string;
  scopes: readonly Scope[];
}

const rootPrincipal: Principal = { id: "root", name: "root", scopes: [adminScope] };
const openPrincipal: Principal = { id: "open", name: "open", scopes: [adminScope] };

/**
 * What a route needs: nothing (open), any valid token (`token`: the route
 * answers what the token's scopes let it see), a scope on a database or on
 * a table in it (`see`: to list what it may read there), or a scope some
 * held scope must grant.
 */
export type Need = { kind: "open" } | { kind: "token" } | { kind: "see"; database: string } | Scope;

type Names = Record<"db" | "table", string>;

/** The needs a route declares, from its `:db` and `:table` path parameters. */
export const needs = {
  open: (): Need => ({ kind: "open" }),
  token: (): Need => ({ kind: "token" }),
  see: (database: string): Need => ({ kind: "see", database }),
  admin: (): Need => adminScope,
  read: (database: string, table: string | null = null): Need => ({ kind: "read", database, table }),
  write: (database: string, table: string | null = null): Need => ({ kind: "write", database, table }),
};

/** A route's access check: its first handler, given the route's need (from its path parameters). */
export function access(need: (names: Names) => Need): MiddlewareHandler<{ Bindings: Env }> {
  return async (c, next) => {
    await requireNeed(c, need({ db: c.req.param("db") ?? "", table: c.req.param("table") ?? "" }));
    await next();
  };
}

/** Refuses the request unless its caller holds what `need` names. */
export async function requireNeed(c: Context<{ Bindings: Env }>, need: Need): Promise<void> {
  const mode = accessMode(c.env);
  if (need.kind === "open") return;
  if (mode.kind === "open") {
    refuseOtherOrigins(c.env, c.req.header("origin"));
    c.set("principal", openPrincipal);
    return;
  }
  if (mode.kind === "unconfigured") throw new FloeError("unavailable", mode.message);
  const secret = bearerSecret(c.req.raw);
  const principal = await authenticate(c.env.CATALOG, mode.rootToken, secret, c.req.header("cf-connecting-ip"));
  c.set("principal", principal);
  if (principal !== rootPrincipal) c.set("tokenStillValid", async () => (await findToken(c.env.CATALOG, secret!)) !== null);
  if (need.kind === "token") return;
  if (need.kind === "see") {
    if (seesDatabase(principal.scopes, need.database)) return;
    throw new FloeError("forbidden", `token '${principal.name}' holds no scope on database '${need.database}' or its tables`);
  }
  if (!grantsAny(principal.scopes, need)) {
    throw new FloeError("forbidden", `token '${principal.name}' does not grant ${formatScope(need)}`);
  }
}

/** The principal access control found for this request (routes that need a token only). */
export function principalOf(c: Context<{ Bindings: Env }>): Principal {
  const principal = c.get("principal");
  if (principal === undefined) throw new Error("no principal: the route declares no need for a token");
  return principal;
}

/**
 * Open mode trusts whoever reaches the server, but any web page the
 * developer visits can reach localhost too: browsers send a body without a
 * preflight and open WebSockets across origins. A browser always says its
 * `Origin`, so open mode serves only origins listed in `FLOE_CORS_ORIGINS`.
 */
function refuseOtherOrigins(env: Env, origin: string | undefined): void {
  if (origin === undefined) return;
  const allowed = allowedOrigins(env);
  if (allowed.includes("*") || allowed.includes(origin)) return;
  throw new FloeError("forbidden", `this server runs open (development), so it refuses browser requests from ${origin}; list the origin in FLOE_CORS_ORIGINS`);
}

/** The token of `Authorization: Bearer …`, or, on a WebSocket upgrade, of the `floe.bearer.` subprotocol. */
function bearerSecret(request: Request): string | undefined {
  const authorization = request.headers.get("authorization");
  if (authorization !== null) return /^Bearer +(\S+) *$/i.exec(authorization)?.[1];
  // Only a subscription upgrade may carry its token as a subprotocol: nothing else needs to.
  const upgrade = request.headers.get("upgrade")?.toLowerCase() === "websocket";
  if (!upgrade || !new URL(request.url).pathname.endsWith("/subscribe")) return undefined;
  return websocketAuth.tokenOf(request.headers.get("sec-websocket-protocol"));
}

async function authenticate(catalog: D1Database, rootToken: string, secret: string | undefined, address: string | undefined): Promise<Principal> {
  if (secret === undefined) {
    throw new FloeError("unauthorized", "send a token as 'Authorization: Bearer <token>' (WebSockets may offer the subprotocol floe.bearer.<base64url token>)");
  }
  if (await sameSecret(secret, rootToken)) return rootPrincipal;
  const nowMs = Date.now();
  const waitSeconds = failedAuthentications.retryAfterSeconds(address, nowMs);
  // An address over its limit gets no catalog read: only a token this isolate knows passes.
  const token = waitSeconds > 0 ? await findKnownToken(secret) : await findToken(catalog, secret);
  if (token) return token;
  if (waitSeconds > 0) {
    throw FloeError.tooManyRequests(
      `${authFailuresPerWindowMax} failed authentications from this address within ${authFailureWindowMs / 1000} s; retry in ${waitSeconds} s`,
      waitSeconds,
    );
  }
  failedAuthentications.recordFailure(address, nowMs);
  throw new FloeError("unauthorized", "the bearer token is not valid: it is unknown, revoked or mistyped");
}
