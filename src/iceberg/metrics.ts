/**
 * Column metrics of a data file, as Iceberg manifests record them per field
 * id: value counts (nulls included), null counts, NaN counts (floating
 * point only) and lower/upper bounds in the spec's single-value binary form.
 *
 * Computed in one pass over the column's Arrow chunks, reading the typed
 * arrays directly (no value becomes a scalar until the bound is encoded).
 * Bounds exclude nulls and NaN; floating point orders by IEEE 754
 * totalOrder, so -0.0 sorts below +0.0; strings and binary order as
 * unsigned bytes and are truncated to 16 characters (bytes), the upper
 * bound rounded up so it still bounds.
 */
import type * as arrow from "apache-arrow";
import type { Column } from "../table/schema.ts";
import type { FloeType } from "../table/types.ts";
import { readInt128 } from "../table/columns.ts";
import { minimalBigEndian, signedBigEndian } from "../table/bucketing.ts";

export interface ColumnMetrics {
  valueCount: number;
  nullCount: number;
  nanCount?: number;
  lowerBound?: Uint8Array;
  upperBound?: Uint8Array;
}

/** Bound values longer than this are truncated (Iceberg's default metrics mode, truncate(16)). */
const boundLengthMax = 16;

type BoundValue = number | bigint | boolean | Uint8Array;

/** The metrics of a column whose values are the concatenation of `chunks`. */
export function columnMetrics(column: Column, chunks: readonly arrow.Data[]): ColumnMetrics {
  const { type } = column;
  let valueCount = 0;
  let nullCount = 0;
  for (const data of chunks) {
    valueCount += data.length;
    nullCount += data.nullCount;
  }
  const { min, max, nanCount } = extremes(type, chunks);
  const metrics: ColumnMetrics = { valueCount, nullCount };
  if (type.kind === "FLOAT" || type.kind === "DOUBLE") metrics.nanCount = nanCount;
  if (min !== undefined && max !== undefined) {
    metrics.lowerBound = boundBytes(type, min, "lower");
    const upper = boundBytes(type, max, "upper");
    if (upper) metrics.upperBound = upper;
  }
  return metrics;
}

function extremes(type: FloeType, chunks: readonly arrow.Data[]): { min?: BoundValue; max?: BoundValue; nanCount: number } {
  switch (type.kind) {
    case "BOOLEAN": return booleanExtremes(chunks);
    case "TINYINT":
    case "SMALLINT":
    case "INT":
    case "DATE": return { ...numberExtremes(chunks).found, nanCount: 0 };
    case "FLOAT":
    case "DOUBLE": {
      const { found, nanCount } = numberExtremes(chunks);
      return { ...found, nanCount };
    }
    case "BIGINT":
    case "TIME":
    case "TIMESTAMP":
    case "TIMESTAMP_LTZ": return { ...int64Extremes(chunks), nanCount: 0 };
    case "DECIMAL": return { ...int128Extremes(chunks), nanCount: 0 };
    case "STRING":
    case "BYTES": return { ...bytesExtremes(chunks), nanCount: 0 };
  }
}

/** Whether row `index` of `data` holds a value (not null). */
function validity(data: arrow.Data): ((index: number) => boolean) | undefined {
  const bitmap = data.nullBitmap;
  if (data.nullCount === 0 || !bitmap || bitmap.length === 0) return undefined;
  const offset = data.offset;
  return (index) => ((bitmap[(offset + index) >> 3]! >> ((offset + index) & 7)) & 1) === 1;
}

function booleanExtremes(chunks: readonly arrow.Data[]) {
  let seenTrue = false;
  let seenFalse = false;
  for (const data of chunks) {
    const valid = validity(data);
    const bits = data.values as Uint8Array;
    for (let i = 0; i < data.length && !(seenTrue && seenFalse); i++) {
      if (valid && !valid(i)) continue;
      const bit = data.offset + i;
      if ((bits[bit >> 3]! >> (bit & 7)) & 1) seenTrue = true;
      else seenFalse = true;
    }
  }
  if (!seenTrue && !seenFalse) return { nanCount: 0 };
  return { min: !seenFalse, max: seenTrue, nanCount: 0 };
}

/**
 * Extremes of 32-bit integer and floating point columns. NaN is counted,
 * not compared; a zero replaces an equal zero only towards its sign, so
 * -0.0 is the minimum of {-0.0, +0.0} and +0.0 the maximum (totalOrder).
 */
function numberExtremes(chunks: readonly arrow.Data[]): { found: { min?: number; max?: number }; nanCount: number } {
  let seen = false;
  let min = Infinity;
  let max = -Infinity;
  let nanCount = 0;
  for (const data of chunks) {
    const valid = validity(data);
    const values = data.values as Int8Array | Int16Array | Int32Array | Float32Array | Float64Array;
    for (let i = 0; i < data.length; i++) {
      if (valid && !valid(i)) continue;
      const v = values[i]!;
      if (v !== v) {
        nanCount++;
        continue;
      }
      seen = true;
      if (v < min || (v === 0 && min === 0 && Object.is(v, -0))) min = v;
      if (v > max || (v === 0 && max === 0 && Object.is(max, -0))) max = v;
    }
  }
  return { found: seen ? { min, max } : {}, nanCount };
}

