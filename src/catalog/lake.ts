/**
 * A table's lake state in the catalog: the current Iceberg metadata
 * location and snapshot id, the manifests of the current snapshot and the
 * offset tiered per bucket. A commit is a compare-and-swap on `version`, so of two tiering
 * runs racing on one table exactly one wins.
 */
import type { ManifestFile } from "../iceberg/manifest.ts";
import * as queries from "./queries.ts";

export interface LakeState {
  metadataLocation: string;
  /** The current snapshot; null only for state committed before it was kept here (see migration 0005). */
  snapshotId: number | null;
  version: number;
  manifests: ManifestFile[];
  /** Per bucket, the exclusive end offset the current snapshot holds. */
  bucketOffsets: Record<string, number>;
  /** When the state last changed (a commit). */
  updatedAtMs?: number;
}

type StoredManifest = Omit<ManifestFile, "partitions"> & {
  partitions: { containsNull: boolean; containsNan?: boolean; lowerBound?: number[]; upperBound?: number[] }[];
};

export async function getLakeState(db: D1Database, tableId: string): Promise<LakeState | null> {
  const row = await queries.selectLake(db, tableId);
  if (!row) return null;
  const manifests = (JSON.parse(row.manifests) as StoredManifest[]).map((m) => ({
    ...m,
    partitions: m.partitions.map((p) => ({
      ...p,
      lowerBound: p.lowerBound && Uint8Array.from(p.lowerBound),
      upperBound: p.upperBound && Uint8Array.from(p.upperBound),
    })),
  }));
  return {
    metadataLocation: row.metadataLocation,
    snapshotId: row.snapshotId,
    version: row.version,
    manifests,
    bucketOffsets: JSON.parse(row.bucketOffsets),
    updatedAtMs: row.updatedAtMs,
  };
}

/** Stores `next` if the stored version is still `expectedVersion` (0 when the table has none yet). */
export async function commitLakeState(db: D1Database, tableId: string, expectedVersion: number, next: LakeState): Promise<boolean> {
  const manifests: StoredManifest[] = next.manifests.map((m) => ({
    ...m,
    partitions: m.partitions.map((p) => ({
      ...p,
      lowerBound: p.lowerBound && [...p.lowerBound],
      upperBound: p.upperBound && [...p.upperBound],
    })),
  }));
  return queries.swapLake(db, {
    tableId,
    metadataLocation: next.metadataLocation,
    snapshotId: next.snapshotId,
    version: next.version,
    manifests: JSON.stringify(manifests),
    bucketOffsets: JSON.stringify(next.bucketOffsets),
    updatedAtMs: Date.now(),
  }, expectedVersion);
}
