/**
 * Reading lake data files back into Arrow columns of Floe types, exactly:
 * the reader half of `parquet.ts`. hyparquet parses the footer (row groups,
 * statistics, where column chunks lie); parquet-wasm decodes one row group
 * of the asked columns per call, into Arrow that is re-wrapped without
 * copying as Floe's Arrow types (TINYINT and SMALLINT narrowed back from
 * the lake's Int32, which copies).
 *
 * R2 is read with range reads only: the file's tail once when opened (the
 * footer and page index), then per row group the asked column chunks,
 * fetched before parquet-wasm runs (see `fetched-ranges.ts`).
 *
 * Invariants: a read returns exactly the rows of its row groups, in each
 * asked column, with the column's own type, or throws; it frees its wasm
 * objects before returning, so wasm holds at most the row groups in flight.
 */
import * as arrow from "apache-arrow";
import type { FileMetaData, RowGroup } from "hyparquet";
import { parquetMetadataAsync } from "hyparquet";
import type { Column } from "../table/schema.ts";
import type { Scalar } from "../table/values.ts";
import { arrowType } from "../table/types.ts";
import { gatherRange, makeColumn } from "../arrow/gather.ts";
import type { ColumnStats } from "../table/stats.ts";
import { FetchedRanges } from "./fetched-ranges.ts";
import { columnChunk, columnChunkRange, pageIndexRange } from "./parquet-footer.ts";
import { parquetWasmModule } from "./parquet-wasm.ts";

/** Bytes read from a file's end first: the footer and page index of a lake file, often the whole file. */
const tailBytes = 256 * 1024;

export interface ParquetFile {
  metadata: FileMetaData;
  /** The file's bytes fetched so far: its tail. */
  ranges: FetchedRanges;
}

/** Statistics come back as exact integers: timestamps as microseconds, dates as days. */
const exactParsers = {
  timestampFromMicroseconds: (micros: bigint) => micros,
  dateFromDays: (days: number) => days,
};

export async function openDataFile(bucket: R2Bucket, key: string, byteLength: number): Promise<ParquetFile> {
  const ranges = FetchedRanges.of(bucket, key, byteLength);
  await ranges.fetch([{ start: Math.max(0, byteLength - tailBytes), end: byteLength }]);
  const metadata = await parquetMetadataAsync(ranges.asyncBuffer(), { parsers: exactParsers, initialFetchSize: tailBytes });
  // parquet-wasm loads the page index when it opens a file; hold it too.
  const index = pageIndexRange(metadata);
  if (index) await ranges.fetch([index]);
  return { metadata, ranges };
}

/** The row groups of a file as row ranges. */
export function rowGroupRanges(file: ParquetFile): { rowGroup: RowGroup; index: number; rowStart: number; rowEnd: number }[] {
  let rowStart = 0;
  return file.metadata.row_groups.map((rowGroup, index) => {
    const range = { rowGroup, index, rowStart, rowEnd: rowStart + Number(rowGroup.num_rows) };
    rowStart = range.rowEnd;
    return range;
  });
}

/** What a row group's statistics say about a column; decimals and binary are left unknown (hyparquet does not give them exactly). */
export function rowGroupStats(rowGroup: RowGroup, column: Column): ColumnStats | undefined {
  if (column.type.kind === "DECIMAL" || column.type.kind === "BYTES") return undefined;
  const chunk = columnChunk(rowGroup, column.name);
  const statistics = chunk?.statistics;
  if (!chunk || !statistics) return undefined;
  const stats: ColumnStats = { valueCount: Number(chunk.num_values) };
  if (statistics.null_count !== undefined) stats.nullCount = Number(statistics.null_count);
  const min = statistics.min_value ?? undefined;
  const max = statistics.max_value ?? undefined;
  if (min !== undefined && max !== undefined) {
    stats.min = statScalar(column, min);
    stats.max = statScalar(column, max);
  }
  return stats;
}

/** Rows `[rowStart, rowEnd)` of a file, which must be whole row groups, as one Arrow column per asked column. */
export async function readRows(file: ParquetFile, columns: readonly Column[], rowStart: number, rowEnd: number): Promise<arrow.Data[]> {
  const groups = rowGroupRanges(file).filter((g) => g.rowStart < rowEnd && g.rowEnd > rowStart);
  if (groups[0]?.rowStart !== rowStart || groups.at(-1)?.rowEnd !== rowEnd) {
    throw new Error(`parquet reader: rows ${rowStart}..${rowEnd} are not whole row groups of ${file.ranges.key}`);
  }
  if (columns.length === 0) return [];
  const parts: arrow.Data[][] = [];
  // One row group in flight per call: the memory a read holds is one group's asked columns.
  for (const group of groups) parts.push(await readRowGroup(file, group.index, columns));
  if (parts.length === 1) return parts[0]!;
  return columns.map((_, c) => gatherRange(parts.map((p) => p[c]!), 0, rowEnd - rowStart));
}

