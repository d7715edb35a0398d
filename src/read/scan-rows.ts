/**
 * The row sources of a scan: lake data files (pruned by file bounds and
 * row-group statistics, then filtered) and ranges of one bucket's hot log
 * (filtered and projected inside its Tablet when asked), both as chunks of
 * Arrow columns over the scan's read columns. Rows are selected on whole
 * columns (`table/predicate.ts`, `arrow/take.ts`); no value is read as a
 * scalar on the way.
 *
 * Invariant: a hot range `[from, to)` yields exactly the rows at those
 * offsets (those matching its filter), in order, or fails; it never stops
 * short silently.
 */
import type * as arrow from "apache-arrow";
import type { PhysicalTable } from "../catalog/partitions.ts";
import type { Column } from "../table/schema.ts";
import { takeRows } from "../arrow/take.ts";
import { readBound } from "../iceberg/metrics.ts";
import { lakeKey } from "../lake/objects.ts";
import { openDataFile, readRows, rowGroupRanges, rowGroupStats } from "../lake/parquet-read.ts";
import { systemColumnIndexes } from "../log/page.ts";
import type { ColumnStats } from "../table/stats.ts";
import type { Predicate } from "../table/predicate.ts";
import { selectRows } from "../table/predicate.ts";
import { readLogRange } from "./log.ts";
import { mayMatch } from "./filter.ts";
import type { LakeFile } from "./lake-snapshot.ts";
import { readAhead } from "../read-ahead.ts";
import { requestLimits } from "../vocabulary.ts";

export interface RowChunk {
  rowCount: number;
  /** Per read column, its values. */
  data: arrow.Data[];
  /** The data sequence number of the lake file the rows come from. */
  sequenceNumber?: number;
  /** Per row, its change type (`_change`, a STRING column; hot rows only). */
  changes?: arrow.Data;
}

/** How much a scan read and how much statistics let it skip. */
export interface ScanStats {
  filesRead: number;
  filesSkipped: number;
  rowGroupsRead: number;
  rowGroupsSkipped: number;
  /** Rows the Tablets answered (after the filters they applied). */
  hotRowsRead: number;
  /** Bytes of the Arrow IPC pages the Tablets answered. */
  hotBytesRead: number;
  /** Partitions of a partitioned table read, and those a filter on partition keys pruned before any Tablet was asked. */
  partitionsRead: number;
  partitionsSkipped: number;
  /** Lake manifests never read: their partition summaries ruled the filter out. */
  manifestsSkipped: number;
}

export const emptyStats = (): ScanStats => ({
  filesRead: 0, filesSkipped: 0, rowGroupsRead: 0, rowGroupsSkipped: 0, hotRowsRead: 0, hotBytesRead: 0, partitionsRead: 0, partitionsSkipped: 0, manifestsSkipped: 0,
});

const openFilesAhead = 4;
const rowGroupsAhead = 2;
const hotSlicesAhead = 4;

/**
 * Per lake file, the row positions position deletes remove from it, in
 * ascending order (repeats allowed), or undefined when none do.
 */
export type DeletedPositions = (file: LakeFile) => Int32Array | undefined;

/**
 * The rows of `files` that may satisfy `predicates` (filtered, so every
 * returned row does), without the rows `deleted` says a position delete
 * removes from their file.
 */
export async function* lakeRows(
  env: Env, files: readonly LakeFile[], columns: readonly Column[], predicates: readonly Predicate[], stats: ScanStats,
  deleted: DeletedPositions = () => undefined,
): AsyncGenerator<RowChunk> {
  const kept = files.filter((file) => mayMatch(predicates, (column) => fileStats(file, column)));
  stats.filesSkipped += files.length - kept.length;
  const open = (file: LakeFile) => async () => ({ file, parquet: await openDataFile(env.LAKE, lakeKey(env, file.path), file.fileSizeInBytes) });
  for await (const { file, parquet } of readAhead(kept.map(open), openFilesAhead)) {
    stats.filesRead++;
    const groups = rowGroupRanges(parquet).filter(({ rowGroup }) => mayMatch(predicates, (column) => rowGroupStats(rowGroup, column)));
    stats.rowGroupsRead += groups.length;
    stats.rowGroupsSkipped += parquet.metadata.row_groups.length - groups.length;
    const reads = groups.map(({ rowStart, rowEnd }) => async () => ({ rowStart, chunk: { rowCount: rowEnd - rowStart, data: await readRows(parquet, columns, rowStart, rowEnd) } }));
    const positions = deleted(file);
    for await (const { rowStart, chunk } of readAhead(reads, rowGroupsAhead)) {
      const rows = liveRows(chunk, columns, predicates, positions, rowStart);
      const live = rows ? pick(chunk, rows) : chunk;
      if (live.rowCount > 0) yield { ...live, sequenceNumber: file.dataSequenceNumber };
    }
  }
}

