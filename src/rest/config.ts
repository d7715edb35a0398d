/**
 * The catalog's configuration (`GET /v1/config`): Floe serves one
 * warehouse, the lake bucket, under the prefix `floe`, and lists exactly
 * the endpoints it implements, so clients call nothing else (Java uses
 * `HEAD` for `tableExists` only when it is listed, and views only when their
 * endpoints are).
 */
import { IcebergError } from "./errors.ts";

/** The warehouse's name, and the `{prefix}` of every catalog path. */
export const warehouseName = "floe";

export const endpoints = [
  "GET /v1/{prefix}/namespaces",
  "POST /v1/{prefix}/namespaces",
  "GET /v1/{prefix}/namespaces/{namespace}",
  "HEAD /v1/{prefix}/namespaces/{namespace}",
  "DELETE /v1/{prefix}/namespaces/{namespace}",
  "POST /v1/{prefix}/namespaces/{namespace}/properties",
  "GET /v1/{prefix}/namespaces/{namespace}/tables",
  "POST /v1/{prefix}/namespaces/{namespace}/tables",
  "GET /v1/{prefix}/namespaces/{namespace}/tables/{table}",
  "HEAD /v1/{prefix}/namespaces/{namespace}/tables/{table}",
  "POST /v1/{prefix}/namespaces/{namespace}/tables/{table}",
  "DELETE /v1/{prefix}/namespaces/{namespace}/tables/{table}",
  "POST /v1/{prefix}/namespaces/{namespace}/register",
  "POST /v1/{prefix}/namespaces/{namespace}/tables/{table}/metrics",
  "GET /v1/{prefix}/namespaces/{namespace}/tables/{table}/credentials",
  "POST /v1/{prefix}/tables/rename",
  "POST /v1/{prefix}/transactions/commit",
] as const;

export interface CatalogConfig {
  defaults: Record<string, string>;
  overrides: Record<string, string>;
  endpoints: readonly string[];
}

/** The configuration for `?warehouse=`: absent, `floe`, or the lake's URI name the one warehouse; anything else is refused. */
export function catalogConfig(env: Env, warehouse: string | undefined): CatalogConfig {
  const known = ["", warehouseName, env.LAKE_URI_PREFIX, `${env.LAKE_URI_PREFIX}/`];
  if (warehouse !== undefined && !known.includes(warehouse)) {
    throw IcebergError.badRequest(
      `this catalog serves one warehouse, '${warehouseName}' (the lake ${env.LAKE_URI_PREFIX}); got warehouse '${warehouse.slice(0, 100)}'`,
    );
  }
  return { defaults: {}, overrides: { prefix: warehouseName }, endpoints };
}
