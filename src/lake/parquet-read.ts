/**
 * Reading lake data files back into Arrow columns of Floe types, exactly:
 * the reader half of `parquet.ts`. hyparquet parses the footer (row groups,
 * statistics, where column chunks lie); parquet-wasm decodes one row group
 * of the asked columns per call, into Arrow that is re-wrapped without
 * copying as Floe's Arrow types (TINYINT and SMALLINT narrowed back from
 * the lake's Int32, which copies).
 *
 * R2 is read with range reads only: the file's tail once when opened (the
 * footer and page index; a file up to 512 KiB whole), then per row group the
 * asked column chunks not held yet, fetched before parquet-wasm runs (see
 * `fetched-ranges.ts`). Decoded footers are cached per isolate (a lake file
 * never changes once written), within a bound on their bytes.
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
import { makeColumn } from "../arrow/gather.ts";
import { concatColumns } from "../arrow/take.ts";
import type { CColumn } from "../arrow/c-data.ts";
import { copyStream } from "../arrow/c-data.ts";
import type { ColumnStats } from "../table/stats.ts";
import { FetchedRanges } from "./fetched-ranges.ts";
import { columnChunk, columnChunkRange, pageIndexRange } from "./parquet-footer.ts";
import { parquetWasmModule } from "./parquet-wasm.ts";

/** Bytes read from a file's end first: the footer and page index of a lake file, often the whole file. */
const tailBytes = 256 * 1024;

/** A file this small (up to twice the tail) is read whole at once: one R2 read instead of the tail and then its column chunks. */
const wholeFileBytesMax = 2 * tailBytes;

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

/**
 * Decoded footers of lake files, most recently used last, up to this many
 * footer bytes (decoded, about five times as many bytes of heap: some 5 MiB):
 * a lake file never changes once written (a new one gets a new key), so its
 * footer is decoded once per isolate, as manifests are.
 */
const cachedFooterBytesMax = 1024 * 1024;
const footers = new Map<string, FileMetaData>();
let cachedFooterBytes = 0;

function cachedFooter(id: string): FileMetaData | undefined {
  const metadata = footers.get(id);
  if (metadata) {
    footers.delete(id);
    footers.set(id, metadata);
  }
  return metadata;
}

function cacheFooter(id: string, metadata: FileMetaData): void {
  footers.set(id, metadata);
  cachedFooterBytes += metadata.metadata_length;
  for (const [oldest, old] of footers) {
    if (cachedFooterBytes <= cachedFooterBytesMax) break;
    footers.delete(oldest);
    cachedFooterBytes -= old.metadata_length;
  }
}

export async function openDataFile(bucket: R2Bucket, key: string, byteLength: number): Promise<ParquetFile> {
  const ranges = FetchedRanges.of(bucket, key, byteLength);
  const start = byteLength <= wholeFileBytesMax ? 0 : Math.max(0, byteLength - tailBytes);
  await ranges.fetch([{ start, end: byteLength }]);
  const id = `${key}:${byteLength}`;
  let metadata = cachedFooter(id);
  if (!metadata) {
    metadata = await parquetMetadataAsync(ranges.asyncBuffer(), { parsers: exactParsers, initialFetchSize: tailBytes });
    cacheFooter(id, metadata);
  }
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
  return columns.map((_, c) => concatColumns(parts.map((p) => p[c]!)));
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
  let decoded: ReturnType<typeof copyStream>;
  try {
    const table = await handle.read({ rowGroups: [index], columns: columns.map((c) => c.name), batchSize: rowCount });
    const stream = table.intoFFI(); // consumes the wasm table
    try {
      decoded = copyStream(wasm.wasmMemory().buffer, stream);
    } finally {
      stream.free();
    }
  } finally {
    handle.free();
  }
  const decodedRows = decoded.batches.reduce((n, batch) => n + (batch[0]?.length ?? 0), 0);
  if (decodedRows !== rowCount) {
    throw new Error(`parquet reader: row group ${index} of ${file.ranges.key} decoded ${decodedRows} rows, its footer says ${rowCount}`);
  }
  return columns.map((column) => {
    const at = decoded.fields.findIndex((f) => f.name === column.name);
    if (at < 0) throw new Error(`parquet reader: row group ${index} of ${file.ranges.key} decoded no column '${column.name}'`);
    assertDecodedFormat(column, decoded.fields[at]!.format);
    const chunks = decoded.batches.map((batch) => floeData(column, batch[at]!));
    return chunks.length > 0 ? concatColumns(chunks) : makeColumn({ type: arrowType(column.type), length: 0, nullCount: 0, valueOffsets: new Int32Array(1), data: new Uint8Array(0) });
  });
}

/** A decoded column as Floe's Arrow type for it, over the copied buffers (narrow integers narrowed from Int32). */
function floeData(column: Column, decoded: CColumn): arrow.Data {
  const { length, nullCount, validity, offsets, values } = decoded;
  const common = { type: arrowType(column.type), length, nullCount, nullBitmap: validity };
  const words = (Type: new (buffer: ArrayBufferLike, offset: number, length: number) => ArrayBufferView, bytes: number) =>
    new Type(values.buffer, values.byteOffset, values.byteLength / bytes);
  switch (column.type.kind) {
    case "TINYINT": return makeColumn({ ...common, data: new Int8Array(words(Int32Array, 4) as Int32Array) });
    case "SMALLINT": return makeColumn({ ...common, data: new Int16Array(words(Int32Array, 4) as Int32Array) });
    case "STRING":
    case "BYTES": return makeColumn({ ...common, valueOffsets: offsets, data: values });
    case "BOOLEAN": return makeColumn({ ...common, data: values });
    case "INT":
    case "DATE": return makeColumn({ ...common, data: words(Int32Array, 4) });
    case "FLOAT": return makeColumn({ ...common, data: words(Float32Array, 4) });
    case "DOUBLE": return makeColumn({ ...common, data: words(Float64Array, 8) });
    case "DECIMAL": return makeColumn({ ...common, data: words(Uint32Array, 4) });
    case "BIGINT":
    case "TIME":
    case "TIMESTAMP":
    case "TIMESTAMP_LTZ": return makeColumn({ ...common, data: words(BigInt64Array, 8) });
  }
}

/**
 * Paired with the writer's types: the decoded column's C Data Interface
 * format must be the layout Floe's type is wrapped over (the lake keeps
 * TINYINT and SMALLINT as Int32, timestamps and times in microseconds).
 */
function assertDecodedFormat(column: Column, format: string): void {
  const { type } = column;
  const expected: Record<string, (f: string) => boolean> = {
    BOOLEAN: (f) => f === "b",
    TINYINT: (f) => f === "i",
    SMALLINT: (f) => f === "i",
    INT: (f) => f === "i",
    BIGINT: (f) => f === "l",
    FLOAT: (f) => f === "f",
    DOUBLE: (f) => f === "g",
    DECIMAL: (f) => type.kind === "DECIMAL" && new RegExp(`^d:\\d+,${type.scale}(,128)?$`).test(f),
    STRING: (f) => f === "u",
    BYTES: (f) => f === "z",
    DATE: (f) => f === "tdD",
    TIME: (f) => f === "ttu",
    TIMESTAMP: (f) => f.startsWith("tsu:"),
    TIMESTAMP_LTZ: (f) => f.startsWith("tsu:"),
  };
  if (!expected[type.kind]!(format)) throw new Error(`parquet reader: column '${column.name}' decoded as Arrow format '${format}', which does not hold ${type.kind}`);
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
