/**
 * The HTTP API (Hono): the `/v1` routes (docs/http-api.md, described in
 * OpenAPI at `/v1/openapi.json`) behind CORS and access control, a short
 * pointer at `/`, and the one error handler that turns a `FloeError` into
 * `{ error: { code, message } }` with its status. Anything else thrown is a
 * bug and answers 500.
 *
 * Every answer carries `Floe-Request-Id`, and every error answer is logged as
 * one JSON line with that id, so a client's report finds its log line.
 */
import { Hono } from "hono";
import type { Context, MiddlewareHandler } from "hono";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import { FloeError, errorBody } from "../errors.ts";
import { access, needs, requireNeed } from "../auth/access.ts";
import { catalogFailure } from "../catalog/catalog.ts";
import { corsAccess } from "../auth/cors.ts";
import { accessMode } from "../auth/mode.ts";
import { logFailedRequest } from "../auth/request-log.ts";
import { headers } from "../vocabulary.ts";
import type { FloeEnv } from "./env.ts";
import { databaseRoutes } from "./databases.ts";
import { tableRoutes } from "./tables.ts";
import { partitionRoutes } from "./partitions.ts";
import { rowRoutes } from "./rows.ts";
import { scanRoutes } from "./scan.ts";
import { snapshotRoutes, tieringRoutes } from "./lake.ts";
import { tokenRoutes } from "./tokens.ts";
import { metricsRoutes } from "./metrics.ts";
import { icebergCatalog } from "../rest/routes.ts";
import { openApiDocument } from "./openapi.ts";

const floeVersion = "0.1.0";

export function createApp(): Hono<FloeEnv> {
  const app = new Hono<FloeEnv>();
  app.use(tagRequest, corsAccess);
  app.get("/", access(needs.open), (c) => c.json(pointer));
  app.get("/v1/health", access(needs.open), (c) => c.json({ status: "ok", version: floeVersion, access: accessMode(c.env).kind }));
  app.get("/v1/openapi.json", access(needs.open), (c) => c.json(openApiDocument(floeVersion)));
  app.route("/v1/databases", databaseRoutes);
  app.route("/v1/databases/:db/tables", tableRoutes);
  app.route("/v1/databases/:db/tables", partitionRoutes);
  app.route("/v1/databases/:db/tables", rowRoutes);
  app.route("/v1/databases/:db/tables", scanRoutes);
  app.route("/v1/databases/:db/tables", snapshotRoutes);
  app.route("/v1/tiering", tieringRoutes);
  app.route("/v1/tokens", tokenRoutes);
  app.route("/v1/metrics", metricsRoutes);
  // The Iceberg REST catalog, with errors in the spec's shape (docs/iceberg-rest.md).
  app.route("/iceberg", icebergCatalog());
  // A path no route takes is answered only to admins, so probing reveals nothing of the routes.
  app.notFound(async (c) => {
    try {
      await requireNeed(c, needs.admin());
    } catch (error) {
      return errorAnswer(c, error);
    }
    return errorAnswer(c, FloeError.notFound(`no route for ${c.req.method} ${new URL(c.req.url).pathname}`));
  });
  app.onError((error, c) => errorAnswer(c, error));
  return app;
}

/** What `GET /` answers: what this server is and where to go next. */
const pointer = {
  name: "floe",
  version: floeVersion,
  description: "A streamhouse on Cloudflare Workers: hot Tablets in Durable Objects, tiered into Apache Iceberg on R2",
  links: {
    health: "/v1/health",
    openapi: "/v1/openapi.json",
    iceberg: "/iceberg/v1/config",
    docs: "README.md and docs/ in the Floe repository (docs/http-api.md for this API)",
  },
};

const tagRequest: MiddlewareHandler<FloeEnv> = async (c, next) => {
  const requestId = crypto.randomUUID();
  c.set("requestId", requestId);
  await next();
  c.header(headers.requestId, requestId);
};

function errorAnswer(c: Context<FloeEnv>, error: unknown): Response {
  const requestId = c.get("requestId");
  const failure = error instanceof FloeError ? error : catalogFailure(error) ?? new FloeError("internal", `internal error (request ${requestId})`);
  logFailedRequest({ requestId, request: c.req.raw, status: failure.status, code: failure.kind, message: failure.message, internal: failure.kind === "internal" ? error : undefined });
  if (failure.kind === "unauthorized") c.header("WWW-Authenticate", 'Bearer realm="floe"');
  if (failure.kind === "upgrade_required") c.header("Upgrade", "websocket");
  if (failure.retryAfterSeconds !== undefined) c.header("Retry-After", String(failure.retryAfterSeconds));
  return c.json(errorBody(failure.kind, failure.message), failure.status as ContentfulStatusCode);
}
