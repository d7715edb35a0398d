/**
 * Reading lake data files back into Arrow columns of Floe types, exactly:
 * the reader half of `parquet.ts`. Only the footer and the needed column
 * chunks of the row groups that may match are fetched, with R2 range reads.
 *
 * hyparquet turns DECIMAL into floating point and timestamps into
 * milliseconds by default; both would lose digits, so decimals are read as
 * their unscaled integers and temporal values through identity parsers.
 */
import type * as arrow from "apache-arrow";
import type { AsyncBuffer, FileMetaData, RowGroup } from "hyparquet";
import { parquetMetadataAsync, parquetRead } from "hyparquet";
import type { Column } from "../table/schema.ts";
import { buildColumn } from "../table/columns.ts";
import type { Scalar } from "../table/values.ts";
import { signedBigEndian } from "../table/bucketing.ts";
import type { ColumnStats } from "../table/stats.ts";

/** Bytes read from a file's end first: the footer of a small file, often the whole file. */
const tailBytes = 256 * 1024;

export interface ParquetFile {
  metadata: FileMetaData;
  buffer: AsyncBuffer;
}

/** An R2 object as hyparquet's file interface, serving reads from its already-fetched tail when it can. */
async function r2Buffer(bucket: R2Bucket, key: string, byteLength: number): Promise<AsyncBuffer> {
  const tailStart = Math.max(0, byteLength - tailBytes);
  const tail = await rangeOf(bucket, key, tailStart, byteLength);
  return {
    byteLength,
    slice(start: number, end = byteLength) {
      if (start >= tailStart) return tail.slice(start - tailStart, end - tailStart);
      return rangeOf(bucket, key, start, end);
    },
  };
}

async function rangeOf(bucket: R2Bucket, key: string, start: number, end: number): Promise<ArrayBuffer> {
  const object = await bucket.get(key, { range: { offset: start, length: end - start } });
  if (!object) throw new Error(`lake file ${key} is missing from R2`);
  return object.arrayBuffer();
}

const exactParsers = {
  timestampFromMicroseconds: (micros: bigint) => micros,
  dateFromDays: (days: number) => days,
};
/** Strings stay UTF-8 bytes on the way from Parquet to Arrow; decoding them to text and back is wasted work. */
const readParsers = { ...exactParsers, stringFromBytes: (bytes: Uint8Array) => bytes };

export async function openDataFile(bucket: R2Bucket, key: string, byteLength: number): Promise<ParquetFile> {
  const buffer = await r2Buffer(bucket, key, byteLength);
  const metadata = await parquetMetadataAsync(buffer, { parsers: exactParsers, initialFetchSize: tailBytes });
  // Read decimals as unscaled integers (hyparquet would divide them into floats).
  for (const element of metadata.schema) {
    if (element.converted_type === "DECIMAL") {
      delete element.converted_type;
      delete element.logical_type;
    }
  }
  return { metadata, buffer };
}

/** The row groups of a file as row ranges. */
export function rowGroupRanges(file: ParquetFile): { rowGroup: RowGroup; rowStart: number; rowEnd: number }[] {
  let rowStart = 0;
  return file.metadata.row_groups.map((rowGroup) => {
    const range = { rowGroup, rowStart, rowEnd: rowStart + Number(rowGroup.num_rows) };
    rowStart = range.rowEnd;
    return range;
  });
}

/** What a row group's statistics say about a column; decimals and binary are left unknown (their statistics are not exact here). */
export function rowGroupStats(rowGroup: RowGroup, column: Column): ColumnStats | undefined {
  if (column.type.kind === "DECIMAL" || column.type.kind === "BYTES") return undefined;
  const chunk = rowGroup.columns.find((c) => c.meta_data?.path_in_schema[0] === column.name)?.meta_data;
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

/** Rows `[rowStart, rowEnd)` of a file (whole row groups), as one Arrow column per asked column. */
export async function readRows(file: ParquetFile, columns: readonly Column[], rowStart: number, rowEnd: number): Promise<arrow.Data[]> {
  const pieces = new Map<string, { rowStart: number; values: ArrayLike<unknown> }[]>();
  await parquetRead({
    file: file.buffer,
    metadata: file.metadata,
    columns: columns.map((c) => c.name),
    rowStart,
    rowEnd,
    utf8: false,
    parsers: readParsers,
    onChunk: ({ columnName, columnData, rowStart: start }) => {
      const list = pieces.get(columnName) ?? [];
      list.push({ rowStart: start, values: columnData as ArrayLike<unknown> });
      pieces.set(columnName, list);
    },
  });
  return columns.map((column) => {
    const parts = (pieces.get(column.name) ?? []).sort((a, b) => a.rowStart - b.rowStart);
    const values: (Scalar | null)[] = new Array(rowEnd - rowStart);
    let filled = 0;
    for (const { rowStart: start, values: part } of parts) {
      for (let i = 0; i < part.length; i++) {
        const row = start + i - rowStart;
        if (row < 0 || row >= values.length) continue;
        const value = part[i];
        values[row] = value === null || value === undefined ? null : scalarOf(column, value);
        filled++;
      }
    }
    // Paired with the writer's row count: a short column chunk must fail here, not read as values.
    if (filled !== values.length) {
      throw new Error(`parquet column '${column.name}' gave ${filled} values for rows ${rowStart}..${rowEnd} (${values.length} expected)`);
    }
    return buildColumn(column.type, values);
  });
}

/** A decoded Parquet value as the scalar Floe keeps for the column's type (STRING as its UTF-8 bytes, which columns accept). */
function scalarOf(column: Column, value: unknown): Scalar {
  const { type } = column;
  switch (type.kind) {
    case "BIGINT":
    case "TIME":
    case "TIMESTAMP":
    case "TIMESTAMP_LTZ": return BigInt(value as bigint);
    case "DECIMAL": return value instanceof Uint8Array ? signedBigEndian(value) : BigInt(value as number | bigint);
    case "FLOAT": return Math.fround(Number(value));
    default: return value as Scalar;
  }
}

/** A statistics value as a scalar: strings as text, since filters compare text. */
function statScalar(column: Column, value: unknown): Scalar {
  return value instanceof Uint8Array && column.type.kind === "STRING" ? new TextDecoder().decode(value) : scalarOf(column, value);
}
