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
import type { ManifestEntry } from "../iceberg/manifest-read.ts";
import { bucketOf } from "../iceberg/manifest-read.ts";
import type { Snapshot, TableMetadata } from "../iceberg/metadata.ts";
import { bucketOffsetsOf } from "../iceberg/metadata.ts";
import { filesOf, metadataAt } from "../lake/snapshots.ts";

export interface LakeFile extends ManifestEntry {
  bucket: number;
}

export interface LakeSnapshot {
  /** Null when nothing has been tiered yet. */
  snapshotId: number | null;
  bucketOffsets: Record<string, number>;
  files: LakeFile[];
}

/** The table's current snapshot, from the catalog's pointer to its metadata. */
export async function currentSnapshot(env: Env, table: TableEntry): Promise<LakeSnapshot> {
  const state = await getLakeState(env.CATALOG, table.tableId);
  if (!state) return { snapshotId: null, bucketOffsets: {}, files: [] };
  const metadata = await metadataAt(env, state.metadataLocation);
  const snapshotId = state.snapshotId ?? metadata["current-snapshot-id"]!;
  return lakeSnapshot(env, snapshotOf(metadata, snapshotId)!, state.bucketOffsets);
}

/** An older (or the current) snapshot by id, for time travel; `gone` once it has expired. */
export async function snapshotById(env: Env, table: TableEntry, snapshotId: number): Promise<LakeSnapshot> {
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
  return lakeSnapshot(env, snapshot, bucketOffsetsOf(snapshot));
}

function snapshotOf(metadata: TableMetadata, snapshotId: number): Snapshot | undefined {
  return metadata.snapshots.find((s) => s["snapshot-id"] === snapshotId);
}

async function lakeSnapshot(env: Env, snapshot: Snapshot, bucketOffsets: Record<string, number>): Promise<LakeSnapshot> {
  const files = await filesOf(env, snapshot);
  return { snapshotId: snapshot["snapshot-id"], bucketOffsets, files: files.map((entry) => ({ ...entry, bucket: bucketOf(entry) })) };
}
