/**
 * How engines reach a table's files: the FileIO settings a load hands out
 * (R2's S3 endpoint), the credentials it may vend, and where external
 * tables may live in the lake bucket.
 *
 * Invariants: credentials are vended only when the deployment configured
 * them, only to a client that asked (`X-Iceberg-Access-Delegation:
 * vended-credentials`), and only to an admin caller (the routes check),
 * because an R2 access key cannot be narrowed to one table's prefix without
 * R2's temporary-credentials API; an external table lives under its
 * namespace's folder and never inside a Floe table's folder.
 */
import { IcebergError } from "./errors.ts";

/** Optional settings: `R2_S3_ENDPOINT` a var, the key pair secrets (`wrangler secret put`). */
interface StorageSettings {
  R2_S3_ENDPOINT?: string;
  R2_ACCESS_KEY_ID?: string;
  R2_SECRET_ACCESS_KEY?: string;
}

export interface StorageCredential {
  prefix: string;
  config: Record<string, string>;
}

function settings(env: Env): StorageSettings {
  return env as Env & StorageSettings;
}

/** The FileIO settings of every table: R2's S3 endpoint, path-style, region `auto` (none without an endpoint). */
export function fileIoConfig(env: Env): Record<string, string> {
  const endpoint = settings(env).R2_S3_ENDPOINT?.trim();
  if (!endpoint) return {};
  return { "s3.endpoint": endpoint, "s3.path-style-access": "true", "client.region": "auto", "s3.region": "auto" };
}

/** Whether the client asked for vended credentials. */
export function wantsVendedCredentials(header: string | undefined): boolean {
  return (header ?? "").split(",").some((mechanism) => mechanism.trim().toLowerCase() === "vended-credentials");
}

/** The configured key pair for `location`, or none when the deployment has no R2 credentials. */
export function vendedCredentials(env: Env, location: string): StorageCredential[] {
  const { R2_ACCESS_KEY_ID: keyId, R2_SECRET_ACCESS_KEY: secret } = settings(env);
  if (!keyId || !secret) return [];
  return [{ prefix: location, config: { ...fileIoConfig(env), "s3.access-key-id": keyId, "s3.secret-access-key": secret } }];
}

/** Where an external table lives unless it says: `<namespace>/<name>-<uuid>` in the lake bucket, like a Floe table. */
export function defaultTableLocation(env: Env, namespace: string, name: string): string {
  return `${env.LAKE_URI_PREFIX}/${namespace}/${name}-${crypto.randomUUID()}`;
}

/**
 * Throws a 400 unless `location` is a folder under the namespace's folder in the lake bucket and
 * outside every folder of `floeTableFolders` (the `<table>-<tableId>` folders of its Floe tables).
 */
export function checkTableLocation(env: Env, namespace: string, location: string, floeTableFolders: ReadonlySet<string>): void {
  const folder = `${env.LAKE_URI_PREFIX}/${namespace}/`;
  const rest = location.startsWith(folder) ? location.slice(folder.length) : "";
  const first = rest.split("/")[0] ?? "";
  if (first === "" || rest.split("/").some((part) => part === "" || part === "." || part === "..")) {
    throw IcebergError.badRequest(`a table of namespace '${namespace}' lives in a folder under ${folder}, got location ${location}`);
  }
  if (floeTableFolders.has(first)) {
    throw IcebergError.badRequest(`location ${location} is inside the folder of a Floe table; choose another folder under ${folder}`);
  }
}
