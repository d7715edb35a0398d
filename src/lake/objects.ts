/**
 * Lake objects by URI: Iceberg metadata names files with `LAKE_URI_PREFIX`
 * URIs (how engines reach R2), while the Worker reads them by R2 key.
 */
import type { TableMetadata } from "../iceberg/metadata.ts";
import { FloeError } from "../errors.ts";

export function lakeUri(env: Env, key: string): string {
  return `${env.LAKE_URI_PREFIX}/${key}`;
}

export function lakeKey(env: Env, uri: string): string {
  if (!uri.startsWith(`${env.LAKE_URI_PREFIX}/`)) throw new Error(`lake file ${uri} is not under ${env.LAKE_URI_PREFIX}`);
  return uri.slice(env.LAKE_URI_PREFIX.length + 1);
}

/**
 * A lake object gone from R2. Lake objects never change and go only once
 * the snapshots referencing them expired, so a read that meets one was
 * reading an expired snapshot: it is `gone`, and reading again finds the
 * current one.
 */
export function removedObject(what: string): FloeError {
  return new FloeError("gone", `lake object ${what} was removed by snapshot expiry while this read ran; read again`);
}

/** The bytes of the lake object at `uri`. */
export async function readLakeObject(env: Env, uri: string): Promise<Uint8Array> {
  const object = await env.LAKE.get(lakeKey(env, uri));
  if (!object) throw removedObject(uri);
  return new Uint8Array(await object.arrayBuffer());
}

/** The table metadata JSON stored at `location`. */
export async function readMetadata(env: Env, location: string): Promise<TableMetadata> {
  return JSON.parse(new TextDecoder().decode(await readLakeObject(env, location))) as TableMetadata;
}
