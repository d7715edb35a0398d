/**
 * Arrow types that ordinary producers write (pyarrow, pandas, apache-arrow
 * JS, DuckDB, Polars), widened to the Arrow type a Floe column is stored as
 * (docs/types.md#arrow-input):
 *
 * - integers to a wider integer column (Int8/16/32 and UInt8/16/32 to
 *   BIGINT, Int8/16 and UInt8/16 to INT, …), Float32 to DOUBLE;
 * - Decimal128 of the column's scale and no more digits, or of a smaller
 *   scale with no more integral digits (rescaled);
 * - timestamps and times of any unit (seconds, milliseconds, microseconds;
 *   nanoseconds only when every value is a whole microsecond), a timestamp
 *   with any time zone to TIMESTAMP_LTZ, one without to TIMESTAMP;
 * - Utf8, LargeUtf8 and Dictionary<Utf8> to STRING; Binary, LargeBinary and
 *   Dictionary<Binary> to BYTES; Date32 and Date64 (whole days) to DATE.
 *
 * Invariant: a widening never changes a value. A type that could (Float64
 * to BIGINT, Int64 to INT, a timestamp without a zone to TIMESTAMP_LTZ) is
 * refused with the Arrow types the column takes, and a value that would
 * change (a nanosecond timestamp with sub-microsecond digits, a Date64 that
 * is not a whole day) is refused naming its row. Values beyond the int64
 * range after scaling are clamped there, where the column's range check
 * refuses them. Works on the buffers (`makeData`), never on builders.
 */
import * as arrow from "apache-arrow";
import type { FloeType } from "../table/types.ts";
import { arrowType } from "../table/types.ts";

/** What to do with an input field: take it as it is, convert it, or refuse it (naming what the column takes). */
export type Widening =
  | { kind: "exact" }
  | { kind: "widen"; widen(data: arrow.Data): arrow.Data }
  | { kind: "refused"; accepted: string };

/** A value a widening would change; `row` is within the chunk being widened. */
export class WideningError extends Error {
  constructor(
    message: string,
    readonly row: number,
  ) {
    super(message);
  }
}

const int64Max = (1n << 63n) - 1n;
const int64Min = -(1n << 63n);
const dayMs = 86_400_000n;
/** Microseconds per unit of `arrow.TimeUnit` (SECOND, MILLISECOND, MICROSECOND, NANOSECOND). */
const microsPerUnit = [1_000_000n, 1_000n, 1n, 0n] as const;

export function wideningOf(type: FloeType, input: arrow.DataType): Widening {
  const target = arrowType(type);
  if (String(target) === String(input)) return { kind: "exact" };
  const widening = widen(type, target, input);
  return widening ?? { kind: "refused", accepted: acceptedTypes(type) };
}

/** The Arrow types a column of `type` takes, for a refusal's message. */
export function acceptedTypes(type: FloeType): string {
  const exact = String(arrowType(type));
  switch (type.kind) {
    case "TINYINT": return exact;
    case "SMALLINT": return `${exact} (or Int8, UInt8)`;
    case "INT": return `${exact} (or Int8, Int16, UInt8, UInt16)`;
    case "BIGINT": return `${exact} (or Int8, Int16, Int32, UInt8, UInt16, UInt32)`;
    case "DOUBLE": return `${exact} (or Float32)`;
    case "DECIMAL": return `${exact} (or a Decimal128 of scale at most ${type.scale} and at most ${type.precision - type.scale} integral digits)`;
    case "STRING": return `${exact} (or LargeUtf8, Dictionary<Utf8>)`;
    case "BYTES": return `${exact} (or LargeBinary, Dictionary<Binary>)`;
    case "DATE": return `${exact} (or Date64 of whole days)`;
    case "TIME": return `${exact} (or Time32 in seconds or milliseconds, Time64 in nanoseconds)`;
    case "TIMESTAMP": return `${exact} (or a Timestamp of any unit without a time zone)`;
    case "TIMESTAMP_LTZ": return `${exact} (or a Timestamp of any unit with a time zone)`;
    default: return exact;
  }
}

