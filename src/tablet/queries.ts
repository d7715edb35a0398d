/**
 * Every SQL statement the Tablet runs, as small typed functions. Cursors are
 * consumed before returning, so no caller can hold one across an `await`.
 * The row forms here (stored batches, kv rows) are the Tablet's own and
 * never leave it.
 */
export interface TabletOffsets {
  logStartOffset: number;
  highWatermark: number;
  lastCommitMs: number;
  /** The exclusive end of what the lake holds; never above the high watermark. */
  tieredOffset: number;
}

export interface StoredBatch {
  baseOffset: number;
  recordCount: number;
  commitMs: number;
  schemaId: number;
  ipcBatch: Uint8Array;
}

export interface WriterBatch {
  seq: number;
  baseOffset: number;
  recordCount: number;
}

export function readOffsets(sql: SqlStorage): TabletOffsets {
  return sql
    .exec<{ logStartOffset: number; highWatermark: number; lastCommitMs: number; tieredOffset: number }>(
      `SELECT log_start_offset AS logStartOffset, high_watermark AS highWatermark, last_commit_ms AS lastCommitMs,
              tiered_offset AS tieredOffset
       FROM tablet_offsets`,
    )
    .one();
}

export function isDropped(sql: SqlStorage): boolean {
  return sql.exec("SELECT 1 FROM tablet_tombstone").toArray().length > 0;
}

export function insertTombstone(sql: SqlStorage, nowMs: number): void {
  sql.exec("INSERT OR IGNORE INTO tablet_tombstone (singleton, dropped_at_ms) VALUES (1, ?)", nowMs);
}

export function writeOffsets(sql: SqlStorage, offsets: TabletOffsets): void {
  sql.exec(
    "UPDATE tablet_offsets SET log_start_offset = ?, high_watermark = ?, last_commit_ms = ?, tiered_offset = ?",
    offsets.logStartOffset,
    offsets.highWatermark,
    offsets.lastCommitMs,
    offsets.tieredOffset,
  );
}

/** What a Tablet has served since it was created (see `counters.ts`). */
export interface TabletCounters {
  rowsWritten: number;
  bytesWritten: number;
  lookupCalls: number;
  keysLookedUp: number;
}

export function readCounters(sql: SqlStorage): TabletCounters {
  return sql
    .exec<{ rowsWritten: number; bytesWritten: number; lookupCalls: number; keysLookedUp: number }>(
      `SELECT rows_written AS rowsWritten, bytes_written AS bytesWritten, lookup_calls AS lookupCalls,
              keys_looked_up AS keysLookedUp
       FROM tablet_counters`,
    )
    .one();
}

export function addWriteCounts(sql: SqlStorage, rows: number, bytes: number): void {
  sql.exec("UPDATE tablet_counters SET rows_written = rows_written + ?, bytes_written = bytes_written + ?", rows, bytes);
}

export function addLookupCounts(sql: SqlStorage, calls: number, keys: number): void {
  sql.exec("UPDATE tablet_counters SET lookup_calls = lookup_calls + ?, keys_looked_up = keys_looked_up + ?", calls, keys);
}

export function findSchemaId(sql: SqlStorage, ipcSchema: Uint8Array): number | undefined {
  const row = sql.exec<{ id: number }>("SELECT schema_id AS id FROM log_schema WHERE ipc_schema = ?", ipcSchema).toArray()[0];
  return row?.id;
}

export function insertSchema(sql: SqlStorage, ipcSchema: Uint8Array): number {
  return sql
    .exec<{ id: number }>("INSERT INTO log_schema (ipc_schema) VALUES (?) RETURNING schema_id AS id", ipcSchema)
    .one().id;
}

export function readSchema(sql: SqlStorage, schemaId: number): Uint8Array {
  const row = sql.exec<{ ipc: ArrayBuffer }>("SELECT ipc_schema AS ipc FROM log_schema WHERE schema_id = ?", schemaId).one();
  return new Uint8Array(row.ipc);
}

