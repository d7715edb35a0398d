/**
 * The Iceberg REST catalog, served under `/iceberg` (clients are configured
 * with `uri = https://<worker>/iceberg`): the configuration, the deprecated
 * OAuth2 token endpoint (refused), and the catalog routes, served both
 * without a prefix and under the prefix `floe` that the configuration hands
 * out. Every error on these routes is answered in the spec's shape
 * (`errors.ts`), and a path no route takes needs admin before it hears 404,
 * as on `/v1`.
 */
import { Hono } from "hono";
import { access, needs, requireNeed } from "../auth/access.ts";
import type { RestEnv } from "./env.ts";
import { catalogConfig, warehouseName } from "./config.ts";
import { IcebergError, icebergErrorAnswer } from "./errors.ts";
import { namespaceRoutes } from "./namespaces.ts";
import { tableRoutes } from "./tables.ts";
import { transactionRoutes } from "./transactions.ts";

const catalogRoutes = new Hono<RestEnv>()
  .route("/namespaces", namespaceRoutes)
  .route("/namespaces", tableRoutes)
  .route("/", transactionRoutes);

export function icebergCatalog(): Hono<RestEnv> {
  const app = new Hono<RestEnv>();
  app.get("/v1/config", access(needs.open), (c) => c.json(catalogConfig(c.env, c.req.query("warehouse"))));
  // The spec deprecates this endpoint for removal; clients take a Floe token as `token` instead.
  app.post("/v1/oauth/tokens", access(needs.open), (c) =>
    c.json({
      error: "unsupported_grant_type",
      error_description: "Floe issues no OAuth2 tokens: configure the client with a Floe token as its bearer token (token=<token>), not a credential",
    }, 400),
  );
  app.route("/v1", catalogRoutes);
  app.route(`/v1/${warehouseName}`, catalogRoutes);
  app.all("*", async (c) => {
    await requireNeed(c, needs.admin());
    throw new IcebergError(404, "NotFoundException", `no route for ${c.req.method} ${new URL(c.req.url).pathname} (the catalog's prefix is '${warehouseName}')`);
  });
  app.onError((error, c) => icebergErrorAnswer(c, error));
  return app;
}