function widen(type: FloeType, target: arrow.DataType, input: arrow.DataType): Widening | undefined {
  const to = (convert: (data: arrow.Data) => arrow.Data): Widening => ({ kind: "widen", widen: convert });
  switch (type.kind) {
    case "TINYINT":
    case "SMALLINT":
    case "INT":
    case "BIGINT": {
      if (!arrow.DataType.isInt(input)) return undefined;
      const bits = (target as arrow.Int).bitWidth;
      const fits = input.isSigned ? input.bitWidth <= bits : input.bitWidth < bits;
      return fits ? to((data) => integers(target, data)) : undefined;
    }
    case "DOUBLE":
      return arrow.DataType.isFloat(input) && input.precision === arrow.Precision.SINGLE ? to((data) => floats(target, data)) : undefined;
    case "DECIMAL": {
      if (!arrow.DataType.isDecimal(input) || input.bitWidth !== 128) return undefined;
      const fits = input.scale <= type.scale && input.precision - input.scale <= type.precision - type.scale;
      return fits ? to((data) => decimals(target, data, type.scale - input.scale)) : undefined;
    }
    case "STRING":
    case "BYTES": {
      const text = type.kind === "STRING";
      const matches = (t: arrow.DataType) => (text ? arrow.DataType.isUtf8(t) || arrow.DataType.isLargeUtf8(t) : arrow.DataType.isBinary(t) || arrow.DataType.isLargeBinary(t));
      if (arrow.DataType.isDictionary(input)) return matches(input.dictionary) ? to((data) => fromDictionary(target, data)) : undefined;
      return matches(input) ? to((data) => fromLargeOffsets(target, data)) : undefined;
    }
    case "DATE":
      return arrow.DataType.isDate(input) && input.unit === arrow.DateUnit.MILLISECOND ? to((data) => daysOfDate64(target, data)) : undefined;
    case "TIME": {
      if (!arrow.DataType.isTime(input)) return undefined;
      return to((data) => toMicros(target, data, input.unit, "time"));
    }
    case "TIMESTAMP":
    case "TIMESTAMP_LTZ": {
      if (!arrow.DataType.isTimestamp(input)) return undefined;
      const zoned = input.timezone !== null && input.timezone !== "";
      if (zoned !== (type.kind === "TIMESTAMP_LTZ")) return undefined;
      return to((data) => toMicros(target, data, input.unit, "timestamp"));
    }
    default:
      return undefined;
  }
}

/** The chunk's validity, from offset 0 (decoded IPC chunks start there; a slice is copied). */
function validity(data: arrow.Data): { nullCount: number; nullBitmap: Uint8Array | undefined } {
  if (data.nullCount === 0) return { nullCount: 0, nullBitmap: undefined };
  if (data.offset === 0 && data.nullBitmap) return { nullCount: data.nullCount, nullBitmap: data.nullBitmap };
  const nullBitmap = new Uint8Array(Math.ceil(data.length / 8));
  for (let i = 0; i < data.length; i++) if (data.getValid(i)) nullBitmap[i >> 3]! |= 1 << (i & 7);
  return { nullCount: data.nullCount, nullBitmap };
}

const makeColumn = arrow.makeData as (props: object) => arrow.Data;

function integers(target: arrow.DataType, data: arrow.Data): arrow.Data {
  const values = (data.values as ArrayLike<number>);
  const length = data.length;
  const begin = data.offset;
  let out: Int16Array | Int32Array | BigInt64Array;
  if (target.typeId === arrow.Type.Int && (target as arrow.Int).bitWidth === 64) {
    out = new BigInt64Array(length);
    for (let i = 0; i < length; i++) out[i] = BigInt(values[begin + i]!);
  } else {
    out = (target as arrow.Int).bitWidth === 32 ? new Int32Array(length) : new Int16Array(length);
    for (let i = 0; i < length; i++) out[i] = values[begin + i]!;
  }
  return makeColumn({ type: target, length, ...validity(data), data: out });
}

function floats(target: arrow.DataType, data: arrow.Data): arrow.Data {
  const values = data.values as Float32Array;
  const out = Float64Array.from(values.subarray(data.offset, data.offset + data.length));
  return makeColumn({ type: target, length: data.length, ...validity(data), data: out });
}

/** Decimal128 words, multiplied by 10^`shift` (0: the same words under the column's type). */
function decimals(target: arrow.DataType, data: arrow.Data, shift: number): arrow.Data {
  const words = data.values as Uint32Array;
  const out = words.slice(data.offset * 4, (data.offset + data.length) * 4);
  if (shift > 0) {
    const factor = 10n ** BigInt(shift);
    for (let i = 0; i < data.length; i++) {
      if (!data.getValid(i)) continue;
      const at = i * 4;
      const value = BigInt.asIntN(128, BigInt(out[at]!) | (BigInt(out[at + 1]!) << 32n) | (BigInt(out[at + 2]!) << 64n) | (BigInt(out[at + 3]!) << 96n));
      // Integral digits fit, so the product stays within 38 digits.
      let bits = BigInt.asUintN(128, value * factor);
      for (let w = 0; w < 4; w++, bits >>= 32n) out[at + w] = Number(bits & 0xffffffffn);
    }
  }
  return makeColumn({ type: target, length: data.length, ...validity(data), data: out });
}

/** A variable-width column with 32-bit offsets from one with 64-bit offsets (or the same widths under another type). */
function fromLargeOffsets(target: arrow.DataType, data: arrow.Data): arrow.Data {
  const offsets = data.valueOffsets as Int32Array | BigInt64Array;
  const length = data.length;
  const valueOffsets = new Int32Array(length + 1);
  const first = Number(offsets[data.offset]!);
  for (let i = 0; i <= length; i++) valueOffsets[i] = Number(offsets[data.offset + i]!) - first;
  const bytes = (data.values as Uint8Array).subarray(first, first + valueOffsets[length]!);
  return makeColumn({ type: target, length, ...validity(data), valueOffsets, data: bytes });
}

