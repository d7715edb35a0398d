/**
 * Which browser origins may call the API: `FLOE_CORS_ORIGINS`, a
 * comma-separated list of origins (`https://app.example.com`) or `*`.
 *
 * Invariant: with the list empty (the default) no CORS header is sent and
 * preflights are not answered, so browsers on other origins are refused.
 * CORS never replaces the token check: a browser still sends
 * `Authorization: Bearer`, and no cookie is ever honoured.
 */
import type { MiddlewareHandler } from "hono";
import { cors } from "hono/cors";
import { headers } from "../vocabulary.ts";

const floeHeaders = Object.values(headers);

export function allowedOrigins(env: Env): string[] {
  return (env.FLOE_CORS_ORIGINS ?? "").split(",")
    .map((origin) => origin.trim())
    .filter((origin) => origin !== "");
}

const corsHandler = cors({
  origin: (origin, c) => {
    const allowed = allowedOrigins(c.env as Env);
    return allowed.includes("*") ? "*" : allowed.includes(origin) ? origin : null;
  },
  allowMethods: ["GET", "HEAD", "PUT", "POST", "DELETE"],
  allowHeaders: ["Authorization", "Content-Type", ...floeHeaders],
  exposeHeaders: floeHeaders,
  maxAge: 600,
});

export const corsAccess: MiddlewareHandler<{ Bindings: Env }> = (c, next) =>
  allowedOrigins(c.env).length === 0 ? next() : corsHandler(c, next);
