/**
 * The HTTP API (Hono): the `/v1` routes of DESIGN.md's contract, and the one
 * error handler that turns a `FloeError` into `{ error: { code, message } }`
 * with its status. Anything else thrown is logged and answered 500.
 */
import { Hono } from "hono";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import { FloeError, errorBody } from "../errors.ts";
import type { FloeEnv } from "./env.ts";
import { databaseRoutes } from "./databases.ts";
import { tableRoutes } from "./tables.ts";
import { rowRoutes } from "./rows.ts";
import { snapshotRoutes, tieringRoutes } from "./lake.ts";

export const floeVersion = "0.1.0";

export function createApp(): Hono<FloeEnv> {
  const app = new Hono<FloeEnv>();
  app.get("/v1/health", (c) => c.json({ status: "ok", version: floeVersion }));
  app.route("/v1/databases", databaseRoutes);
  app.route("/v1/databases/:db/tables", tableRoutes);
  app.route("/v1/databases/:db/tables", rowRoutes);
  app.route("/v1/databases/:db/tables", snapshotRoutes);
  app.route("/v1/tiering", tieringRoutes);
  app.notFound((c) => c.json(errorBody("not_found", `no route for ${c.req.method} ${new URL(c.req.url).pathname}`), 404));
  app.onError((error, c) => {
    if (error instanceof FloeError) {
      return c.json(errorBody(error.kind, error.message), error.status as ContentfulStatusCode);
    }
    if (String(error).includes("D1_ERROR: no such table")) {
      const message = "the catalog database has no schema yet: run `npx wrangler d1 migrations apply CATALOG` (npm start does it)";
      return c.json(errorBody("unavailable", message), 503);
    }
    const requestId = crypto.randomUUID();
    console.error(JSON.stringify({ event: "internal_error", requestId, message: String(error), stack: (error as Error).stack }));
    return c.json(errorBody("internal", `internal error (request ${requestId})`), 500);
  });
  return app;
}
