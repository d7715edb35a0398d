/**
 * Rows of Arrow columns as JSON object text, written column by column into
 * UTF-8 bytes: each column gets one formatter for its type, which writes a
 * row's key and value straight from the column's buffers. No row object is
 * built and nothing is stringified whole; strings are copied as the UTF-8
 * they are stored as, escaped where JSON needs it. The output is sized once
 * from the columns (fixed-width values have a longest spelling; strings are
 * measured escaped, base64 computed), so no write checks for room.
 *
 * Invariant: the text is byte for byte `JSON.stringify` of the row objects
 * that `scalarToJson` spells (`values.ts`), keys in column order: BIGINT a
 * number when safe, else a string; DECIMAL a string; BYTES base64; DATE,
 * TIME and timestamps ISO-8601; non-finite floats as strings; -0 as 0;
 * strings escaped as `JSON.stringify` escapes them (`"`, `\`, control
 * characters; UTF-8 holds no lone surrogates).
 */
import type * as arrow from "apache-arrow";
import type { Column } from "./schema.ts";
import type { FloeType } from "./types.ts";
import { formatDecimal } from "./values.ts";
import { readInt128 } from "./columns.ts";

const utf8 = new TextEncoder();

/** Writes one row's key and value into `out` from `at`; answers where it ended. */
type CellWriter = (out: Uint8Array, at: number, row: number) => number;

interface ColumnText {
  write: CellWriter;
  /** Bytes the column's cells of `rowCount` rows take at most, key included. */
  bytesMax: number;
}

/**
 * The JSON objects of `rowCount` rows of `data` (one Arrow column per entry
 * of `columns`), each preceded by `before` and followed by `after` (for
 * example `,` and nothing, or nothing and a newline), as UTF-8.
 */
export function jsonRowsText(columns: readonly Column[], data: readonly arrow.Data[], rowCount: number, before: string, after: string): Uint8Array {
  const open = utf8.encode(`${before}${columns.length === 0 ? "{" : ""}`);
  const close = utf8.encode(`}${after}`);
  const texts = columns.map((column, c) => columnText(column, c === 0 ? "{" : ",", data[c]!, rowCount));
  const out = new Uint8Array(texts.reduce((n, t) => n + t.bytesMax, rowCount * (open.length + close.length)));
  const writers = texts.map((t) => t.write);
  let at = 0;
  for (let row = 0; row < rowCount; row++) {
    for (let i = 0; i < open.length; i++) out[at++] = open[i]!;
    for (let c = 0; c < writers.length; c++) at = writers[c]!(out, at, row);
    for (let i = 0; i < close.length; i++) out[at++] = close[i]!;
  }
  return out.subarray(0, at);
}

const nullText = utf8.encode("null");

/** One column's writer: its key (after `lead`, `{` or `,`), then `null` or its value. */
function columnText(column: Column, lead: string, data: arrow.Data, rowCount: number): ColumnText {
  const key = utf8.encode(`${lead}${JSON.stringify(column.name)}:`);
  const { write: value, bytesMax } = valueText(column.type, data, rowCount);
  const bitmap = data.nullBitmap;
  const offset = data.offset;
  const nullable = data.nullCount > 0 && bitmap !== undefined && bitmap.length > 0;
  const write: CellWriter = (out, at, row) => {
    for (let i = 0; i < key.length; i++) out[at++] = key[i]!;
    const bit = offset + row;
    if (nullable && (bitmap[bit >> 3]! & (1 << (bit & 7))) === 0) {
      for (let i = 0; i < 4; i++) out[at++] = nullText[i]!;
      return at;
    }
    return value(out, at, row);
  };
  return { write, bytesMax: rowCount * (key.length + 4) + bytesMax };
}

