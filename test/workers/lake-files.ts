/**
 * A table's lake as the tests see it: the live files of its current
 * snapshot, found through the catalog's metadata pointer, the manifest list
 * and the manifests (read with Floe's Avro reader; the node and lake
 * projects check those files with independent readers).
 */
import { env } from "cloudflare:workers";
import { getLakeState } from "../../src/catalog/lake.ts";
import type { ManifestEntry } from "../../src/iceberg/manifest-read.ts";
import { readManifest, readManifestList } from "../../src/iceberg/manifest-read.ts";
import type { TableMetadata } from "../../src/iceberg/metadata.ts";

export const keyOf = (uri: string) => uri.slice(env.LAKE_URI_PREFIX.length + 1);

/** The R2 keys of every data and delete file a snapshot the metadata keeps references. */
export async function keptFileKeys(tableId: string): Promise<Set<string>> {
  const metadata = await currentMetadata(tableId);
  const keys = new Set<string>();
  for (const snapshot of metadata.snapshots) for (const file of await liveFiles(tableId, snapshot["snapshot-id"])) keys.add(file.key);
  return keys;
}

async function object(uri: string): Promise<Uint8Array> {
  return new Uint8Array(await (await env.LAKE.get(keyOf(uri)))!.arrayBuffer());
}

export async function currentMetadata(tableId: string): Promise<TableMetadata> {
  const state = await getLakeState(env.CATALOG, tableId);
  return JSON.parse(new TextDecoder().decode(await object(state!.metadataLocation))) as TableMetadata;
}

/** The live data and delete files of a table's current snapshot (or of the one given), with their R2 keys. */
export async function liveFiles(tableId: string, snapshotId?: number): Promise<(ManifestEntry & { key: string })[]> {
  const metadata = await currentMetadata(tableId);
  const snapshot = metadata.snapshots.find((s) => s["snapshot-id"] === (snapshotId ?? metadata["current-snapshot-id"]))!;
  const files: (ManifestEntry & { key: string })[] = [];
  for (const manifest of readManifestList(await object(snapshot["manifest-list"]))) {
    for (const entry of readManifest(await object(manifest.path), manifest)) files.push({ ...entry, key: keyOf(entry.path) });
  }
  return files;
}

/** A lake-enabled primary-key table (region, id) → name, score in 3 buckets by region, with `properties` added. */
export const regionUsersTable = (properties: Record<string, string>) => ({
  columns: [
    { name: "region", type: "STRING" },
    { name: "id", type: "BIGINT" },
    { name: "name", type: "STRING" },
    { name: "score", type: "INT" },
  ],
  primaryKey: ["region", "id"],
  bucket: { num: 3, key: ["region"] },
  properties: { "table.datalake.enabled": "true", ...properties },
});
