/**
 * Arrow column buffers for Floe types: building a column from scalars and
 * reading one value back, straight from the buffers.
 *
 * Columns are built with `makeData` over typed arrays and explicit validity
 * bitmaps, never with apache-arrow's builders: those compile code with
 * `new Function`, which the Workers runtime forbids inside handlers.
 */
import * as arrow from "apache-arrow";
import type { FloeType } from "./types.ts";
import type { Column } from "./schema.ts";
import { arrowType, timestampPrecisionMax } from "./types.ts";
import type { Scalar } from "./values.ts";
import { isDateInRange, isTimeInRange, isTimestampInRange, truncateMicros } from "./values.ts";
import { makeColumn } from "../arrow/gather.ts";

const utf8Encoder = new TextEncoder();
const utf8Decoder = new TextDecoder();
const int128Mask = (1n << 128n) - 1n;

export function buildColumn(type: FloeType, values: readonly (Scalar | null)[]): arrow.Data {
  const length = values.length;
  const { nullBitmap, nullCount } = validityOf(values);
  const common = { type: arrowType(type), length, nullCount, nullBitmap } as const;
  switch (type.kind) {
    case "BOOLEAN": {
      const bits = new Uint8Array(Math.ceil(length / 8));
      values.forEach((v, i) => { if (v === true) bits[i >> 3]! |= 1 << (i & 7); });
      return arrow.makeData({ ...common, type: common.type as arrow.Bool, data: bits });
    }
    case "STRING":
    case "BYTES": {
      const { valueOffsets, data } = concatenate(values as readonly (string | Uint8Array | null)[]);
      return arrow.makeData({ ...common, type: common.type as arrow.Utf8, valueOffsets, data });
    }
    case "DECIMAL": {
      const words = new Uint32Array(length * 4);
      values.forEach((v, i) => { if (v !== null) writeInt128(words, i, v as bigint); });
      return arrow.makeData({ ...common, type: common.type as arrow.Decimal, data: words });
    }
    default: {
      const data = fixedWidthValues(type, length) as Exclude<ReturnType<typeof fixedWidthValues>, Uint32Array>;
      const zero = data instanceof BigInt64Array ? 0n : 0;
      values.forEach((v, i) => { data[i] = (v ?? zero) as never; });
      return makeColumn({ ...common, data });
    }
  }
}

/** The scalar at `index`, or null. */
export function readScalar(type: FloeType, data: arrow.Data, index: number): Scalar | null {
  if (!data.getValid(index)) return null;
  switch (type.kind) {
    case "BOOLEAN": {
      const bit = data.offset + index;
      return (data.values[bit >> 3] & (1 << (bit & 7))) !== 0;
    }
    case "STRING":
      return utf8Decoder.decode(valueBytes(data, index));
    case "BYTES":
      return valueBytes(data, index).slice();
    case "DECIMAL":
      return readInt128(data.values as Uint32Array, index);
    default:
      return data.values[index] as number | bigint;
  }
}

/** The raw bytes of a variable-width (STRING or BYTES) value, without copying. */
export function valueBytes(data: arrow.Data, index: number): Uint8Array {
  const offsets = data.valueOffsets as Int32Array;
  return (data.values as Uint8Array).subarray(offsets[index]!, offsets[index + 1]!);
}

/**
 * The first row whose value the column's type cannot hold although its Arrow
 * type can (a DECIMAL beyond its precision, a TIME outside the day, a DATE or
 * timestamp outside `temporalRange`), or -1 when every row fits.
 */
export function firstValueOutOfRange(type: FloeType, data: arrow.Data): number {
  const fits = rangeCheck(type);
  if (fits === undefined) return -1;
  for (let row = 0; row < data.length; row++) {
    if (data.getValid(row) && !fits(data.values, row)) return row;
  }
  return -1;
}

/** Whether the value at a row of a column's values buffer fits the type; undefined when the Arrow type holds only fitting values. */
function rangeCheck(type: FloeType): ((values: arrow.Data["values"], row: number) => boolean) | undefined {
  switch (type.kind) {
    case "DECIMAL": {
      const limit = 10n ** BigInt(type.precision);
      return (values, row) => {
        const value = readInt128(values as Uint32Array, row);
        return value < limit && value > -limit;
      };
    }
    case "DATE":
      return (values, row) => isDateInRange((values as Int32Array)[row]!);
    case "TIME":
      return (values, row) => isTimeInRange((values as BigInt64Array)[row]!);
    case "TIMESTAMP":
    case "TIMESTAMP_LTZ":
      return (values, row) => isTimestampInRange((values as BigInt64Array)[row]!);
    default:
      return undefined;
  }
}

