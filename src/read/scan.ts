/**
 * Scans of one logical table: the union of a lake snapshot and the hot log
 * after it (the default), the lake alone, or the Tablets alone.
 *
 * A scan fixes its read point before the first row: the lake snapshot (from
 * the catalog, or an older one by id) and every bucket's high watermark.
 * Rows then come bucket by bucket: a log table's lake rows below the
 * snapshot's offset, then its log from that offset to the high watermark,
 * in offset order; a primary-key table's merged current state. A tiering
 * commit during the scan changes nothing: lake files are immutable and the
 * log after the snapshot is kept until it is tiered. Only retention can
 * interfere, when `table.log.ttl` is shorter than the scan: the read point
 * then moves to the newer snapshot if no row was sent yet, and otherwise
 * the scan fails with `gone` rather than return a partial table.
 *
 * Invariant: no row is returned twice and none between the lake snapshot
 * and the high watermarks is missed; `offsets` says exactly where a
 * subscription continues from.
 */
import type { TableEntry } from "../catalog/catalog.ts";
import { FloeError } from "../errors.ts";
import type { Column } from "../table/schema.ts";
import { isPrimaryKeyTable } from "../table/schema.ts";
import { takeRange } from "../arrow/take.ts";
import { bucketsOf, live, tabletStub } from "../tablet/stub.ts";
import { fileContent } from "../iceberg/manifest-read.ts";
import { inOffsetOrder } from "../lake/snapshots.ts";
import { concatAhead, mapLimited } from "../read-ahead.ts";
import { parseFilter } from "./filter.ts";
import type { Predicate } from "./filter.ts";
import { projectColumns } from "../log/page.ts";
import { kvBucketRows } from "./hot-scan.ts";
import type { LakeSnapshot } from "./lake-snapshot.ts";
import { currentSnapshot, snapshotById } from "./lake-snapshot.ts";
import type { BucketRange } from "./primary-key-merge.ts";
import { mergedBucketRows } from "./primary-key-merge.ts";
import type { RowChunk, ScanStats } from "./scan-rows.ts";
import { emptyStats, filterChunk, hotRows, lakeRows } from "./scan-rows.ts";

export const scanSources = ["union", "lake", "hot"] as const;
export type ScanSource = (typeof scanSources)[number];

export interface ScanRequest {
  source: ScanSource;
  /** Column names to return, in order; all when absent. */
  columns?: string[];
  filter?: string;
  limit?: number;
  /** A lake snapshot to read instead of the current one (time travel). */
  snapshotId?: number;
}

export interface Scan {
  columns: Column[];
  /** The lake snapshot read, or null (hot source, or nothing tiered yet). */
  snapshotId: number | null;
  /** Per bucket, the exclusive end offset the rows cover. */
  offsets: Record<string, number>;
  stats: ScanStats;
  /** Chunks of rows, column-major over `columns`. */
  rows: AsyncGenerator<RowChunk>;
}

export async function openScan(env: Env, table: TableEntry, request: ScanRequest): Promise<Scan> {
  const { definition } = table;
  const columns = projectColumns(definition.columns, request.columns);
  const predicates = parseFilter(request.filter, definition.columns);
  const isNeeded = (c: Column) => columns.includes(c) || predicates.some((p) => p.column === c) || definition.primaryKey.includes(c.name);
  const readColumns = definition.columns.filter(isNeeded);
  const stats = emptyStats();
  if (request.source === "hot" && request.snapshotId !== undefined) {
    throw FloeError.badRequest("snapshot= reads a lake snapshot: use it with source=lake or source=union");
  }
  const scan = (snapshotId: number | null, offsets: Record<string, number>, rows: AsyncGenerator<RowChunk>): Scan => ({
    columns, snapshotId, offsets, stats, rows: limited(rows, request.limit),
  });
  const project = (rows: AsyncGenerator<RowChunk>) => projected(rows, readColumns, columns);

  const keyed = isPrimaryKeyTable(definition);
  const { snapshot, ranges } = await readPoint(env, table, request);
  const offsets = Object.fromEntries(ranges.map((r) => [String(r.bucket), r.to]));
  // A primary-key table's key-value state is its current state: the Tablets alone, and the union while nothing is
  // tiered (merging the changelog from offset 0 instead would hold all of it in memory).
  if (keyed && (request.source === "hot" || (request.source === "union" && snapshot?.snapshotId === null))) {
    const bucketRows = (range: BucketRange) => project(filtered(kvBucketRows(env, table, range.bucket, readColumns), readColumns, predicates));
    return scan(null, offsets, concatAhead(ranges.map(bucketRows), bucketsAhead));
  }
  const files = snapshot?.files ?? [];
  const bucketFiles = (range: BucketRange) => files.filter((f) => f.bucket === range.bucket);
  const bucketRows = keyed
    ? (range: BucketRange) => project(mergedBucketRows(env, table, range, bucketFiles(range), readColumns, predicates, stats))
    : (range: BucketRange) => logBucketRows(env, table, range, bucketFiles(range), { read: readColumns, answer: columns }, predicates, stats);
  return scan(snapshot?.snapshotId ?? null, offsets, concatAhead(ranges.map(bucketRows), bucketsAhead));
}