/** Extremes of 64-bit integers, compared as (signed high word, unsigned low word) of an Int32Array view. */
function int64Extremes(chunks: readonly arrow.Data[]): { min?: bigint; max?: bigint } {
  let seen = false;
  let minHigh = 0, minLow = 0, maxHigh = 0, maxLow = 0;
  for (const data of chunks) {
    const valid = validity(data);
    const values = data.values as BigInt64Array;
    const words = new Int32Array(values.buffer, values.byteOffset, values.length * 2);
    for (let i = 0; i < data.length; i++) {
      if (valid && !valid(i)) continue;
      const high = words[2 * i + 1]!;
      const low = words[2 * i]! >>> 0;
      if (!seen || high < minHigh || (high === minHigh && low < minLow)) {
        minHigh = high;
        minLow = low;
      }
      if (!seen || high > maxHigh || (high === maxHigh && low > maxLow)) {
        maxHigh = high;
        maxLow = low;
      }
      seen = true;
    }
  }
  if (!seen) return {};
  const int64 = (high: number, low: number) => BigInt.asIntN(64, (BigInt(high) << 32n) | BigInt(low));
  return { min: int64(minHigh, minLow), max: int64(maxHigh, maxLow) };
}

/** Extremes of 128-bit decimals (four little-endian words per value), as positions; only the two winners become BigInt. */
function int128Extremes(chunks: readonly arrow.Data[]): { min?: bigint; max?: bigint } {
  let seen = false;
  const min: { words: Uint32Array; index: number } = { words: new Uint32Array(0), index: 0 };
  const max = { ...min };
  for (const data of chunks) {
    const valid = validity(data);
    const words = data.values as Uint32Array;
    for (let i = 0; i < data.length; i++) {
      if (valid && !valid(i)) continue;
      if (!seen || compareInt128(words, i, min.words, min.index) < 0) {
        min.words = words;
        min.index = i;
      }
      if (!seen || compareInt128(words, i, max.words, max.index) > 0) {
        max.words = words;
        max.index = i;
      }
      seen = true;
    }
  }
  if (!seen) return {};
  return { min: readInt128(min.words, min.index), max: readInt128(max.words, max.index) };
}

function compareInt128(a: Uint32Array, i: number, b: Uint32Array, j: number): number {
  const highA = a[4 * i + 3]! | 0;
  const highB = b[4 * j + 3]! | 0;
  if (highA !== highB) return highA < highB ? -1 : 1;
  for (let w = 2; w >= 0; w--) {
    const x = a[4 * i + w]!;
    const y = b[4 * j + w]!;
    if (x !== y) return x < y ? -1 : 1;
  }
  return 0;
}

/** A value of a variable-width column: its bytes are `bytes[start..end)`. */
interface ByteRange {
  bytes: Uint8Array;
  start: number;
  end: number;
}

/** Extremes of variable-width values by unsigned bytes, tracked as ranges of the chunks (copied once found). */
function bytesExtremes(chunks: readonly arrow.Data[]): { min?: Uint8Array; max?: Uint8Array } {
  let seen = false;
  const min: ByteRange = { bytes: new Uint8Array(0), start: 0, end: 0 };
  const max: ByteRange = { ...min };
  const take = (range: ByteRange, bytes: Uint8Array, start: number, end: number) => {
    range.bytes = bytes;
    range.start = start;
    range.end = end;
  };
  for (const data of chunks) {
    const valid = validity(data);
    const offsets = data.valueOffsets as Int32Array;
    const bytes = data.values as Uint8Array;
    for (let i = 0; i < data.length; i++) {
      if (valid && !valid(i)) continue;
      const start = offsets[i]!;
      const end = offsets[i + 1]!;
      if (!seen || compareBytes(bytes, start, end, min) < 0) take(min, bytes, start, end);
      if (!seen || compareBytes(bytes, start, end, max) > 0) take(max, bytes, start, end);
      seen = true;
    }
  }
  if (!seen) return {};
  return { min: min.bytes.slice(min.start, min.end), max: max.bytes.slice(max.start, max.end) };
}

function compareBytes(bytes: Uint8Array, start: number, end: number, other: ByteRange): number {
  const length = Math.min(end - start, other.end - other.start);
  for (let i = 0; i < length; i++) {
    const a = bytes[start + i]!;
    const b = other.bytes[other.start + i]!;
    if (a !== b) return a - b;
  }
  return end - start - (other.end - other.start);
}

