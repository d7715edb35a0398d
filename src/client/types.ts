/**
 * The JSON the API answers, as the client hands it back (docs/http-api.md).
 * Rows are plain objects in each type's JSON spelling (docs/types.md).
 */
export type Row = Record<string, unknown>;

export interface ColumnDefinition {
  name: string;
  /** A Floe type: BOOLEAN, TINYINT, SMALLINT, INT, BIGINT, FLOAT, DOUBLE, DECIMAL(p,s), STRING, BYTES, DATE, TIME, TIMESTAMP(p), TIMESTAMP_LTZ(p). */
  type: string;
  nullable?: boolean;
}

/** What `PUT /v1/databases/{db}/tables/{table}` takes. */
export interface TableDefinition {
  columns: ColumnDefinition[];
  primaryKey?: string[];
  /** STRING columns whose values name a row's partition (docs/partitions.md). */
  partitionKeys?: string[];
  bucket?: { num: number; key?: string[] };
  properties?: Record<string, string>;
}

export interface TableSummary {
  database: string;
  name: string;
  tableId: string;
  createdAt: string;
  columns: (ColumnDefinition & { id: number; nullable: boolean })[];
  primaryKey: string[];
  partitionKeys: string[];
  bucket: { num: number; key: string[] };
  properties: Record<string, string>;
}

export interface BucketStatus {
  bucket: number;
  logStartOffset: number;
  tieredOffset: number;
  highWatermark: number;
}

export interface TableDescription extends TableSummary {
  /** Empty for a partitioned table: its buckets are its partitions' (`Table.partitions`). */
  buckets: BucketStatus[];
  /** A partitioned table's partition count. */
  partitionCount?: number;
  /** A partitioned table's first 100 partitions. */
  partitions?: PartitionSummary[];
  /** The current lake snapshot's summary, or null when nothing was tiered. */
  lakeSnapshot: Record<string, unknown> | null;
}

/** A partition of a partitioned table (docs/partitions.md). */
export interface PartitionSummary {
  /** Its spec, `key=value` pairs in key order joined with `/`, e.g. `region=eu/dt=20261130`. */
  partition: string;
  /** Unique forever: a partition dropped and created again gets a new one. */
  partitionId: number;
  values: Record<string, string>;
  createdAt: string;
}

export interface PartitionStatus extends PartitionSummary {
  buckets: BucketStatus[];
}

/** One answer of the partition list: its last partition may continue in the next (`next`, as `cursor`), with the rest of its buckets. */
export interface PartitionPage {
  partitions: PartitionStatus[];
  /** Where the next answer starts, or null after the last partition. */
  next: string | null;
}

export interface WriteResult {
  buckets: { partition?: string; bucket: number; baseOffset: number; count: number; duplicate?: boolean }[];
}

export interface LogPage {
  /** The partition read, for a partitioned table. */
  partition?: string;
  bucket: number;
  logStartOffset: number;
  highWatermark: number;
  /** Where the next read continues, with no gap. */
  nextOffset: number;
  rows: Row[];
}

export interface Snapshot {
  snapshotId: number;
  sequenceNumber: number;
  timestamp: string;
  operation: string;
  /** Each bucket's exclusive end offset in the lake. */
  bucketOffsets: Record<string, number>;
  addedDataFiles: number;
  addedRecords: number;
  totalDataFiles: number;
  totalDeleteFiles: number;
  totalRecords: number;
  totalBytes: number;
}

export interface Snapshots {
  lake: Record<string, unknown> | null;
  snapshots: Snapshot[];
}

export interface TieringResult {
  tables: ({ table: string; kind: string } & Record<string, unknown>)[];
}

export interface Health {
  status: string;
  version: string;
  access: "open" | "tokens" | "unconfigured";
}

export interface TokenInfo {
  id: string;
  name: string;
  scopes: string[];
  createdAt: string;
}

/** A new token: its secret is shown only here. */
export interface CreatedToken extends TokenInfo {
  token: string;
}
