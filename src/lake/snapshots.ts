/**
 * A lake snapshot's files, read the way any Iceberg reader finds them:
 * metadata JSON → manifest list → manifests. Every one of those objects is
 * immutable once written, so each isolate keeps the ones it decoded (the
 * manifests up to a number of file entries in all, oldest dropped first).
 */
import type { ManifestFile } from "../iceberg/manifest.ts";
import type { ManifestEntry } from "../iceberg/manifest-read.ts";
import { readManifest, readManifestList } from "../iceberg/manifest-read.ts";
import type { Snapshot, TableMetadata } from "../iceberg/metadata.ts";
import { mapLimited } from "../read-ahead.ts";
import { readBound } from "../iceberg/metrics.ts";
import { systemColumns } from "../iceberg/schema.ts";
import { readLakeObject, readMetadata } from "./objects.ts";

/** Manifests read from R2 at once. */
const manifestReadsAtOnce = 16;
const cachedEntriesMax = 200_000;
const cachedListsMax = 64;
const cachedMetadataMax = 8;

const manifests = new Map<string, ManifestEntry[]>();
let cachedEntries = 0;
const manifestLists = new Map<string, ManifestFile[]>();
const metadataFiles = new Map<string, TableMetadata>();

/** The table metadata stored at `location`. */
export async function metadataAt(env: Env, location: string): Promise<TableMetadata> {
  return cached(metadataFiles, location, cachedMetadataMax, () => readMetadata(env, location));
}

/** The manifests of a snapshot, from its manifest list. */
export async function manifestsOf(env: Env, snapshot: Snapshot): Promise<ManifestFile[]> {
  const location = snapshot["manifest-list"];
  return cached(manifestLists, location, cachedListsMax, async () => readManifestList(await readLakeObject(env, location)));
}

/** The live entries of each manifest, in the manifests' order. */
export async function entriesOf(env: Env, list: readonly ManifestFile[]): Promise<ManifestEntry[][]> {
  return mapLimited(list, manifestReadsAtOnce, (manifest) => manifestEntries(env, manifest));
}

/**
 * Orders a bucket's data files as their rows were written: by their first
 * `__offset` (the manifest's lower bound), then by data sequence number.
 * (Files one compaction writes share a sequence number; their offsets do not overlap.)
 */
export function inOffsetOrder(a: ManifestEntry, b: ManifestEntry): number {
  const first = (entry: ManifestEntry) => {
    const bound = entry.lowerBounds.get(offsetFieldId);
    return bound ? readBound({ kind: "BIGINT" }, bound) as bigint : undefined;
  };
  const [x, y] = [first(a), first(b)];
  if (x !== undefined && y !== undefined && x !== y) return x < y ? -1 : 1;
  return a.dataSequenceNumber - b.dataSequenceNumber;
}

const offsetFieldId = systemColumns.find((c) => c.name === "__offset")!.id;

/** Every live data and delete file of a snapshot. */
export async function filesOf(env: Env, snapshot: Snapshot): Promise<ManifestEntry[]> {
  return (await entriesOf(env, await manifestsOf(env, snapshot))).flat();
}

async function manifestEntries(env: Env, manifest: ManifestFile): Promise<ManifestEntry[]> {
  const hit = manifests.get(manifest.path);
  if (hit) return hit;
  const entries = readManifest(await readLakeObject(env, manifest.path), manifest);
  manifests.set(manifest.path, entries);
  cachedEntries += entries.length;
  for (const [path, evicted] of manifests) {
    if (cachedEntries <= cachedEntriesMax) break;
    manifests.delete(path);
    cachedEntries -= evicted.length;
  }
  return entries;
}

async function cached<T>(cache: Map<string, T>, key: string, max: number, load: () => Promise<T>): Promise<T> {
  const hit = cache.get(key);
  if (hit !== undefined) return hit;
  const value = await load();
  cache.set(key, value);
  if (cache.size > max) cache.delete(cache.keys().next().value!);
  return value;
}