/** The longest spellings: `-2147483648`; a double such as `-1.2345678901234567e-300`; `"-9223372036854775808"`; a 38-digit decimal with sign, point and quotes. */
const intBytesMax = 11;
const doubleBytesMax = 26;
const bigintBytesMax = 22;
const decimalBytesMax = 42;
const dateBytesMax = 12;
const timeBytesMax = 17;
const timestampBytesMax = 30;

/** The writer of one column's non-null values by the column's type, and the bytes its values take at most. */
function valueText(type: FloeType, data: arrow.Data, rowCount: number): { write: CellWriter; bytesMax: number } {
  switch (type.kind) {
    case "BOOLEAN": return { write: booleanWriter(data), bytesMax: rowCount * 5 };
    case "TINYINT":
    case "SMALLINT":
    case "INT": return { write: intWriter(data.values as Int8Array | Int16Array | Int32Array), bytesMax: rowCount * intBytesMax };
    case "FLOAT":
    case "DOUBLE": return { write: floatWriter(data.values as Float32Array | Float64Array), bytesMax: rowCount * doubleBytesMax };
    case "BIGINT": return { write: bigintWriter(data), bytesMax: rowCount * bigintBytesMax };
    case "DECIMAL": return { write: decimalWriter(data, type.scale), bytesMax: rowCount * decimalBytesMax };
    case "STRING": return { write: stringWriter(data), bytesMax: rowCount * 2 + escapedBytes(data, rowCount) };
    case "BYTES": return { write: base64Writer(data), bytesMax: rowCount * 6 + Math.ceil((4 * variableBytes(data, rowCount)) / 3) };
    case "DATE": return { write: dateWriter(data.values as Int32Array), bytesMax: rowCount * dateBytesMax };
    case "TIME": return { write: timeWriter(data), bytesMax: rowCount * timeBytesMax };
    case "TIMESTAMP":
    case "TIMESTAMP_LTZ": return { write: timestampWriter(data, type.precision, type.kind === "TIMESTAMP_LTZ"), bytesMax: rowCount * timestampBytesMax };
  }
}

function variableBytes(data: arrow.Data, rowCount: number): number {
  const offsets = data.valueOffsets as Int32Array;
  return offsets[rowCount]! - offsets[0]!;
}

/** The bytes a string column's values take once escaped: counted, not bounded, so long text needs no six-fold room. */
function escapedBytes(data: arrow.Data, rowCount: number): number {
  const offsets = data.valueOffsets as Int32Array;
  const bytes = data.values as Uint8Array;
  let total = 0;
  for (let i = offsets[0]!; i < offsets[rowCount]!; i++) {
    const byte = bytes[i]!;
    const escape = byte < 0x60 ? escapes[byte]! : 0;
    total += escape === 0 ? 1 : escape === 117 ? 6 : 2;
  }
  return total;
}

/** The two ASCII digits of 0..99, for writing numbers two digits at a time. */
const digitPairs = utf8.encode(Array.from({ length: 100 }, (_, i) => String(i).padStart(2, "0")).join(""));

/** How many decimal digits a non-negative integer below 2^53 has. */
function digitCount(value: number): number {
  let count = 1;
  let bound = 10;
  while (value >= bound && count < 16) {
    count++;
    bound *= 10;
  }
  return count;
}

/** Writes the last `width` digits of a non-negative integer, zero-padded, ending at `end`. */
function writeDigitsBack(out: Uint8Array, end: number, value: number, width: number): void {
  let rest = value;
  let at = end;
  // Above 2^31 one digit at a time in float arithmetic (exact below 2^53); then in 32-bit integers, two at a time.
  while (rest >= 0x80000000 && at > end - width) {
    const next = Math.floor(rest / 10);
    out[--at] = 48 + (rest - next * 10);
    rest = next;
  }
  while (at - 2 >= end - width) {
    const next = (rest / 100) | 0;
    const pair = (rest - next * 100) * 2;
    out[--at] = digitPairs[pair + 1]!;
    out[--at] = digitPairs[pair]!;
    rest = next;
  }
  if (at > end - width) out[--at] = 48 + (rest % 10);
}