export function insertBatch(sql: SqlStorage, batch: StoredBatch): void {
  sql.exec(
    "INSERT INTO log_batch (base_offset, record_count, commit_ms, schema_id, ipc_batch) VALUES (?, ?, ?, ?, ?)",
    batch.baseOffset,
    batch.recordCount,
    batch.commitMs,
    batch.schemaId,
    batch.ipcBatch,
  );
}

/**
 * The batches holding offsets `[from, ...)`, in order, starting with the one
 * that contains `from`, stopping once `rowsMax` rows or `bytesMax` bytes are
 * covered (always at least one batch).
 */
export function readBatches(sql: SqlStorage, from: number, rowsMax: number, bytesMax: number): StoredBatch[] {
  const cursor = sql.exec<{
    baseOffset: number; recordCount: number; commitMs: number; schemaId: number; ipcBatch: ArrayBuffer;
  }>(
    `SELECT base_offset AS baseOffset, record_count AS recordCount, commit_ms AS commitMs,
            schema_id AS schemaId, ipc_batch AS ipcBatch
     FROM log_batch
     WHERE base_offset >= coalesce((SELECT max(base_offset) FROM log_batch WHERE base_offset <= ?), 0)
     ORDER BY base_offset`,
    from,
  );
  const batches: StoredBatch[] = [];
  let rows = 0;
  let bytes = 0;
  for (const row of cursor) {
    batches.push({ ...row, ipcBatch: new Uint8Array(row.ipcBatch) });
    rows += row.baseOffset + row.recordCount - Math.max(from, row.baseOffset);
    bytes += row.ipcBatch.byteLength;
    if (rows >= rowsMax || bytes >= bytesMax) break;
  }
  return batches;
}

/**
 * Drops the batches that end at or below `endAtOrBelow` and were committed
 * at or before `committedAtOrBeforeMs` (a prefix of the log, since commit
 * times grow with offsets); answers the first offset still stored, if any.
 */
export function dropBatches(sql: SqlStorage, endAtOrBelow: number, committedAtOrBeforeMs: number): number | undefined {
  sql.exec("DELETE FROM log_batch WHERE base_offset + record_count <= ? AND commit_ms <= ?", endAtOrBelow, committedAtOrBeforeMs);
  return sql.exec<{ start: number | null }>("SELECT min(base_offset) AS start FROM log_batch").one().start ?? undefined;
}

/** The commit time of the oldest stored batch ending at or below `endAtOrBelow`, if any. */
export function oldestCommitMs(sql: SqlStorage, endAtOrBelow: number): number | undefined {
  return sql
    .exec<{ commitMs: number | null }>("SELECT min(commit_ms) AS commitMs FROM log_batch WHERE base_offset + record_count <= ?", endAtOrBelow)
    .one().commitMs ?? undefined;
}

export function readRetention(sql: SqlStorage): { ttlMs: number; keepUntiered: boolean } | undefined {
  const row = sql.exec<{ ttlMs: number; keepUntiered: number }>("SELECT ttl_ms AS ttlMs, keep_untiered AS keepUntiered FROM tablet_retention").toArray()[0];
  return row && { ttlMs: row.ttlMs, keepUntiered: row.keepUntiered !== 0 };
}

export function writeRetention(sql: SqlStorage, retention: { ttlMs: number; keepUntiered: boolean }): void {
  sql.exec(
    "INSERT INTO tablet_retention (singleton, ttl_ms, keep_untiered) VALUES (1, ?, ?) ON CONFLICT (singleton) DO UPDATE SET ttl_ms = excluded.ttl_ms, keep_untiered = excluded.keep_untiered",
    retention.ttlMs,
    retention.keepUntiered ? 1 : 0,
  );
}

