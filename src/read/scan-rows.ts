/**
 * The row sources of a scan: lake data files (pruned by file bounds and
 * row-group statistics, then filtered) and ranges of one bucket's hot log,
 * both as chunks of Arrow columns over the scan's read columns. Hot pages
 * pass through as the Tablet decoded them; nothing is converted per value
 * unless a filter needs it.
 *
 * Invariant: a hot range `[from, to)` yields exactly the rows at those
 * offsets, in order, or fails; it never stops short silently.
 */
import type * as arrow from "apache-arrow";
import type { TableEntry } from "../catalog/catalog.ts";
import type { Column } from "../table/schema.ts";
import { readScalar } from "../table/columns.ts";
import { gather } from "../arrow/gather.ts";
import { readBound } from "../iceberg/metrics.ts";
import { lakeKey } from "../lake/objects.ts";
import { openDataFile, readRows, rowGroupRanges, rowGroupStats } from "../lake/parquet-read.ts";
import { systemColumnIndexes } from "../log/page.ts";
import type { ColumnStats } from "../table/stats.ts";
import { readLogRange } from "./log.ts";
import type { Predicate } from "./filter.ts";
import { matches, mayMatch } from "./filter.ts";
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
}

export const emptyStats = (): ScanStats => ({ filesRead: 0, filesSkipped: 0, rowGroupsRead: 0, rowGroupsSkipped: 0 });

const openFilesAhead = 4;
const rowGroupsAhead = 2;
const hotSlicesAhead = 4;

/**
 * The rows of `files` that may satisfy `predicates` (filtered, so every
 * returned row does), without the rows `deleted` says a position delete
 * removes from their file.
 */
export async function* lakeRows(
  env: Env, files: readonly LakeFile[], columns: readonly Column[], predicates: readonly Predicate[], stats: ScanStats,
  deleted: (file: LakeFile) => ReadonlySet<number> | undefined = () => undefined,
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
      const live = positions ? pick(chunk, Array.from({ length: chunk.rowCount }, (_, i) => i).filter((i) => !positions.has(rowStart + i))) : chunk;
      yield { ...selectRows(live, columns, predicates), sequenceNumber: file.dataSequenceNumber };
    }
  }
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

/** Every row of one bucket's log in `[from, to)`, one chunk per page, with several slices in flight. */
export async function* hotRows(env: Env, table: TableEntry, bucket: number, from: number, to: number, columns: readonly Column[]): AsyncGenerator<RowChunk> {
  const sliceRows = requestLimits.logReadRowsMax;
  const slices: (() => Promise<RowChunk[]>)[] = [];
  for (let start = from; start < to; start += sliceRows) {
    slices.push(() => hotSlice(env, table, bucket, start, Math.min(to, start + sliceRows), columns));
  }
  for await (const pages of readAhead(slices, hotSlicesAhead)) yield* pages;
}

async function hotSlice(env: Env, table: TableEntry, bucket: number, from: number, to: number, columns: readonly Column[]): Promise<RowChunk[]> {
  const pages = await readLogRange(env, table, { bucket, from, to, columns: columns.map((c) => c.name), outOfRange: "gone" });
  const { change } = systemColumnIndexes(columns.length);
  return pages.flatMap((page) => page.batches.map((batch) => ({
    rowCount: batch.rowCount,
    data: batch.columns.slice(0, columns.length),
    changes: batch.columns[change],
  })));
}

/** The chunk's rows that satisfy every predicate (the chunk itself when there are none). */
export function selectRows(chunk: RowChunk, columns: readonly Column[], predicates: readonly Predicate[]): RowChunk {
  if (predicates.length === 0) return chunk;
  const tests = predicates.map((p) => ({ predicate: p, data: chunk.data[columns.indexOf(p.column)]! }));
  const kept: number[] = [];
  for (let row = 0; row < chunk.rowCount; row++) {
    if (tests.every(({ predicate, data }) => matches(predicate, readScalar(predicate.column.type, data, row)))) kept.push(row);
  }
  return pick(chunk, kept);
}

/** The given rows of a chunk, in the given order. */
export function pick(chunk: RowChunk, rows: readonly number[]): RowChunk {
  if (rows.length === chunk.rowCount && rows.every((row, i) => row === i)) return chunk;
  return {
    rowCount: rows.length,
    data: chunk.data.map((d) => gather([d], rows)),
    sequenceNumber: chunk.sequenceNumber,
    changes: chunk.changes && gather([chunk.changes], rows),
  };
}