/** Writes a non-negative integer below 2^53 in decimal digits. */
function writeDigits(out: Uint8Array, at: number, value: number): number {
  const length = digitCount(value);
  writeDigitsBack(out, at + length, value, length);
  return at + length;
}

/** Writes an integer of magnitude below 2^53 (-0 as 0). */
function writeInteger(out: Uint8Array, at: number, value: number): number {
  if (value < 0) {
    out[at++] = 45;
    return writeDigits(out, at, -value);
  }
  return writeDigits(out, at, value + 0);
}

/** Writes a non-negative number zero-padded to `width` digits. */
function writePadded(out: Uint8Array, at: number, value: number, width: number): number {
  writeDigitsBack(out, at + width, value, width);
  return at + width;
}

function writeAscii(out: Uint8Array, at: number, text: string): number {
  for (let i = 0; i < text.length; i++) out[at++] = text.charCodeAt(i);
  return at;
}

const trueText = utf8.encode("true");
const falseText = utf8.encode("false");

function booleanWriter(data: arrow.Data): CellWriter {
  const bits = data.values as Uint8Array;
  const offset = data.offset;
  return (out, at, row) => {
    const bit = offset + row;
    const text = (bits[bit >> 3]! & (1 << (bit & 7))) !== 0 ? trueText : falseText;
    for (let i = 0; i < text.length; i++) out[at++] = text[i]!;
    return at;
  };
}

function intWriter(values: Int8Array | Int16Array | Int32Array): CellWriter {
  return (out, at, row) => writeInteger(out, at, values[row]!);
}

function floatWriter(values: Float32Array | Float64Array): CellWriter {
  return (out, at, row) => {
    const value = values[row]!;
    if (value === Math.trunc(value) && Math.abs(value) < 2 ** 53) return writeInteger(out, at, value);
    return writeAscii(out, at, Number.isFinite(value) ? String(value) : `"${value}"`);
  };
}

/** The signed 64-bit values of a column as pairs of 32-bit words (low, high), read without BigInts. */
function int64Words(data: arrow.Data): Int32Array {
  const values = data.values as BigInt64Array;
  return new Int32Array(values.buffer, values.byteOffset, values.length * 2);
}

/** The 64-bit value at `row` as an exact number, or NaN when its magnitude reaches 2^53. */
function int64Number(words: Int32Array, row: number): number {
  const high = words[2 * row + 1]!;
  if (high < -0x200000 || high >= 0x200000) return NaN;
  return high * 4294967296 + (words[2 * row]! >>> 0);
}

function bigintWriter(data: arrow.Data): CellWriter {
  const words = int64Words(data);
  const values = data.values as BigInt64Array;
  return (out, at, row) => {
    const value = int64Number(words, row);
    if (Number.isSafeInteger(value)) return writeInteger(out, at, value);
    return writeAscii(out, at, `"${values[row]!}"`);
  };
}

function decimalWriter(data: arrow.Data, scale: number): CellWriter {
  const words = data.values as Uint32Array;
  const unit = 10 ** scale;
  return (out, at, row) => {
    const w1 = words[row * 4 + 1]!;
    const w2 = words[row * 4 + 2]!;
    const w3 = words[row * 4 + 3]!;
    // Unscaled values below 2^53 in magnitude (most money) are exact numbers; the rest go through BigInt.
    let value = NaN;
    if (w3 === 0 && w2 === 0 && w1 < 0x200000) value = w1 * 4294967296 + words[row * 4]!;
    else if (w3 === 0xffffffff && w2 === 0xffffffff && w1 >= 0xffe00000) value = (w1 | 0) * 4294967296 + words[row * 4]!;
    if (!Number.isSafeInteger(value)) return writeAscii(out, at, `"${formatDecimal(readInt128(words, row), scale)}"`);
    out[at++] = 34;
    if (value < 0) out[at++] = 45;
    const magnitude = Math.abs(value);
    if (scale === 0) {
      at = writeDigits(out, at, magnitude);
    } else {
      const whole = Math.floor(magnitude / unit);
      at = writeDigits(out, at, whole);
      out[at++] = 46;
      at = writePadded(out, at, magnitude - whole * unit, scale);
    }
    out[at++] = 34;
    return at;
  };
}

