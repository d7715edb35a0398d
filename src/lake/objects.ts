/**
 * Lake objects by URI: Iceberg metadata names files with `LAKE_URI_PREFIX`
 * URIs (how engines reach R2), while the Worker reads them by R2 key.
 */
import type { TableMetadata } from "../iceberg/metadata.ts";

export function lakeUri(env: Env, key: string): string {
  return `${env.LAKE_URI_PREFIX}/${key}`;
}

export function lakeKey(env: Env, uri: string): string {
  if (!uri.startsWith(`${env.LAKE_URI_PREFIX}/`)) throw new Error(`lake file ${uri} is not under ${env.LAKE_URI_PREFIX}`);
  return uri.slice(env.LAKE_URI_PREFIX.length + 1);
}

/** The bytes of the lake object at `uri`. */
export async function readLakeObject(env: Env, uri: string): Promise<Uint8Array> {
  const object = await env.LAKE.get(lakeKey(env, uri));
  if (!object) throw new Error(`lake object ${uri} is missing from R2`);
  return new Uint8Array(await object.arrayBuffer());
}

/** The table metadata JSON stored at `location`. */
export async function readMetadata(env: Env, location: string): Promise<TableMetadata> {
  return JSON.parse(new TextDecoder().decode(await readLakeObject(env, location))) as TableMetadata;
}