/** A dictionary-encoded column's values laid out in full; a non-null index to a null entry is a null. */
function fromDictionary(target: arrow.DataType, data: arrow.Data): arrow.Data {
  const dictionary = flatDictionary(data.dictionary!);
  const indices = data.values as ArrayLike<number | bigint>;
  const length = data.length;
  const picked = new Int32Array(length).fill(-1);
  let bytes = 0;
  for (let i = 0; i < length; i++) {
    if (!data.getValid(i)) continue;
    const index = Number(indices[data.offset + i]!);
    if (!(index >= 0 && index < dictionary.length)) {
      throw new WideningError(`dictionary index ${index} is outside the dictionary's ${dictionary.length} values`, i);
    }
    if (!dictionary.valid[index]) continue;
    picked[i] = index;
    bytes += dictionary.ends[index]! - dictionary.starts[index]!;
  }
  const out = new Uint8Array(bytes);
  const valueOffsets = new Int32Array(length + 1);
  const nullBitmap = new Uint8Array(Math.ceil(length / 8));
  let nullCount = 0;
  let at = 0;
  for (let i = 0; i < length; i++) {
    const index = picked[i]!;
    if (index < 0) nullCount++;
    else {
      nullBitmap[i >> 3]! |= 1 << (i & 7);
      out.set(dictionary.bytes.subarray(dictionary.starts[index], dictionary.ends[index]), at);
      at += dictionary.ends[index]! - dictionary.starts[index]!;
    }
    valueOffsets[i + 1] = at;
  }
  return makeColumn({ type: target, length, nullCount, nullBitmap: nullCount > 0 ? nullBitmap : undefined, valueOffsets, data: out });
}

interface FlatDictionary {
  length: number;
  bytes: Uint8Array;
  starts: Int32Array;
  ends: Int32Array;
  valid: Uint8Array;
}

/** A dictionary (possibly several chunks, after delta batches) as one byte buffer with each entry's span. */
function flatDictionary(vector: arrow.Vector): FlatDictionary {
  const chunks = vector.data;
  let length = 0;
  let byteLength = 0;
  for (const chunk of chunks) {
    const offsets = chunk.valueOffsets as Int32Array | BigInt64Array;
    length += chunk.length;
    byteLength += Number(offsets[chunk.offset + chunk.length]!) - Number(offsets[chunk.offset]!);
  }
  const flat: FlatDictionary = { length, bytes: new Uint8Array(byteLength), starts: new Int32Array(length), ends: new Int32Array(length), valid: new Uint8Array(length) };
  let entry = 0;
  let at = 0;
  for (const chunk of chunks) {
    const offsets = chunk.valueOffsets as Int32Array | BigInt64Array;
    const first = Number(offsets[chunk.offset]!);
    const last = Number(offsets[chunk.offset + chunk.length]!);
    flat.bytes.set((chunk.values as Uint8Array).subarray(first, last), at);
    for (let i = 0; i < chunk.length; i++, entry++) {
      flat.starts[entry] = at + Number(offsets[chunk.offset + i]!) - first;
      flat.ends[entry] = at + Number(offsets[chunk.offset + i + 1]!) - first;
      flat.valid[entry] = chunk.getValid(i) ? 1 : 0;
    }
    at += last - first;
  }
  return flat;
}

function daysOfDate64(target: arrow.DataType, data: arrow.Data): arrow.Data {
  const values = data.values as BigInt64Array;
  const out = new Int32Array(data.length);
  for (let i = 0; i < data.length; i++) {
    if (!data.getValid(i)) continue;
    const ms = values[data.offset + i]!;
    if (ms % dayMs !== 0n) throw new WideningError(`Date64 value ${ms} is not a whole day (a multiple of 86400000 ms)`, i);
    const days = ms / dayMs;
    // Beyond Int32, the column's range check refuses it.
    out[i] = days > 2147483647n ? 2147483647 : days < -2147483648n ? -2147483648 : Number(days);
  }
  return makeColumn({ type: target, length: data.length, ...validity(data), data: out });
}

/** Times and timestamps of another unit (or zone) as microseconds; nanoseconds must be whole microseconds. */
function toMicros(target: arrow.DataType, data: arrow.Data, unit: arrow.TimeUnit, what: string): arrow.Data {
  const values = data.values as Int32Array | BigInt64Array;
  const out = new BigInt64Array(data.length);
  const factor = microsPerUnit[unit];
  for (let i = 0; i < data.length; i++) {
    if (!data.getValid(i)) continue;
    const value = BigInt(values[data.offset + i]!);
    if (factor === 0n) {
      if (value % 1000n !== 0n) throw new WideningError(`nanosecond ${what} ${value} is not a whole microsecond, which is as fine as Floe stores`, i);
      out[i] = value / 1000n;
    } else {
      const micros = value * factor;
      out[i] = micros > int64Max ? int64Max : micros < int64Min ? int64Min : micros;
    }
  }
  return makeColumn({ type: target, length: data.length, ...validity(data), data: out });
}
