/**
 * The Tablet's contract: every RPC method's arguments and results, the only
 * thing outside `tablet/` may know of a Tablet besides its stub.
 *
 * Rows cross this boundary in one public form: Arrow IPC streams of the
 * table's column types (`log/page.ts` for the log), never the Tablet's
 * storage forms. Expected outcomes are tagged results; a Tablet whose table
 * was dropped answers `{ kind: "dropped" }` to every call.
 */
import type { LogFrames } from "../log/frames.ts";
import type { LogPageWire } from "../log/page.ts";
import type { ColumnSpec } from "../table/schema.ts";
import type { PredicateOp } from "../table/predicate.ts";
import type { Scalar } from "../table/values.ts";

/** Every call to a dropped table's Tablet answers this. */
export type Dropped = { kind: "dropped" };

export interface WriterSeq {
  id: string;
  seq: number;
}

/** How long a bucket keeps its log (`table.log.ttl`), and whether only what the lake holds may go. */
export interface Retention {
  ttlMs: number;
  /** True for lake tables: log data is dropped only once tiered, whatever its age. */
  keepUntiered: boolean;
}

/** What a Tablet needs to know of a primary-key table to apply writes and read rows; sent with every such call. */
export interface PrimaryKeySpec {
  /** The table's columns, in table order. */
  columns: ColumnSpec[];
  /** Key columns in kv-key order: the bucket key first, then the rest of the primary key. */
  keyOrder: string[];
  mergeEngine: "last_row" | "first_row" | "versioned";
  versionColumn?: string;
  changelogImage: "full" | "wal";
}

export interface PrimaryKeyWrite extends PrimaryKeySpec {
  op: "upsert" | "delete";
}

export interface AppendRequest extends LogFrames {
  writer?: WriterSeq;
  /** Present for primary-key tables: the frames hold input rows, and the log gets their changes. */
  primaryKey?: PrimaryKeyWrite;
  retention: Retention;
}

export type AppendResult =
  | { kind: "appended"; baseOffset: number; count: number }
  | { kind: "duplicate"; baseOffset: number; count: number }
  | { kind: "out_of_order"; lastSeq: number }
  | Dropped;

export interface ReadRequest {
  /** The first offset to read; `earliest` is the log start offset. */
  offset: number | "earliest";
  rowsMax: number;
  bytesMax: number;
  /** The columns to return, in order. */
  columns: ColumnSpec[];
  /**
   * Only rows satisfying every predicate (on any of the table's columns) are
   * returned; the page still covers every offset it read (`nextOffset`).
   */
  filter?: PredicateSpec[];
}

/** A filter predicate (`table/predicate.ts`) as plain data: its column, the operator, the literals as scalars of the column's type. */
export interface PredicateSpec {
  column: ColumnSpec;
  op: PredicateOp;
  values: Scalar[];
}

export type ReadResult =
  | { kind: "page"; page: LogPageWire }
  | { kind: "offset_out_of_range"; logStartOffset: number; highWatermark: number }
  | Dropped;

export interface TabletStatus {
  logStartOffset: number;
  highWatermark: number;
  /** The exclusive end of what the lake holds, as the Tablet was last told. */
  tieredOffset: number;
}

export type StatusResult = ({ kind: "status" } & TabletStatus) | Dropped;

/** What `GET /v1/metrics` reports of one bucket. */
export interface TabletMetrics extends TabletStatus {
  rowsWritten: number;
  bytesWritten: number;
  lookupCalls: number;
  keysLookedUp: number;
  /** Open subscriber sockets. */
  subscribers: number;
  /** When the oldest row not yet in the lake was committed; null when the lake holds every row. */
  oldestUntieredCommitMs: number | null;
}

export type MetricsResult = ({ kind: "metrics" } & TabletMetrics) | Dropped;

export interface LookupRequest {
  table: PrimaryKeySpec;
  /** Encoded keys (`table/keys.ts`), in kv-key order. */
  keys: Uint8Array[];
}

export type LookupResult =
  | {
      kind: "rows";
      /** The rows found, in the table's columns, as one Arrow IPC stream. */
      ipc: Uint8Array;
      /** Per asked key, its row's index in `ipc`, or -1 when the key has no row. */
      rowOf: number[];
    }
  | Dropped;

export interface KvScanRequest {
  table: PrimaryKeySpec;
  /** Only keys starting with these bytes (every key when empty). */
  prefix: Uint8Array;
  /** Only keys after this one (exclusive): where the previous page ended. */
  after?: Uint8Array;
  rowsMax: number;
  bytesMax: number;
  /** Counted as a lookup in the metrics (a prefix lookup), rather than as a scan. */
  isLookup: boolean;
}

export type KvScanResult =
  | {
      kind: "rows";
      /** Current rows in key order, in the table's columns, as one Arrow IPC stream. */
      ipc: Uint8Array;
      rowCount: number;
      /** The high watermark when the page was read: the rows are the state at that offset. */
      highWatermark: number;
      /** The last key of the page when more may follow, else null. */
      lastKey: Uint8Array | null;
    }
  | Dropped;