async function readRowGroup(file: ParquetFile, index: number, columns: readonly Column[]): Promise<arrow.Data[]> {
  const rowGroup = file.metadata.row_groups[index]!;
  const rowCount = Number(rowGroup.num_rows);
  const ranges = file.ranges.extend();
  await ranges.fetch(columns.map((column) => {
    const chunk = columnChunk(rowGroup, column.name);
    if (!chunk) throw new Error(`parquet reader: ${file.ranges.key} has no column '${column.name}'`);
    return columnChunkRange(chunk);
  }));
  const wasm = parquetWasmModule();
  const handle = await wasm.ParquetFile.fromFile(ranges.blob());
  let ipc: Uint8Array;
  try {
    const table = await handle.read({ rowGroups: [index], columns: columns.map((c) => c.name), batchSize: rowCount });
    ipc = table.intoIPCStream(); // consumes the wasm table
  } finally {
    handle.free();
  }
  const decoded = arrow.tableFromIPC(ipc);
  if (decoded.numRows !== rowCount) {
    throw new Error(`parquet reader: row group ${index} of ${file.ranges.key} decoded ${decoded.numRows} rows, its footer says ${rowCount}`);
  }
  return columns.map((column) => {
    const chunks = decoded.getChild(column.name)?.data;
    if (!chunks) throw new Error(`parquet reader: row group ${index} of ${file.ranges.key} decoded no column '${column.name}'`);
    return floeData(column, chunks.length === 1 ? chunks[0]! : gatherRange(chunks, 0, rowCount));
  });
}

/** A decoded column as Floe's Arrow type for it, sharing the decoded buffers (narrow integers excepted). */
function floeData(column: Column, data: arrow.Data): arrow.Data {
  assertDecodedType(column, data.type);
  const common = { type: arrowType(column.type), offset: data.offset, length: data.length, nullCount: data.nullCount, nullBitmap: data.nullBitmap };
  switch (column.type.kind) {
    case "TINYINT": return makeColumn({ ...common, data: new Int8Array(data.values as Int32Array) });
    case "SMALLINT": return makeColumn({ ...common, data: new Int16Array(data.values as Int32Array) });
    case "STRING":
    case "BYTES": return makeColumn({ ...common, valueOffsets: data.valueOffsets, data: data.values });
    default: return makeColumn({ ...common, data: data.values });
  }
}

/** Paired with the writer's types: the decoded Arrow type must have the buffers Floe's type is re-wrapped over. */
function assertDecodedType(column: Column, decoded: arrow.DataType): void {
  const { type } = column;
  const expected = arrowType(type);
  const narrow = type.kind === "TINYINT" || type.kind === "SMALLINT";
  const same = narrow
    ? arrow.DataType.isInt(decoded) && decoded.bitWidth === 32
    : decoded.typeId === expected.typeId &&
      (!arrow.DataType.isInt(decoded) || decoded.bitWidth === (expected as arrow.Int).bitWidth) &&
      (!arrow.DataType.isFloat(decoded) || decoded.precision === (expected as arrow.Float).precision) &&
      (!arrow.DataType.isDecimal(decoded) || (decoded.bitWidth === 128 && type.kind === "DECIMAL" && decoded.scale === type.scale)) &&
      (!arrow.DataType.isTimestamp(decoded) || decoded.unit === arrow.TimeUnit.MICROSECOND) &&
      (!arrow.DataType.isTime(decoded) || decoded.unit === arrow.TimeUnit.MICROSECOND) &&
      (!arrow.DataType.isDate(decoded) || decoded.unit === arrow.DateUnit.DAY);
  if (!same) throw new Error(`parquet reader: column '${column.name}' decoded as ${decoded}, expected ${narrow ? "Int32" : expected}`);
}

/** A statistics value as the scalar Floe keeps for the column's type; strings as text, since filters compare text. */
function statScalar(column: Column, value: unknown): Scalar {
  const { type } = column;
  switch (type.kind) {
    case "STRING": return value instanceof Uint8Array ? new TextDecoder().decode(value) : (value as string);
    case "BIGINT":
    case "TIME":
    case "TIMESTAMP":
    case "TIMESTAMP_LTZ": return BigInt(value as bigint);
    case "FLOAT": return Math.fround(Number(value));
    default: return value as Scalar;
  }
}
