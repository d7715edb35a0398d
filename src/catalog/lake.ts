/**
 * A table's lake state in the catalog: the current Iceberg metadata
 * location, snapshot id and the offset tiered per bucket; only what a
 * commit needs to compare and swap, so the row's size never grows with the
 * number of rounds (the current snapshot's manifests are in its manifest
 * list in R2). A commit is a compare-and-swap on `version`, so of two
 * commits racing on one table exactly one wins.
 */
import * as queries from "./queries.ts";

export interface LakeState {
  metadataLocation: string;
  /** The current snapshot; null only for state committed before it was kept here (see migration 0005). */
  snapshotId: number | null;
  version: number;
  /** Per bucket, the exclusive end offset the current snapshot holds. */
  bucketOffsets: Record<string, number>;
  /** When the state last changed (a commit). */
  updatedAtMs?: number;
}

export async function getLakeState(db: D1Database, tableId: string): Promise<LakeState | null> {
  const row = await queries.selectLake(db, tableId);
  if (!row) return null;
  return {
    metadataLocation: row.metadataLocation,
    snapshotId: row.snapshotId,
    version: row.version,
    bucketOffsets: JSON.parse(row.bucketOffsets),
    updatedAtMs: row.updatedAtMs,
  };
}

/** Stores `next` if the stored version is still `expectedVersion` (0 when the table has none yet). */
export async function commitLakeState(db: D1Database, tableId: string, expectedVersion: number, next: LakeState): Promise<boolean> {
  return queries.swapLake(db, {
    tableId,
    metadataLocation: next.metadataLocation,
    snapshotId: next.snapshotId,
    version: next.version,
    bucketOffsets: JSON.stringify(next.bucketOffsets),
    updatedAtMs: Date.now(),
  }, expectedVersion);
}
