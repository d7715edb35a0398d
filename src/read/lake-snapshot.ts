/**
 * The files of one lake snapshot and the per-Tablet offsets it reaches: the
 * lake half of a union read. For a partitioned table, the files a scan's
 * partition filter rules out are pruned first (`partition-pruning.ts`):
 * by the manifest list's partition summaries, then by the files' tuples.
 *
 * Invariant: a snapshot's data files of a Tablet (bucket b, of partition
 * p) hold exactly the rows of its log below `bucketOffsets[key(p, b)]`
 * (for a primary-key table, their merged state); the hot half of a read
 * continues from those offsets, so the two halves neither overlap nor
 * leave a gap.
 */
import type { TableEntry } from "../catalog/catalog.ts";
import { getLakeState } from "../catalog/lake.ts";
import { FloeError } from "../errors.ts";
import type { ManifestEntry } from "../iceberg/manifest-read.ts";
import { bucketOf } from "../iceberg/manifest-read.ts";
import type { Snapshot, TableMetadata } from "../iceberg/metadata.ts";
import { bucketOffsetsOf } from "../iceberg/metadata.ts";
import { entriesOf, manifestsOf, metadataAt } from "../lake/snapshots.ts";
import { partitionIdOf, partitionValuesOf } from "../lake/table-layout.ts";
import type { LakePruning } from "./partition-pruning.ts";

export interface LakeFile extends ManifestEntry {
  bucket: number;
  /** A partitioned table's: the id of the partition whose Tablet wrote the file (it may have been dropped since), and its values. */
  partitionId?: number;
  partitionValues: string[];
}

export interface LakeSnapshot {
  /** Null when nothing has been tiered yet. */
  snapshotId: number | null;
  /** Per Tablet (`tabletOffsetKey`), the exclusive end offset the snapshot holds. */
  bucketOffsets: Record<string, number>;
  files: LakeFile[];
  /** Manifests and files the pruning ruled out, unread. */
  pruned: { manifests: number; files: number };
}

/** The table's current snapshot, from the catalog's pointer to its metadata. */
export async function currentSnapshot(env: Env, table: TableEntry, pruning?: LakePruning): Promise<LakeSnapshot> {
  const state = await getLakeState(env.CATALOG, table.tableId);
  if (!state) return { snapshotId: null, bucketOffsets: {}, files: [], pruned: { manifests: 0, files: 0 } };
  const metadata = await metadataAt(env, state.metadataLocation);
  const snapshotId = state.snapshotId ?? metadata["current-snapshot-id"]!;
  return lakeSnapshot(env, table, snapshotOf(metadata, snapshotId)!, state.bucketOffsets, pruning);
}

/** An older (or the current) snapshot by id, for time travel; `gone` once it has expired. */
export async function snapshotById(env: Env, table: TableEntry, snapshotId: number, pruning?: LakePruning): Promise<LakeSnapshot> {
  const state = await getLakeState(env.CATALOG, table.tableId);
  const metadata = state && (await metadataAt(env, state.metadataLocation));
  const snapshot = metadata && snapshotOf(metadata, snapshotId);
  if (!snapshot) {
    const oldest = metadata?.snapshots[0];
    // Snapshot ids are random, so one the metadata does not hold was expired (or never existed): say what is left.
    if (oldest && oldest["parent-snapshot-id"] !== undefined) {
      throw new FloeError("gone", `table ${table.database}.${table.name} has no lake snapshot ${snapshotId}: it expired or never existed; the oldest still available is ${oldest["snapshot-id"]} (${new Date(oldest["timestamp-ms"]).toISOString()})`);
    }
    throw FloeError.notFound(`table ${table.database}.${table.name} has no lake snapshot ${snapshotId}`);
  }
  return lakeSnapshot(env, table, snapshot, bucketOffsetsOf(snapshot), pruning);
}

function snapshotOf(metadata: TableMetadata, snapshotId: number): Snapshot | undefined {
  return metadata.snapshots.find((s) => s["snapshot-id"] === snapshotId);
}

async function lakeSnapshot(env: Env, table: TableEntry, snapshot: Snapshot, bucketOffsets: Record<string, number>, pruning?: LakePruning): Promise<LakeSnapshot> {
  const manifests = await manifestsOf(env, snapshot);
  const read = pruning ? manifests.filter((m) => pruning.manifest(m)) : manifests;
  const entries = (await entriesOf(env, read)).flat();
  const files = entries.map((entry): LakeFile => {
    const partitionId = partitionIdOf(entry.path);
    return { ...entry, bucket: bucketOf(entry), ...(partitionId === undefined ? {} : { partitionId }), partitionValues: partitionValuesOf(table.definition, entry) };
  });
  const kept = pruning ? files.filter((f) => pruning.file(f.partitionValues)) : files;
  return { snapshotId: snapshot["snapshot-id"], bucketOffsets, files: kept, pruned: { manifests: manifests.length - read.length, files: files.length - kept.length } };
}
