/**
 * Iceberg v2 table metadata (the `*.metadata.json` files): creating it for
 * a table and adding a snapshot, as pure functions over the spec's JSON.
 *
 * Invariants: `table-uuid` never changes; sequence numbers only grow;
 * `current-snapshot-id` and `refs.main` always agree; snapshot and metadata
 * logs stay ordered by time; ids stay below 2^53 so JSON readers keep them
 * exact.
 */
import type { PartitionField } from "./manifest.ts";
import type { IcebergSchema } from "./schema.ts";
import { lastColumnId } from "./schema.ts";

export interface Snapshot {
  "snapshot-id": number;
  "parent-snapshot-id"?: number;
  "sequence-number": number;
  "timestamp-ms": number;
  "manifest-list": string;
  summary: Record<string, string> & { operation: "append" | "replace" | "overwrite" | "delete" };
  "schema-id": number;
}

export interface TableMetadata {
  "format-version": 2;
  "table-uuid": string;
  location: string;
  "last-sequence-number": number;
  "last-updated-ms": number;
  "last-column-id": number;
  schemas: IcebergSchema[];
  "current-schema-id": number;
  "partition-specs": { "spec-id": number; fields: { name: string; transform: string; "source-id": number; "field-id": number }[] }[];
  "default-spec-id": number;
  "last-partition-id": number;
  "sort-orders": { "order-id": number; fields: { transform: string; "source-id": number; direction: "asc" | "desc"; "null-order": "nulls-first" | "nulls-last" }[] }[];
  "default-sort-order-id": number;
  properties: Record<string, string>;
  "current-snapshot-id"?: number;
  refs: Record<string, { "snapshot-id": number; type: "branch" | "tag" }>;
  snapshots: Snapshot[];
  "snapshot-log": { "timestamp-ms": number; "snapshot-id": number }[];
  "metadata-log": { "timestamp-ms": number; "metadata-file": string }[];
}

/** The snapshot summary key holding, as JSON, each bucket's exclusive end offset the snapshot reaches. */
export const bucketOffsetsSummaryKey = "floe.bucket-offsets";

/** Snapshot summary keys carrying, from commit to commit, when the table was last compacted and last expired snapshots (epoch ms). */
export const maintenanceSummaryKeys = { lastCompactionMs: "floe.last-compaction-ms", lastExpiryMs: "floe.last-expiry-ms" } as const;

/** A snapshot's per-bucket end offsets (none for a snapshot Floe did not commit). */
export function bucketOffsetsOf(snapshot: Snapshot): Record<string, number> {
  return JSON.parse(snapshot.summary[bucketOffsetsSummaryKey] ?? "{}") as Record<string, number>;
}

/** The sort order every table has as its default: `__offset` ascending, the order rows are written in. */
export const defaultSortOrderId = 1;

/** Partition field ids start here, as Iceberg's do; an unpartitioned table's last id is one below. */
export const firstPartitionFieldId = 1000;

export function newTableMetadata(options: {
  tableUuid: string;
  location: string;
  schema: IcebergSchema;
  partitionFields: readonly PartitionField[];
  /** Field id the default sort order sorts by, ascending. */
  sortFieldId: number;
  nowMs: number;
}): TableMetadata {
  const { schema } = options;
  return {
    "format-version": 2,
    "table-uuid": options.tableUuid,
    location: options.location.replace(/\/+$/, ""),
    "last-sequence-number": 0,
    "last-updated-ms": options.nowMs,
    "last-column-id": lastColumnId(schema),
    schemas: [schema],
    "current-schema-id": schema["schema-id"],
    "partition-specs": [{
      "spec-id": 0,
      fields: options.partitionFields.map((p) => ({ name: p.name, transform: p.transform, "source-id": p.sourceId, "field-id": p.fieldId })),
    }],
    "default-spec-id": 0,
    "last-partition-id": Math.max(firstPartitionFieldId - 1, ...options.partitionFields.map((p) => p.fieldId)),
    "sort-orders": [
      { "order-id": 0, fields: [] },
      { "order-id": defaultSortOrderId, fields: [{ transform: "identity", "source-id": options.sortFieldId, direction: "asc", "null-order": "nulls-first" }] },
    ],
    "default-sort-order-id": defaultSortOrderId,
    properties: {
      "write.parquet.compression-codec": "snappy",
      // Lets readers map Parquet columns by name should a file ever lack field ids.
      "schema.name-mapping.default": JSON.stringify(schema.fields.map((f) => ({ "field-id": f.id, names: [f.name] }))),
    },
    refs: {},
    snapshots: [],
    "snapshot-log": [],
    "metadata-log": [],
  };
}

/**
 * The metadata after committing one snapshot on top of `metadata`, which was
 * stored at `metadataLocation`. The snapshot gets the next sequence number.
 */
export function withSnapshot(
  metadata: TableMetadata,
  metadataLocation: string | null,
  snapshot: Omit<Snapshot, "sequence-number" | "parent-snapshot-id" | "timestamp-ms" | "schema-id">,
  nowMs: number,
): TableMetadata {
  const timestampMs = Math.max(nowMs, metadata["last-updated-ms"] + 1);
  const sequenceNumber = metadata["last-sequence-number"] + 1;
  const parent = metadata["current-snapshot-id"];
  const added: Snapshot = {
    "snapshot-id": snapshot["snapshot-id"],
    ...(parent === undefined ? {} : { "parent-snapshot-id": parent }),
    "sequence-number": sequenceNumber,
    "timestamp-ms": timestampMs,
    "manifest-list": snapshot["manifest-list"],
    summary: snapshot.summary,
    "schema-id": metadata["current-schema-id"],
  };
  return {
    ...metadata,
    "last-sequence-number": sequenceNumber,
    "last-updated-ms": timestampMs,
    "current-snapshot-id": added["snapshot-id"],
    refs: { ...metadata.refs, main: { "snapshot-id": added["snapshot-id"], type: "branch" } },
    snapshots: [...metadata.snapshots, added],
    "snapshot-log": [...metadata["snapshot-log"], { "timestamp-ms": timestampMs, "snapshot-id": added["snapshot-id"] }],
    "metadata-log": metadataLocation === null
      ? metadata["metadata-log"]
      : [...metadata["metadata-log"], { "timestamp-ms": metadata["last-updated-ms"], "metadata-file": metadataLocation }],
  };
}

/** A random snapshot id in [1, 2^53), exact in every JSON reader. */
export function newSnapshotId(): number {
  const [high, low] = crypto.getRandomValues(new Uint32Array(2));
  return ((high! & 0x1fffff) * 2 ** 32 + low!) || 1;
}