/** Iceberg's single-value binary form (spec appendix D), truncated for strings and binary. */
function boundBytes(type: FloeType, value: BoundValue, side: "lower" | "upper"): Uint8Array | undefined {
  const view = (bytes: number, write: (v: DataView) => void) => {
    const buffer = new DataView(new ArrayBuffer(bytes));
    write(buffer);
    return new Uint8Array(buffer.buffer);
  };
  switch (type.kind) {
    case "BOOLEAN": return new Uint8Array([value ? 1 : 0]);
    case "TINYINT":
    case "SMALLINT":
    case "INT":
    case "DATE": return view(4, (v) => v.setInt32(0, value as number, true));
    case "BIGINT":
    case "TIME":
    case "TIMESTAMP":
    case "TIMESTAMP_LTZ": return view(8, (v) => v.setBigInt64(0, value as bigint, true));
    case "FLOAT": return view(4, (v) => v.setFloat32(0, value as number, true));
    case "DOUBLE": return view(8, (v) => v.setFloat64(0, value as number, true));
    case "DECIMAL": return minimalBigEndian(value as bigint);
    case "STRING": return truncateString(value as Uint8Array, side);
    case "BYTES": return truncateBinary(value as Uint8Array, side);
  }
}

function truncateBinary(bytes: Uint8Array, side: "lower" | "upper"): Uint8Array | undefined {
  if (bytes.length <= boundLengthMax) return bytes.slice();
  const prefix = bytes.slice(0, boundLengthMax);
  if (side === "lower") return prefix;
  for (let i = prefix.length - 1; i >= 0; i--) {
    if (prefix[i]! < 0xff) {
      prefix[i]!++;
      return prefix.slice(0, i + 1);
    }
  }
  return undefined;
}

function truncateString(utf8: Uint8Array, side: "lower" | "upper"): Uint8Array | undefined {
  const codePoints = [...new TextDecoder().decode(utf8)];
  if (codePoints.length <= boundLengthMax) return utf8.slice();
  const prefix = codePoints.slice(0, boundLengthMax);
  if (side === "upper") {
    // Increment the last code point that can be, dropping those after it; skip the surrogate range.
    for (let i = prefix.length - 1; ; i--) {
      if (i < 0) return undefined;
      let next = prefix[i]!.codePointAt(0)! + 1;
      if (next >= 0xd800 && next <= 0xdfff) next = 0xe000;
      if (next <= 0x10ffff) {
        prefix[i] = String.fromCodePoint(next);
        prefix.length = i + 1;
        break;
      }
    }
  }
  return new TextEncoder().encode(prefix.join(""));
}

/** A bound read back from its single-value binary form: strings as text, binary as bytes, decimals unscaled. */
export function readBound(type: FloeType, bytes: Uint8Array): number | bigint | boolean | string | Uint8Array {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  switch (type.kind) {
    case "BOOLEAN": return bytes[0] !== 0;
    case "TINYINT":
    case "SMALLINT":
    case "INT":
    case "DATE": return view.getInt32(0, true);
    case "BIGINT":
    case "TIME":
    case "TIMESTAMP":
    case "TIMESTAMP_LTZ": return view.getBigInt64(0, true);
    case "FLOAT": return view.getFloat32(0, true);
    case "DOUBLE": return view.getFloat64(0, true);
    case "DECIMAL": return signedBigEndian(bytes);
    case "STRING": return new TextDecoder().decode(bytes);
    case "BYTES": return bytes;
  }
}

/**
 * The metrics of two parts of one column together (a file written part by
 * part): counts add up, and each bound is the smaller (larger) of the two by
 * the type's order, totalOrder for floating point, unsigned bytes for
 * strings and binary (a truncated bound still bounds).
 */
export function mergeMetrics(type: FloeType, a: ColumnMetrics, b: ColumnMetrics): ColumnMetrics {
  const merged: ColumnMetrics = { valueCount: a.valueCount + b.valueCount, nullCount: a.nullCount + b.nullCount };
  if (a.nanCount !== undefined || b.nanCount !== undefined) merged.nanCount = (a.nanCount ?? 0) + (b.nanCount ?? 0);
  const pick = (x: Uint8Array | undefined, y: Uint8Array | undefined, smaller: boolean) => {
    if (x === undefined || y === undefined) return x ?? y;
    return (compareBounds(type, x, y) <= 0) === smaller ? x : y;
  };
  // A part with values but no upper bound (an untruncatable string) leaves the whole without one.
  const lower = pick(a.lowerBound, b.lowerBound, true);
  const upperUnknown = (m: ColumnMetrics) => m.lowerBound !== undefined && m.upperBound === undefined;
  const upper = upperUnknown(a) || upperUnknown(b) ? undefined : pick(a.upperBound, b.upperBound, false);
  if (lower) merged.lowerBound = lower;
  if (upper) merged.upperBound = upper;
  return merged;
}

/** Orders two bounds of one type as Iceberg orders the values. */
function compareBounds(type: FloeType, a: Uint8Array, b: Uint8Array): number {
  if (type.kind === "STRING" || type.kind === "BYTES") return compareBytes(a, 0, a.length, { bytes: b, start: 0, end: b.length });
  const x = readBound(type, a);
  const y = readBound(type, b);
  if (typeof x === "number" && typeof y === "number") return totalOrder(x, y);
  return x < y ? -1 : x > y ? 1 : 0;
}

/** IEEE 754 totalOrder of two non-NaN numbers: -0.0 before +0.0. */
function totalOrder(x: number, y: number): number {
  if (x !== y) return x < y ? -1 : 1;
  return Object.is(x, y) ? 0 : Object.is(x, -0) ? -1 : 1;
}