const hex = utf8.encode("0123456789abcdef");
/** Per byte below 0x60: 0 when copied as it is, else the character after the backslash (`u` for \u00XX). */
const escapes = new Uint8Array(0x60);
for (let b = 0; b < 0x20; b++) escapes[b] = 117; // u
escapes[0x08] = 98; // \b
escapes[0x09] = 116; // \t
escapes[0x0a] = 110; // \n
escapes[0x0c] = 102; // \f
escapes[0x0d] = 114; // \r
escapes[0x22] = 34; // \"
escapes[0x5c] = 92; // \\

function stringWriter(data: arrow.Data): CellWriter {
  const offsets = data.valueOffsets as Int32Array;
  const bytes = data.values as Uint8Array;
  return (out, at, row) => {
    const end = offsets[row + 1]!;
    out[at++] = 34;
    for (let i = offsets[row]!; i < end; i++) {
      const byte = bytes[i]!;
      const escape = byte < 0x60 ? escapes[byte]! : 0;
      if (escape === 0) {
        out[at++] = byte;
        continue;
      }
      out[at++] = 92;
      out[at++] = escape;
      if (escape === 117) {
        out[at++] = 48;
        out[at++] = 48;
        out[at++] = hex[byte >> 4]!;
        out[at++] = hex[byte & 15]!;
      }
    }
    out[at++] = 34;
    return at;
  };
}

const base64Alphabet = utf8.encode("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/");

function base64Writer(data: arrow.Data): CellWriter {
  const offsets = data.valueOffsets as Int32Array;
  const bytes = data.values as Uint8Array;
  return (out, at, row) => {
    const end = offsets[row + 1]!;
    let i = offsets[row]!;
    out[at++] = 34;
    for (; i + 3 <= end; i += 3) {
      const triple = (bytes[i]! << 16) | (bytes[i + 1]! << 8) | bytes[i + 2]!;
      out[at++] = base64Alphabet[triple >> 18]!;
      out[at++] = base64Alphabet[(triple >> 12) & 63]!;
      out[at++] = base64Alphabet[(triple >> 6) & 63]!;
      out[at++] = base64Alphabet[triple & 63]!;
    }
    if (end - i === 1) {
      const first = bytes[i]!;
      out[at++] = base64Alphabet[first >> 2]!;
      out[at++] = base64Alphabet[(first & 3) << 4]!;
      out[at++] = 61;
      out[at++] = 61;
    } else if (end - i === 2) {
      const pair = (bytes[i]! << 8) | bytes[i + 1]!;
      out[at++] = base64Alphabet[pair >> 10]!;
      out[at++] = base64Alphabet[(pair >> 4) & 63]!;
      out[at++] = base64Alphabet[(pair & 15) << 2]!;
      out[at++] = 61;
    }
    out[at++] = 34;
    return at;
  };
}

/**
 * Writes the proleptic Gregorian date of a day number (days since
 * 1970-01-01) as `YYYY-MM-DD`, as `Date` computes it (H. Hinnant's
 * `civil_from_days`), for the years 0001..9999 Floe holds.
 */
