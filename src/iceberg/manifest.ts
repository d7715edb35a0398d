/**
 * Iceberg v2 manifests and manifest lists as Avro records, with the spec's
 * field ids and header keys.
 *
 * Invariants: entries added by a commit carry null snapshot id and sequence
 * numbers, so they inherit both from the manifest list; entries carried
 * into a rewritten manifest (EXISTING, DELETED) carry their own, explicitly.
 * Only data and equality-delete files carry a sort order id; a position
 * delete file's is null, as the spec requires.
 */
import type { AvroSchema } from "./avro.ts";
import { writeContainer } from "./avro.ts";
import type { ColumnMetrics } from "./metrics.ts";
import type { IcebergSchema } from "./schema.ts";

/** A partition field of the table's spec, with the Avro type of its transform's result. */
export interface PartitionField {
  sourceId: number;
  fieldId: number;
  name: string;
  transform: string;
  resultType: AvroSchema;
}

export interface DataFile {
  /** 0 data, 1 position deletes, 2 equality deletes. */
  content: 0 | 1 | 2;
  path: string;
  recordCount: number;
  fileSizeInBytes: number;
  partition: Record<string, number | bigint | string | null>;
  /** Per field id. */
  metrics: Map<number, FileMetrics>;
  equalityIds?: number[];
  /** Where each row group starts, ascending. */
  splitOffsets?: number[];
  /** The table sort order the file's rows follow (data and equality-delete files only). */
  sortOrderId?: number;
}

/** What a manifest records about one column of a file. */
export type FileMetrics = ColumnMetrics & { columnSize?: number };

/** One manifest, as the manifest list describes it. */
export interface ManifestFile {
  path: string;
  length: number;
  specId: number;
  /** 0 data, 1 deletes. */
  content: 0 | 1;
  sequenceNumber: number;
  minSequenceNumber: number;
  addedSnapshotId: number;
  addedFiles: number;
  existingFiles: number;
  deletedFiles: number;
  addedRows: number;
  existingRows: number;
  deletedRows: number;
  /** One summary per partition field of the spec, in spec order (none for an unpartitioned spec). */
  partitions: { containsNull: boolean; containsNan?: boolean; lowerBound?: Uint8Array; upperBound?: Uint8Array }[];
}

const optional = (type: AvroSchema, fieldId: number, name: string) => ({ name, type: ["null", type], default: null, "field-id": fieldId });
const intMap = (fieldId: number, name: string, keyId: number, valueId: number, value: "long" | "bytes") =>
  optional(
    { type: "array", logicalType: "map", items: { type: "record", name: `k${keyId}_v${valueId}`, fields: [
      { name: "key", type: "int", "field-id": keyId },
      { name: "value", type: value, "field-id": valueId },
    ] } },
    fieldId,
    name,
  );

function manifestEntrySchema(partitionFields: readonly PartitionField[]): AvroSchema {
  return {
    type: "record",
    name: "manifest_entry",
    fields: [
      { name: "status", type: "int", "field-id": 0 },
      optional("long", 1, "snapshot_id"),
      optional("long", 3, "sequence_number"),
      optional("long", 4, "file_sequence_number"),
      {
        name: "data_file",
        "field-id": 2,
        type: {
          type: "record",
          name: "r2",
          fields: [
            { name: "content", type: "int", "field-id": 134 },
            { name: "file_path", type: "string", "field-id": 100 },
            { name: "file_format", type: "string", "field-id": 101 },
            {
              name: "partition",
              "field-id": 102,
              type: { type: "record", name: "r102", fields: partitionFields.map((p) => optional(p.resultType, p.fieldId, p.name)) },
            },
            { name: "record_count", type: "long", "field-id": 103 },
            { name: "file_size_in_bytes", type: "long", "field-id": 104 },
            intMap(108, "column_sizes", 117, 118, "long"),
            intMap(109, "value_counts", 119, 120, "long"),
            intMap(110, "null_value_counts", 121, 122, "long"),
            intMap(137, "nan_value_counts", 138, 139, "long"),
            intMap(125, "lower_bounds", 126, 127, "bytes"),
            intMap(128, "upper_bounds", 129, 130, "bytes"),
            optional("bytes", 131, "key_metadata"),
            optional({ type: "array", items: "long", "element-id": 133 }, 132, "split_offsets"),
            optional({ type: "array", items: "int", "element-id": 136 }, 135, "equality_ids"),
            optional("int", 140, "sort_order_id"),
          ],
        },
      },
    ],
  };
}

const manifestFileSchema: AvroSchema = {
  type: "record",
  name: "manifest_file",
  fields: [
    { name: "manifest_path", type: "string", "field-id": 500 },
    { name: "manifest_length", type: "long", "field-id": 501 },
    { name: "partition_spec_id", type: "int", "field-id": 502 },
    { name: "content", type: "int", "field-id": 517 },
    { name: "sequence_number", type: "long", "field-id": 515 },
    { name: "min_sequence_number", type: "long", "field-id": 516 },
    { name: "added_snapshot_id", type: "long", "field-id": 503 },
    { name: "added_files_count", type: "int", "field-id": 504 },
    { name: "existing_files_count", type: "int", "field-id": 505 },
    { name: "deleted_files_count", type: "int", "field-id": 506 },
    { name: "added_rows_count", type: "long", "field-id": 512 },
    { name: "existing_rows_count", type: "long", "field-id": 513 },
    { name: "deleted_rows_count", type: "long", "field-id": 514 },
    optional({ type: "array", "element-id": 508, items: { type: "record", name: "r508", fields: [
      { name: "contains_null", type: "boolean", "field-id": 509 },
      optional("boolean", 518, "contains_nan"),
      optional("bytes", 510, "lower_bound"),
      optional("bytes", 511, "upper_bound"),
    ] } }, 507, "partitions"),
  ],
};