/** The commit time of the last stored batch starting at or below `offset` (the one holding it, below the high watermark). */
export function commitMsAt(sql: SqlStorage, offset: number): number | undefined {
  return sql
    .exec<{ commitMs: number }>(
      "SELECT commit_ms AS commitMs FROM log_batch WHERE base_offset = (SELECT max(base_offset) FROM log_batch WHERE base_offset <= ?)",
      offset,
    )
    .toArray()[0]?.commitMs;
}

/** The first offset of the first batch committed at or after `timestampMs`, if any. */
export function firstOffsetCommittedAtOrAfter(sql: SqlStorage, timestampMs: number): number | undefined {
  return sql
    .exec<{ offset: number }>(
      "SELECT base_offset AS offset FROM log_batch WHERE commit_ms >= ? ORDER BY commit_ms, base_offset LIMIT 1",
      timestampMs,
    )
    .toArray()[0]?.offset;
}

export function findWriterBatch(sql: SqlStorage, writerId: string, seq: number): WriterBatch | undefined {
  return sql
    .exec<{ seq: number; baseOffset: number; recordCount: number }>(
      `SELECT seq, base_offset AS baseOffset, record_count AS recordCount
       FROM writer_batch WHERE writer_id = ? AND seq = ?`,
      writerId,
      seq,
    )
    .toArray()[0];
}

export function lastWriterSeq(sql: SqlStorage, writerId: string): number | undefined {
  const row = sql.exec<{ seq: number | null }>("SELECT max(seq) AS seq FROM writer_batch WHERE writer_id = ?", writerId).one();
  return row.seq ?? undefined;
}

export function insertWriterBatch(sql: SqlStorage, writerId: string, batch: WriterBatch, commitMs: number): void {
  sql.exec(
    "INSERT INTO writer_batch (writer_id, seq, base_offset, record_count, commit_ms) VALUES (?, ?, ?, ?, ?)",
    writerId,
    batch.seq,
    batch.baseOffset,
    batch.recordCount,
    commitMs,
  );
}

/** Keeps the newest `keep` sequences of a writer, and forgets writers idle since `idleBeforeMs`. */
export function pruneWriterBatches(sql: SqlStorage, writerId: string, keep: number, idleBeforeMs: number): void {
  sql.exec(
    `DELETE FROM writer_batch WHERE writer_id = ? AND seq <= (
       SELECT seq FROM writer_batch WHERE writer_id = ? ORDER BY seq DESC LIMIT 1 OFFSET ?)`,
    writerId,
    writerId,
    keep,
  );
  sql.exec("DELETE FROM writer_batch WHERE commit_ms < ?", idleBeforeMs);
}

/**
 * Many byte strings as two parameters, so one statement takes many (Durable
 * Object SQLite binds at most 100 parameters): one BLOB of them end to end,
 * and a JSON array of each one's [start, length] in it, 1-based as `substr`
 * counts. The SQL side reads them back with `substr(blob, value->>0,
 * value->>1)` over `json_each(spans)`.
 */
function packed(values: readonly Uint8Array[]): { blob: Uint8Array; spans: number[] } {
  let total = 0;
  for (const value of values) total += value.length;
  const blob = new Uint8Array(total);
  const spans: number[] = new Array(values.length * 2);
  let at = 0;
  values.forEach((value, i) => {
    blob.set(value, at);
    spans[2 * i] = at + 1;
    spans[2 * i + 1] = value.length;
    at += value.length;
  });
  return { blob, spans };
}

/** Spans as a JSON array of arrays, one per item: `[start, length]`, or two spans side by side `[start, length, start, length]`. */
function spansJson(...lists: number[][]): string {
  const items: string[] = new Array(lists[0]!.length / 2);
  for (let i = 0; i < items.length; i++) items[i] = `[${lists.map((spans) => `${spans[2 * i]},${spans[2 * i + 1]}`).join(",")}]`;
  return `[${items.join(",")}]`;
}

/** A kv row as SQLite holds it: the binary row form (`kv-row.ts`), or the JSON text Tablets stored before it. */
export type StoredKvRow = ArrayBuffer | string;

