/**
 * Reading manifest lists and manifests: the reader half of `manifest.ts`.
 *
 * Invariant: a live entry's data sequence number is its own when written,
 * else inherited from the manifest that added it (spec: "sequence number
 * inheritance"); entries with status DELETED are not returned, so what comes
 * back is exactly the snapshot's files.
 */
import { readContainer } from "./avro-read.ts";
import type { ManifestEntryRecord, ManifestFile } from "./manifest.ts";
import { entryStatus } from "./manifest.ts";

/** What a file holds (the spec's `content` field). */
export const fileContent = { data: 0, positionDeletes: 1, equalityDeletes: 2 } as const;

/** A data or delete file as one snapshot sees it. */
export interface ManifestEntry {
  /** The entry as the manifest holds it, numbers resolved: what a rewritten manifest carries on. */
  record: ManifestEntryRecord;
  content: (typeof fileContent)[keyof typeof fileContent];
  path: string;
  recordCount: number;
  fileSizeInBytes: number;
  partition: Record<string, unknown>;
  dataSequenceNumber: number;
  valueCounts: Map<number, number>;
  nullCounts: Map<number, number>;
  lowerBounds: Map<number, Uint8Array>;
  upperBounds: Map<number, Uint8Array>;
  equalityIds: number[];
}

type Pair<T> = { key: number; value: T };


export function readManifestList(bytes: Uint8Array): ManifestFile[] {
  return readContainer(bytes).records.map((record) => {
    const r = record as Record<string, unknown>;
    const partitions = (r.partitions as Record<string, unknown>[] | null) ?? [];
    return {
      path: r.manifest_path as string,
      length: Number(r.manifest_length),
      specId: Number(r.partition_spec_id),
      content: Number(r.content) as 0 | 1,
      sequenceNumber: Number(r.sequence_number),
      minSequenceNumber: Number(r.min_sequence_number),
      addedSnapshotId: Number(r.added_snapshot_id),
      addedFiles: Number(r.added_files_count),
      existingFiles: Number(r.existing_files_count),
      deletedFiles: Number(r.deleted_files_count),
      addedRows: Number(r.added_rows_count),
      existingRows: Number(r.existing_rows_count),
      deletedRows: Number(r.deleted_rows_count),
      partitions: partitions.map((p) => ({
        containsNull: p.contains_null as boolean,
        containsNan: (p.contains_nan as boolean | null) ?? undefined,
        lowerBound: (p.lower_bound as Uint8Array | null) ?? undefined,
        upperBound: (p.upper_bound as Uint8Array | null) ?? undefined,
      })),
    };
  });
}

/** The live entries of a manifest, with sequence numbers resolved against the manifest list's `manifest`. */
export function readManifest(bytes: Uint8Array, manifest: ManifestFile): ManifestEntry[] {
  const entries: ManifestEntry[] = [];
  for (const record of readContainer(bytes).records) {
    const entry = record as ManifestEntryRecord;
    if (entry.status === entryStatus.deleted) continue;
    const file = entry.data_file;
    // Inherited numbers are made explicit, so the entry can be carried into another manifest as it is.
    const resolved: ManifestEntryRecord = {
      ...entry,
      snapshot_id: entry.snapshot_id ?? manifest.addedSnapshotId,
      sequence_number: entry.sequence_number ?? manifest.sequenceNumber,
      file_sequence_number: entry.file_sequence_number ?? manifest.sequenceNumber,
    };
    entries.push({
      record: resolved,
      content: Number(file.content) as 0 | 1 | 2,
      path: file.file_path as string,
      recordCount: Number(file.record_count),
      fileSizeInBytes: Number(file.file_size_in_bytes),
      partition: file.partition as Record<string, unknown>,
      dataSequenceNumber: Number(resolved.sequence_number),
      valueCounts: numberMap(file.value_counts),
      nullCounts: numberMap(file.null_value_counts),
      lowerBounds: bytesMap(file.lower_bounds),
      upperBounds: bytesMap(file.upper_bounds),
      equalityIds: ((file.equality_ids as number[] | null) ?? []).map(Number),
    });
  }
  return entries;
}

function numberMap(pairs: unknown): Map<number, number> {
  return new Map(((pairs as Pair<number>[] | null) ?? []).map((p) => [Number(p.key), Number(p.value)]));
}

function bytesMap(pairs: unknown): Map<number, Uint8Array> {
  return new Map(((pairs as Pair<Uint8Array>[] | null) ?? []).map((p) => [Number(p.key), p.value]));
}

/**
 * The Floe bucket of a file: its last partition value. Floe's specs end
 * with the bucket field (`bucket[N]` of the bucket key, or
 * `identity(__bucket)`), after a partitioned table's identity fields.
 */
export function bucketOf(entry: ManifestEntry): number {
  return Number(Object.values(entry.partition).at(-1));
}