/** Buckets read at once: the one being answered and the next, which reads ahead into a small buffer. */
const bucketsAhead = 2;

/** Tablets asked for their offsets at once. */
const tabletCallsAtOnce = 16;

/** Attempts at fixing a read point while tiering and retention move the current one on. */
const readPointAttempts = 3;

/**
 * The lake snapshot and the per-bucket offset ranges a scan reads. Between
 * reading the current snapshot and the Tablets' offsets, a newer commit and
 * retention may drop the log just after the snapshot; then it starts again
 * from the newer snapshot.
 */
async function readPoint(env: Env, table: TableEntry, request: ScanRequest): Promise<{ snapshot: LakeSnapshot | null; ranges: BucketRange[] }> {
  if (request.source === "hot") return { snapshot: null, ranges: await hotRanges(env, table, null) };
  for (let attempt = 1; ; attempt++) {
    const snapshot = request.snapshotId === undefined ? await currentSnapshot(env, table) : await snapshotById(env, table, request.snapshotId);
    if (request.source === "lake") {
      const end = (bucket: number) => snapshot.bucketOffsets[String(bucket)] ?? 0;
      return { snapshot, ranges: bucketsOf(table.definition.bucket.num).map((bucket) => ({ bucket, from: end(bucket), to: end(bucket) })) };
    }
    try {
      return { snapshot, ranges: await hotRanges(env, table, snapshot) };
    } catch (error) {
      const retry = error instanceof FloeError && error.kind === "gone" && request.snapshotId === undefined && attempt < readPointAttempts;
      if (!retry) throw error;
    }
  }
}

/** Per bucket, the log after the snapshot (or the whole retained log) up to the high watermark now. */
async function hotRanges(env: Env, table: TableEntry, snapshot: LakeSnapshot | null): Promise<BucketRange[]> {
  const buckets = bucketsOf(table.definition.bucket.num);
  const statuses = await mapLimited(buckets, tabletCallsAtOnce, async (bucket) => live(await tabletStub(env, table.tableId, bucket).status()));
  return buckets.map((bucket) => {
    const { logStartOffset, highWatermark } = statuses[bucket]!;
    const from = snapshot ? (snapshot.bucketOffsets[String(bucket)] ?? 0) : logStartOffset;
    if (from < logStartOffset) {
      throw new FloeError("gone", `bucket ${bucket}'s log before offset ${logStartOffset} was dropped after tiering, so lake snapshot ${snapshot!.snapshotId} (offset ${from}) cannot be continued from the hot log; read a newer snapshot`);
    }
    return { bucket, from, to: highWatermark };
  });
}

/**
 * A log table's bucket in the answer's columns: its lake rows (files in
 * commit order, rows in offset order; the read columns add those the filter
 * needs), then its hot log, which the Tablet filters and projects itself.
 */
async function* logBucketRows(
  env: Env, table: TableEntry, range: BucketRange, files: LakeSnapshot["files"], columns: { read: Column[]; answer: Column[] }, predicates: Predicate[], stats: ScanStats,
): AsyncGenerator<RowChunk> {
  const data = files.filter((f) => f.content === fileContent.data).sort(inOffsetOrder);
  yield* projected(lakeRows(env, data, columns.read, predicates, stats), columns.read, columns.answer);
  yield* hotRows(env, table, range.bucket, range.from, range.to, columns.answer, stats, predicates);
}

async function* filtered(rows: AsyncGenerator<RowChunk>, columns: readonly Column[], predicates: readonly Predicate[]): AsyncGenerator<RowChunk> {
  for await (const chunk of rows) yield filterChunk(chunk, columns, predicates);
}

async function* projected(rows: AsyncGenerator<RowChunk>, from: readonly Column[], to: readonly Column[]): AsyncGenerator<RowChunk> {
  const indexes = to.map((c) => from.indexOf(c));
  for await (const chunk of rows) {
    if (chunk.rowCount > 0) yield { rowCount: chunk.rowCount, data: indexes.map((i) => chunk.data[i]!) };
  }
}

async function* limited(rows: AsyncGenerator<RowChunk>, limit: number | undefined): AsyncGenerator<RowChunk> {
  let left = limit ?? Infinity;
  for await (const chunk of rows) {
    if (chunk.rowCount >= left) {
      yield { rowCount: left, data: chunk.data.map((column) => takeRange(column, 0, left)) };
      return;
    }
    left -= chunk.rowCount;
    yield chunk;
  }
}