function writeCivilDate(out: Uint8Array, at: number, days: number): number {
  const z = days + 719468;
  const era = Math.floor(z / 146097);
  const dayOfEra = z - era * 146097;
  const yearOfEra = Math.floor((dayOfEra - Math.floor(dayOfEra / 1460) + Math.floor(dayOfEra / 36524) - Math.floor(dayOfEra / 146096)) / 365);
  const dayOfYear = dayOfEra - (365 * yearOfEra + Math.floor(yearOfEra / 4) - Math.floor(yearOfEra / 100));
  const shiftedMonth = Math.floor((5 * dayOfYear + 2) / 153);
  const day = dayOfYear - Math.floor((153 * shiftedMonth + 2) / 5) + 1;
  const month = shiftedMonth < 10 ? shiftedMonth + 3 : shiftedMonth - 9;
  at = writePadded(out, at, yearOfEra + era * 400 + (month <= 2 ? 1 : 0), 4);
  out[at++] = 45;
  at = writePadded(out, at, month, 2);
  out[at++] = 45;
  return writePadded(out, at, day, 2);
}

/** Writes `HH:MM:SS` of a second of the day. */
function writeClock(out: Uint8Array, at: number, secondOfDay: number): number {
  at = writePadded(out, at, Math.floor(secondOfDay / 3600), 2);
  out[at++] = 58;
  at = writePadded(out, at, Math.floor(secondOfDay / 60) % 60, 2);
  out[at++] = 58;
  return writePadded(out, at, secondOfDay % 60, 2);
}

function dateWriter(values: Int32Array): CellWriter {
  return (out, at, row) => {
    out[at++] = 34;
    at = writeCivilDate(out, at, values[row]!);
    out[at++] = 34;
    return at;
  };
}

function timeWriter(data: arrow.Data): CellWriter {
  const words = int64Words(data);
  return (out, at, row) => {
    // A time of day is below 86,400,000,000 microseconds: always an exact number.
    const micros = int64Number(words, row);
    const fraction = micros % 1_000_000;
    out[at++] = 34;
    at = writeClock(out, at, (micros - fraction) / 1_000_000);
    if (fraction !== 0) {
      out[at++] = 46;
      at = writePadded(out, at, fraction, 6);
    }
    out[at++] = 34;
    return at;
  };
}

function timestampWriter(data: arrow.Data, precision: number, utc: boolean): CellWriter {
  const words = int64Words(data);
  const values = data.values as BigInt64Array;
  const divisor = 10 ** (6 - precision);
  // Rows of a stream mostly share their second: its 19 characters are formatted once and copied.
  let secondStart = NaN;
  const secondText = new Uint8Array(19);
  const setSecond = (second: number) => {
    const secondOfDay = ((second % 86_400) + 86_400) % 86_400;
    const at = writeCivilDate(secondText, 0, (second - secondOfDay) / 86_400);
    secondText[at] = 84; // T
    writeClock(secondText, at + 1, secondOfDay);
  };
  return (out, at, row) => {
    const micros = int64Number(words, row);
    let fraction = micros - secondStart;
    if (!(fraction >= 0 && fraction < 1_000_000)) {
      let second: number;
      if (Number.isNaN(micros)) {
        // Beyond ±2^53 microseconds (after the year 2255): split exactly with BigInt, and cache nothing.
        const exact = values[row]!;
        const rest = ((exact % 1_000_000n) + 1_000_000n) % 1_000_000n;
        fraction = Number(rest);
        second = Number((exact - rest) / 1_000_000n);
        secondStart = NaN;
      } else {
        second = Math.floor(micros / 1_000_000);
        fraction = micros - second * 1_000_000;
        if (fraction < 0) (second -= 1), (fraction += 1_000_000);
        else if (fraction >= 1_000_000) (second += 1), (fraction -= 1_000_000);
        secondStart = second * 1_000_000;
      }
      setSecond(second);
    }
    out[at++] = 34;
    for (let i = 0; i < 19; i++) out[at++] = secondText[i]!;
    if (precision > 0) {
      out[at++] = 46;
      at = writePadded(out, at, Math.floor(fraction / divisor), precision);
    }
    if (utc) out[at++] = 90; // Z
    out[at++] = 34;
    return at;
  };
}
