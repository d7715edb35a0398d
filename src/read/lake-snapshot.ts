/**
 * The files of one lake snapshot and the per-bucket offsets it reaches: the
 * lake half of a union read.
 *
 * Invariant: a snapshot's data files of bucket b hold exactly the rows of
 * b's log below `bucketOffsets[b]` (for a primary-key table, their merged
 * state); the hot half of a read continues from those offsets, so the two
 * halves neither overlap nor leave a gap.
 */
import type { TableEntry } from "../catalog/catalog.ts";
import { getLakeState } from "../catalog/lake.ts";
import { FloeError } from "../errors.ts";
import type { ManifestFile } from "../iceberg/manifest.ts";
import type { ManifestEntry } from "../iceberg/manifest-read.ts";
import { bucketOf, readManifest, readManifestList } from "../iceberg/manifest-read.ts";
import { readLakeObject, readMetadata } from "../lake/objects.ts";
import { bucketOffsetsOf } from "../iceberg/metadata.ts";
import { mapLimited } from "./read-ahead.ts";

export interface LakeFile extends ManifestEntry {
  bucket: number;
}

export interface LakeSnapshot {
  /** Null when nothing has been tiered yet. */
  snapshotId: number | null;
  bucketOffsets: Record<string, number>;
  files: LakeFile[];
}

/** The table's current snapshot, from the catalog (no manifest list read; the metadata JSON only for state kept before migration 0005). */
export async function currentSnapshot(env: Env, table: TableEntry): Promise<LakeSnapshot> {
  const state = await getLakeState(env.CATALOG, table.tableId);
  if (!state) return { snapshotId: null, bucketOffsets: {}, files: [] };
  const snapshotId = state.snapshotId ?? (await readMetadata(env, state.metadataLocation))["current-snapshot-id"]!;
  return { snapshotId, bucketOffsets: state.bucketOffsets, files: await filesOf(env, state.manifests) };
}

/** An older (or the current) snapshot by id, for time travel. */
export async function snapshotById(env: Env, table: TableEntry, snapshotId: number): Promise<LakeSnapshot> {
  const state = await getLakeState(env.CATALOG, table.tableId);
  const metadata = state && (await readMetadata(env, state.metadataLocation));
  const snapshot = metadata?.snapshots.find((s) => s["snapshot-id"] === snapshotId);
  if (!snapshot) throw FloeError.notFound(`table ${table.database}.${table.name} has no lake snapshot ${snapshotId}`);
  const manifests = readManifestList(await readLakeObject(env, snapshot["manifest-list"]));
  return { snapshotId, bucketOffsets: bucketOffsetsOf(snapshot), files: await filesOf(env, manifests) };
}

/** Manifests read from R2 at once. */
const manifestReadsAtOnce = 16;

async function filesOf(env: Env, manifests: readonly ManifestFile[]): Promise<LakeFile[]> {
  const entries = await mapLimited(manifests, manifestReadsAtOnce, (manifest) => manifestEntries(env, manifest));
  return entries.flat().map((entry) => ({ ...entry, bucket: bucketOf(entry) }));
}

/**
 * Manifests never change once written, so each isolate keeps the latest ones
 * it decoded, up to a number of file entries in all (oldest dropped first).
 */
const manifestCache = new Map<string, ManifestEntry[]>();
const manifestCacheEntriesMax = 200_000;
let manifestCacheEntries = 0;

async function manifestEntries(env: Env, manifest: ManifestFile): Promise<ManifestEntry[]> {
  const cached = manifestCache.get(manifest.path);
  if (cached) return cached;
  const entries = readManifest(await readLakeObject(env, manifest.path), manifest);
  manifestCache.set(manifest.path, entries);
  manifestCacheEntries += entries.length;
  for (const [path, evicted] of manifestCache) {
    if (manifestCacheEntries <= manifestCacheEntriesMax) break;
    manifestCache.delete(path);
    manifestCacheEntries -= evicted.length;
  }
  return entries;
}
