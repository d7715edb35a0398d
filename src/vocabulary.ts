/**
 * Floe's wire vocabulary in one place: header names, content types, limits
 * a client can see, and how Tablets are named.
 */
export const headers = {
  writerId: "Floe-Writer-Id",
  writerSeq: "Floe-Writer-Seq",
  nextOffset: "Floe-Next-Offset",
  highWatermark: "Floe-High-Watermark",
  logStartOffset: "Floe-Log-Start-Offset",
  /** JSON of bucket → offset: where a scan's rows are current, so a subscription can continue there. */
  scanOffsets: "Floe-Scan-Offsets",
  /** The lake snapshot a scan read (absent when it read none). */
  lakeSnapshot: "Floe-Lake-Snapshot",
  /** On every answer: the id the Worker's log lines for this request carry. */
  requestId: "Floe-Request-Id",
} as const;

export const contentTypes = {
  json: "application/json",
  ndjson: "application/x-ndjson",
  arrowStream: "application/vnd.apache.arrow.stream",
} as const;

export const requestLimits = {
  /** Largest request body accepted, in bytes. */
  bodyBytesMax: 16 * 1024 * 1024,
  /** Most rows one write request may carry. */
  rowsPerWriteMax: 100_000,
  /** Largest single row, in encoded Arrow bytes. */
  rowBytesMax: 1024 * 1024,
  /** Log reads answer at most this many rows per call. */
  logReadRowsMax: 10_000,
  logReadRowsDefault: 1_000,
  /** Most keys one lookup may ask for. */
  lookupKeysMax: 1_000,
  /** Rows a prefix lookup answers at most (default and ceiling). */
  prefixRowsDefault: 1_000,
  prefixRowsMax: 10_000,
  /** Rows a hot scan of a primary-key table answers at most, per bucket. */
  hotScanRowsPerBucketMax: 100_000,
  /** Writer ids are short opaque strings. */
  writerIdLengthMax: 128,
  /** A token's name is a label for people (`POST /v1/tokens`). */
  tokenNameLengthMax: 128,
  scopesPerTokenMax: 100,
} as const;

/** `{table}$lake` names the lake side of `{table}` (a scan with `source=lake`). */
export const lakeTableSuffix = "$lake";

/** The Durable Object name of a table's Tablet for one bucket. */
export function tabletName(tableId: string, bucket: number): string {
  return `${tableId}/bucket-${bucket}`;
}

/** The lake's layout: a table lives under `<database>/<table>-<tableId>` in the R2 bucket. */
export const lakeLayout = {
  tableKey: (database: string, table: string, tableId: string) => `${database}/${table}-${tableId}`,
  dataKey: (tableKey: string, partition: string, name: string) => `${tableKey}/data/${partition}/${name}.parquet`,
  manifestKey: (tableKey: string, name: string) => `${tableKey}/metadata/${name}-m0.avro`,
  manifestListKey: (tableKey: string, snapshotId: number, name: string) => `${tableKey}/metadata/snap-${snapshotId}-1-${name}.avro`,
  metadataKey: (tableKey: string, version: number, name: string) =>
    `${tableKey}/metadata/${String(version).padStart(5, "0")}-${name}.metadata.json`,
  /** Path-based (Hadoop-style) readers open `v<N>.metadata.json` named by `version-hint.text`. */
  hadoopMetadataKey: (tableKey: string, version: number) => `${tableKey}/metadata/v${version}.metadata.json`,
  versionHintKey: (tableKey: string) => `${tableKey}/metadata/version-hint.text`,
} as const;