/**
 * Truncates a timestamp column's values to the column's precision, in place,
 * so values that arrive as Arrow obey the same rule as values sent as JSON.
 */
export function truncateTimestamps(type: FloeType, data: arrow.Data): void {
  if ((type.kind !== "TIMESTAMP" && type.kind !== "TIMESTAMP_LTZ") || type.precision === timestampPrecisionMax) return;
  const values = data.values as BigInt64Array;
  for (let i = 0; i < data.length; i++) values[i] = truncateMicros(values[i]!, type.precision);
}

export function readInt128(words: Uint32Array, index: number): bigint {
  const at = index * 4;
  const unsigned =
    BigInt(words[at]!) |
    (BigInt(words[at + 1]!) << 32n) |
    (BigInt(words[at + 2]!) << 64n) |
    (BigInt(words[at + 3]!) << 96n);
  return BigInt.asIntN(128, unsigned);
}

function writeInt128(words: Uint32Array, index: number, value: bigint): void {
  let bits = value & int128Mask;
  for (let w = 0; w < 4; w++) {
    words[index * 4 + w] = Number(bits & 0xffffffffn);
    bits >>= 32n;
  }
}

/** A zeroed values buffer for `length` values of a fixed-width type, as Arrow lays it out (DECIMAL: four 32-bit words each). */
export function fixedWidthValues(type: FloeType, length: number): Int8Array | Int16Array | Int32Array | Float32Array | Float64Array | BigInt64Array | Uint32Array {
  switch (type.kind) {
    case "TINYINT": return new Int8Array(length);
    case "SMALLINT": return new Int16Array(length);
    case "INT":
    case "DATE": return new Int32Array(length);
    case "FLOAT": return new Float32Array(length);
    case "DOUBLE": return new Float64Array(length);
    case "BIGINT":
    case "TIME":
    case "TIMESTAMP":
    case "TIMESTAMP_LTZ": return new BigInt64Array(length);
    case "DECIMAL": return new Uint32Array(length * 4);
    default: throw new Error(`${type.kind} is not a fixed-width type`);
  }
}


function validityOf(values: readonly (Scalar | null)[]): { nullBitmap: Uint8Array | undefined; nullCount: number } {
  let nullCount = 0;
  for (const v of values) if (v === null) nullCount++;
  if (nullCount === 0) return { nullBitmap: undefined, nullCount };
  const nullBitmap = new Uint8Array(Math.ceil(values.length / 8));
  values.forEach((v, i) => { if (v !== null) nullBitmap[i >> 3]! |= 1 << (i & 7); });
  return { nullBitmap, nullCount };
}

/** Strings (as UTF-8) and byte strings laid end to end, with their offsets. */
function concatenate(values: readonly (string | Uint8Array | null)[]): { valueOffsets: Int32Array; data: Uint8Array } {
  const valueOffsets = new Int32Array(values.length + 1);
  // A UTF-16 code unit never takes more than 3 bytes of UTF-8.
  let capacity = 0;
  for (const v of values) if (v !== null) capacity += typeof v === "string" ? v.length * 3 : v.length;
  const data = new Uint8Array(capacity);
  let at = 0;
  values.forEach((v, i) => {
    if (v !== null) at += typeof v === "string" ? writeUtf8(v, data, at) : (data.set(v, at), v.length);
    valueOffsets[i + 1] = at;
  });
  return { valueOffsets, data: at === capacity ? data : data.slice(0, at) };
}

/** Writes `text` as UTF-8 at `at`, answering the bytes written; ASCII is copied directly, being most of what tables hold. */
function writeUtf8(text: string, out: Uint8Array, at: number): number {
  for (let i = 0; i < text.length; i++) {
    const unit = text.charCodeAt(i);
    if (unit >= 0x80) return utf8Encoder.encodeInto(text, out.subarray(at)).written;
    out[at + i] = unit;
  }
  return text.length;
}

/** The Arrow schema of a table's log batches, with optional custom metadata. */
export function arrowSchemaOf(columns: readonly Column[], metadata?: Record<string, string>): arrow.Schema {
  const fields = columns.map((c) => new arrow.Field(c.name, arrowType(c.type), c.nullable));
  return new arrow.Schema(fields, metadata ? new Map(Object.entries(metadata)) : undefined);
}