/** A manifest entry's status (the spec's `status` field). */
export const entryStatus = { existing: 0, added: 1, deleted: 2 } as const;

/** One manifest entry as Avro holds it; `data_file` is a record of the schema below (decoded ones are written back as read). */
export interface ManifestEntryRecord {
  status: (typeof entryStatus)[keyof typeof entryStatus];
  snapshot_id: number | bigint | null;
  sequence_number: number | bigint | null;
  file_sequence_number: number | bigint | null;
  data_file: Record<string, unknown>;
}

/** The entry of a file added by the manifest's own snapshot: snapshot id and sequence numbers are inherited. */
export function addedEntry(file: DataFile): ManifestEntryRecord {
  return { status: entryStatus.added, snapshot_id: null, sequence_number: null, file_sequence_number: null, data_file: dataFileRecord(file) };
}

/** The `data_file` record of a file Floe wrote. */
export function dataFileRecord(file: DataFile): Record<string, unknown> {
  if (file.content === 1 && file.sortOrderId !== undefined) {
    throw new Error(`manifest: position delete file ${file.path} has sort order ${file.sortOrderId}; it must have none`);
  }
  return {
    content: file.content,
    file_path: file.path,
    file_format: "PARQUET",
    partition: file.partition,
    record_count: file.recordCount,
    file_size_in_bytes: file.fileSizeInBytes,
    ...Object.fromEntries(Object.entries(metricFields).map(([field, pick]) => [field, metricMap(file, pick)])),
    key_metadata: null,
    split_offsets: file.splitOffsets ?? null,
    equality_ids: file.equalityIds ?? null,
    sort_order_id: file.sortOrderId ?? null,
  };
}

/** A manifest of data or delete files of one partition spec. */
export function writeManifest(options: {
  schema: IcebergSchema;
  specId: number;
  partitionFields: readonly PartitionField[];
  content: "data" | "deletes";
  entries: readonly ManifestEntryRecord[];
}): Uint8Array {
  return writeContainer(manifestEntrySchema(options.partitionFields), options.entries, {
    schema: JSON.stringify(options.schema),
    "schema-id": String(options.schema["schema-id"]),
    "partition-spec": JSON.stringify(options.partitionFields.map((p) => ({
      name: p.name, transform: p.transform, "source-id": p.sourceId, "field-id": p.fieldId,
    }))),
    "partition-spec-id": String(options.specId),
    "format-version": "2",
    content: options.content,
  });
}

/** The manifest's per-field-id metric maps, and which metric each holds. */
const metricFields: Record<string, (m: FileMetrics) => number | Uint8Array | undefined> = {
  column_sizes: (m) => m.columnSize,
  value_counts: (m) => m.valueCount,
  null_value_counts: (m) => m.nullCount,
  nan_value_counts: (m) => m.nanCount,
  lower_bounds: (m) => m.lowerBound,
  upper_bounds: (m) => m.upperBound,
};

function metricMap<T>(file: DataFile, pick: (m: FileMetrics) => T | undefined): { key: number; value: T }[] {
  const out: { key: number; value: T }[] = [];
  for (const [key, metrics] of file.metrics) {
    const value = pick(metrics);
    if (value !== undefined) out.push({ key, value });
  }
  return out;
}

/** The manifest list of one snapshot. */
export function writeManifestList(options: {
  snapshotId: number;
  parentSnapshotId: number | null;
  sequenceNumber: number;
  manifests: readonly ManifestFile[];
}): Uint8Array {
  const records = options.manifests.map((m) => ({
    manifest_path: m.path,
    manifest_length: m.length,
    partition_spec_id: m.specId,
    content: m.content,
    sequence_number: m.sequenceNumber,
    min_sequence_number: m.minSequenceNumber,
    added_snapshot_id: m.addedSnapshotId,
    added_files_count: m.addedFiles,
    existing_files_count: m.existingFiles,
    deleted_files_count: m.deletedFiles,
    added_rows_count: m.addedRows,
    existing_rows_count: m.existingRows,
    deleted_rows_count: m.deletedRows,
    partitions: m.partitions.map((p) => ({
      contains_null: p.containsNull,
      contains_nan: p.containsNan ?? null,
      lower_bound: p.lowerBound ?? null,
      upper_bound: p.upperBound ?? null,
    })),
  }));
  return writeContainer(manifestFileSchema, records, {
    "snapshot-id": String(options.snapshotId),
    "parent-snapshot-id": options.parentSnapshotId === null ? "null" : String(options.parentSnapshotId),
    "sequence-number": String(options.sequenceNumber),
    "format-version": "2",
  });
}
