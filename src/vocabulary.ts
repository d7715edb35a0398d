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
  /** Writer ids are short opaque strings. */
  writerIdLengthMax: 128,
  /** A token's name is a label for people (`POST /v1/tokens`). */
  tokenNameLengthMax: 128,
  scopesPerTokenMax: 100,
  /** Open subscriptions one bucket's Tablet serves; each costs it a socket and a push per commit. */
  subscribersPerTabletMax: 1_000,
} as const;

/** `{table}$lake` names the lake side of `{table}` (a scan with `source=lake`). */
export const lakeTableSuffix = "$lake";

/** The table a `{table}$lake` name reads, or undefined for a plain name. */
export function tableOfLakeName(name: string): string | undefined {
  return name.endsWith(lakeTableSuffix) ? name.slice(0, -lakeTableSuffix.length) : undefined;
}

/**
 * WebSocket clients that cannot set headers (browsers) send their bearer
 * token as a subprotocol: they offer `floe` and `floe.bearer.<token as
 * base64url>` in `Sec-WebSocket-Protocol`, and the server selects `floe`.
 * Base64url keeps any token within the characters a subprotocol allows.
 */
export const websocketAuth = {
  protocol: "floe",
  bearerPrefix: "floe.bearer.",
  /** The subprotocols a client offers to carry `token`. */
  protocolsFor(token: string): string[] {
    return [this.protocol, `${this.bearerPrefix}${base64url(new TextEncoder().encode(token))}`];
  },
  /** The token carried by a `Sec-WebSocket-Protocol` header, if any (undefined when absent or malformed). */
  tokenOf(header: string | null): string | undefined {
    const carried = header?.split(",").map((p) => p.trim()).find((p) => p.startsWith(this.bearerPrefix));
    if (carried === undefined) return undefined;
    try {
      const binary = atob(carried.slice(this.bearerPrefix.length).replaceAll("-", "+").replaceAll("_", "/"));
      return new TextDecoder("utf-8", { fatal: true, ignoreBOM: false }).decode(Uint8Array.from(binary, (c) => c.charCodeAt(0)));
    } catch {
      return undefined;
    }
  },
  /** Whether a `Sec-WebSocket-Protocol` header offers `floe`, which the answer must then select. */
  offered(header: string | null): boolean {
    return header?.split(",").some((p) => p.trim() === this.protocol) ?? false;
  },
} as const;

/** Bytes as unpadded base64url, the alphabet tokens and subprotocols allow. */
export function base64url(bytes: Uint8Array): string {
  let binary = "";
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary).replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");
}

/**
 * The Durable Object name of the Tablet of one bucket of a table, or of one
 * partition of a partitioned table. An unpartitioned table's names never
 * change (they name data that exists).
 */
export function tabletName(tableId: string, bucket: number, partitionId?: number): string {
  return partitionId === undefined ? `${tableId}/bucket-${bucket}` : `${tableId}/partition-${partitionId}/bucket-${bucket}`;
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