/** The rows of a row group starting at `rowStart` in its file that no position delete removes and that satisfy every predicate; undefined when all. */
function liveRows(chunk: RowChunk, columns: readonly Column[], predicates: readonly Predicate[], positions: Int32Array | undefined, rowStart: number): Int32Array | undefined {
  const selected = selectRows(predicates, (column) => chunk.data[columns.indexOf(column)]!, chunk.rowCount);
  const deleted = positions && deletedIn(positions, rowStart, rowStart + chunk.rowCount);
  if (!deleted) return selected;
  const keep = new Uint8Array(chunk.rowCount);
  if (selected) for (const row of selected) keep[row] = 1;
  else keep.fill(1);
  for (const position of deleted) keep[position - rowStart] = 0;
  let count = 0;
  for (let row = 0; row < keep.length; row++) count += keep[row]!;
  const rows = new Int32Array(count);
  for (let row = 0, at = 0; row < keep.length; row++) if (keep[row] === 1) rows[at++] = row;
  return rows;
}

/** The positions in `[start, end)` of an ascending list, or undefined when there are none. */
function deletedIn(positions: Int32Array, start: number, end: number): Int32Array | undefined {
  const lowerBound = (value: number) => {
    let lo = 0;
    let hi = positions.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (positions[mid]! < value) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  };
  const from = lowerBound(start);
  const to = lowerBound(end);
  return to > from ? positions.subarray(from, to) : undefined;
}

/** What a file's manifest entry says about a column. */
function fileStats(file: LakeFile, column: Column): ColumnStats {
  const lower = file.lowerBounds.get(column.id);
  const upper = file.upperBounds.get(column.id);
  const stats: ColumnStats = { valueCount: file.valueCounts.get(column.id), nullCount: file.nullCounts.get(column.id) };
  if (lower && upper) {
    stats.min = readBound(column.type, lower);
    stats.max = readBound(column.type, upper);
  }
  return stats;
}

/**
 * Every row of one bucket's log in `[from, to)` (only those satisfying
 * `filter`, which its Tablet applies), one chunk per record batch, with
 * several slices in flight.
 */
export async function* hotRows(
  env: Env, table: PhysicalTable, bucket: number, from: number, to: number, columns: readonly Column[], stats: ScanStats, filter: readonly Predicate[] = [],
): AsyncGenerator<RowChunk> {
  const sliceRows = requestLimits.logReadRowsMax;
  const slices: (() => Promise<RowChunk[]>)[] = [];
  for (let start = from; start < to; start += sliceRows) {
    slices.push(() => hotSlice(env, table, bucket, start, Math.min(to, start + sliceRows), columns, stats, filter));
  }
  for await (const pages of readAhead(slices, hotSlicesAhead)) yield* pages;
}

async function hotSlice(
  env: Env, table: PhysicalTable, bucket: number, from: number, to: number, columns: readonly Column[], stats: ScanStats, filter: readonly Predicate[],
): Promise<RowChunk[]> {
  const pages = await readLogRange(env, table, { bucket, from, to, columns: columns.map((c) => c.name), filter, outOfRange: "gone" });
  const { change } = systemColumnIndexes(columns.length);
  for (const page of pages) {
    stats.hotRowsRead += page.rowCount;
    stats.hotBytesRead += page.ipcBytes ?? 0;
  }
  return pages.flatMap((page) => page.batches.filter((batch) => batch.rowCount > 0).map((batch) => ({
    rowCount: batch.rowCount,
    data: batch.columns.slice(0, columns.length),
    changes: batch.columns[change],
  })));
}

/** The chunk's rows that satisfy every predicate (the chunk itself when all do). */
export function filterChunk(chunk: RowChunk, columns: readonly Column[], predicates: readonly Predicate[]): RowChunk {
  const rows = selectRows(predicates, (column) => chunk.data[columns.indexOf(column)]!, chunk.rowCount);
  return rows ? pick(chunk, rows) : chunk;
}

/** The given rows of a chunk, in the given order. */
export function pick(chunk: RowChunk, rows: ArrayLike<number>): RowChunk {
  return {
    rowCount: rows.length,
    data: chunk.data.map((d) => takeRows(d, rows)),
    sequenceNumber: chunk.sequenceNumber,
    changes: chunk.changes && takeRows(chunk.changes, rows),
  };
}