/** Bytes one packed parameter holds at most: Durable Object SQLite refuses a BLOB over 2 MB. */
const packedBytesMax = 1024 * 1024;

/** Items in runs whose packed bytes (by `size`) stay under `packedBytesMax`; a larger item runs alone. */
function* packedRuns<T>(items: readonly T[], size: (item: T) => number): Generator<T[]> {
  let run: T[] = [];
  let bytes = 0;
  for (const item of items) {
    if (run.length > 0 && bytes + size(item) > packedBytesMax) {
      yield run;
      run = [];
      bytes = 0;
    }
    run.push(item);
    bytes += size(item);
  }
  if (run.length > 0) yield run;
}

/** The stored rows of the given keys (absent keys are missing from the map), keyed by `keyId`. */
export function getKvRows(sql: SqlStorage, keys: readonly Uint8Array[], keyId: (key: Uint8Array) => string): Map<string, StoredKvRow> {
  const found = new Map<string, StoredKvRow>();
  for (const run of packedRuns(keys, (key) => key.length)) {
    const { blob, spans } = packed(run);
    const cursor = sql.exec<{ key: ArrayBuffer; row: StoredKvRow }>(
      "SELECT key, row FROM kv WHERE key IN (SELECT substr(?1, value->>0, value->>1) FROM json_each(?2))",
      blob,
      spansJson(spans),
    );
    for (const { key, row } of cursor) found.set(keyId(new Uint8Array(key)), row);
  }
  return found;
}

/** Inserts or replaces rows. */
export function putKvRows(sql: SqlStorage, rows: readonly { key: Uint8Array; row: Uint8Array }[]): void {
  for (const run of packedRuns(rows, (r) => r.key.length + r.row.length)) {
    const keys = packed(run.map((r) => r.key));
    const values = packed(run.map((r) => r.row));
    sql.exec(
      `INSERT INTO kv (key, row)
       SELECT substr(?1, value->>0, value->>1), substr(?2, value->>2, value->>3) FROM json_each(?3) WHERE true
       ON CONFLICT (key) DO UPDATE SET row = excluded.row`,
      keys.blob,
      values.blob,
      spansJson(keys.spans, values.spans),
    );
  }
}

export function deleteKvRows(sql: SqlStorage, keys: readonly Uint8Array[]): void {
  for (const run of packedRuns(keys, (key) => key.length)) {
    const { blob, spans } = packed(run);
    sql.exec("DELETE FROM kv WHERE key IN (SELECT substr(?1, value->>0, value->>1) FROM json_each(?2))", blob, spansJson(spans));
  }
}

/**
 * Rows with keys in `[from, to)` (either bound optional) and after `after`,
 * in key order, until `rowsMax` rows or `bytesMax` bytes of rows are read
 * (at least one row).
 */
export function scanKvRows(
  sql: SqlStorage,
  bounds: { from?: Uint8Array; to?: Uint8Array; after?: Uint8Array },
  rowsMax: number,
  bytesMax: number,
): { key: Uint8Array; row: StoredKvRow }[] {
  const where: string[] = [];
  const bindings: Uint8Array[] = [];
  for (const [bound, test] of [[bounds.from, "key >= ?"], [bounds.to, "key < ?"], [bounds.after, "key > ?"]] as const) {
    if (bound === undefined) continue;
    where.push(test);
    bindings.push(bound);
  }
  const cursor = sql.exec<{ key: ArrayBuffer; row: StoredKvRow }>(
    `SELECT key, row FROM kv ${where.length > 0 ? `WHERE ${where.join(" AND ")}` : ""} ORDER BY key LIMIT ?`,
    ...bindings,
    rowsMax,
  );
  const rows: { key: Uint8Array; row: StoredKvRow }[] = [];
  let bytes = 0;
  for (const { key, row } of cursor) {
    rows.push({ key: new Uint8Array(key), row });
    bytes += typeof row === "string" ? row.length : row.byteLength;
    if (bytes >= bytesMax) break;
  }
  return rows;
}
