/**
 * Scalars: the in-memory form of one column value, and its JSON spelling.
 *
 * Per type the scalar is: BOOLEAN boolean; TINYINT/SMALLINT/INT/FLOAT/DOUBLE
 * number; BIGINT bigint; DECIMAL the unscaled bigint; STRING string; BYTES
 * Uint8Array; DATE days since 1970-01-01 (number); TIME microseconds of the
 * day (bigint); TIMESTAMP and TIMESTAMP_LTZ microseconds since the epoch
 * (bigint), truncated to the column's precision.
 *
 * JSON rules (docs/types.md): BIGINT is a number when safe, else a string; DECIMAL
 * a string; BYTES base64; DATE `YYYY-MM-DD`; TIME `HH:MM:SS[.ffffff]`;
 * TIMESTAMP ISO-8601 or epoch milliseconds in, ISO-8601 out (LTZ with `Z`);
 * non-finite FLOAT/DOUBLE as the strings `NaN`, `Infinity`, `-Infinity`.
 *
 * Refused rather than changed: a number FLOAT or DOUBLE cannot hold (it would
 * become an infinity), a string with a lone surrogate (UTF-8 cannot encode
 * it), and a date or timestamp outside `temporalRange`.
 */
import type { FloeType } from "./types.ts";
import { formatType } from "./types.ts";

export type Scalar = boolean | number | bigint | string | Uint8Array;
export type JsonValue = boolean | number | string | null;

/** A value that does not fit its column; the caller adds row and column. */
export class ValueError extends Error {}

const int64Min = -(1n << 63n);
const int64Max = (1n << 63n) - 1n;
const microsPerDay = 86_400_000_000n;
const intRanges = { TINYINT: 2 ** 7, SMALLINT: 2 ** 15, INT: 2 ** 31 } as const;

/**
 * Dates and timestamps lie in years 0001..9999 (timestamps in UTC, once an
 * offset is applied): the range of SQL's and Python's date and time types,
 * within what ISO-8601's four-digit years print. Past 9999 or before 0000 a
 * value would print with a sign or a fifth digit that readers refuse.
 */
export const temporalRange = {
  dateDaysMin: -719_162, // 0001-01-01
  dateDaysMax: 2_932_896, // 9999-12-31
  timestampMicrosMin: -719_162n * microsPerDay,
  timestampMicrosMax: 2_932_897n * microsPerDay - 1n,
  dates: "0001-01-01 .. 9999-12-31",
  times: "00:00:00 .. 23:59:59.999999",
  timestamps: "0001-01-01T00:00:00 .. 9999-12-31T23:59:59.999999 (UTC)",
} as const;

export function isDateInRange(days: number): boolean {
  return days >= temporalRange.dateDaysMin && days <= temporalRange.dateDaysMax;
}

export function isTimeInRange(micros: bigint): boolean {
  return micros >= 0n && micros < microsPerDay;
}

export function isTimestampInRange(micros: bigint): boolean {
  return micros >= temporalRange.timestampMicrosMin && micros <= temporalRange.timestampMicrosMax;
}

/** The values a temporal type holds, for messages; undefined for other types. */
export function temporalRangeOf(type: FloeType): string | undefined {
  switch (type.kind) {
    case "DATE": return temporalRange.dates;
    case "TIME": return temporalRange.times;
    case "TIMESTAMP":
    case "TIMESTAMP_LTZ": return temporalRange.timestamps;
    default: return undefined;
  }
}

export function scalarFromJson(type: FloeType, value: unknown): Scalar {
  const expected = () => new ValueError(`expected ${formatType(type)}, got ${describe(value)}`);
  switch (type.kind) {
    case "BOOLEAN":
      if (typeof value !== "boolean") throw expected();
      return value;
    case "TINYINT":
    case "SMALLINT":
    case "INT": {
      const limit = intRanges[type.kind];
      if (typeof value !== "number" || !Number.isInteger(value)) throw expected();
      if (value < -limit || value >= limit) throw new ValueError(`${value} is out of range for ${type.kind}`);
      return value;
    }
    case "BIGINT":
      return bigintFromJson(value, expected);
    case "FLOAT":
    case "DOUBLE":
      if (typeof value === "number") return floatFromJson(type.kind, value);
      if (value === "NaN") return NaN;
      if (value === "Infinity") return Infinity;
      if (value === "-Infinity") return -Infinity;
      throw expected();
    case "DECIMAL":
      if (typeof value !== "string" && typeof value !== "number") throw expected();
      return parseDecimal(String(value), type.precision, type.scale);
    case "STRING":
      if (typeof value !== "string") throw expected();
      if (!value.isWellFormed()) {
        const unit = /\p{Cs}/u.exec(value)![0].charCodeAt(0).toString(16).toUpperCase();
        throw new ValueError(`${describe(value)} holds a lone surrogate (\\u${unit}), which is not text UTF-8 can encode`);
      }
      return value;
    case "BYTES":
      if (typeof value !== "string") throw expected();
      return decodeBase64(value);
    case "DATE": {
      if (typeof value !== "string") throw expected();
      const days = parseDate(value);
      if (!isDateInRange(days)) throw new ValueError(`${describe(value)} is outside ${temporalRange.dates}, the range of DATE`);
      return days;
    }
    case "TIME":
      if (typeof value !== "string") throw expected();
      return parseTime(value);
    case "TIMESTAMP":
    case "TIMESTAMP_LTZ": {
      let micros: bigint;
      if (typeof value === "number" && Number.isSafeInteger(value)) micros = BigInt(value) * 1000n;
      else if (typeof value === "string") micros = parseTimestamp(value);
      else throw expected();
      if (!isTimestampInRange(micros)) {
        throw new ValueError(`${describe(value)} is outside ${temporalRange.timestamps}, the range of ${formatType(type)}`);
      }
      return truncateMicros(micros, type.precision);
    }
  }
}

export function scalarToJson(type: FloeType, value: Scalar): JsonValue {
  switch (type.kind) {
    case "BIGINT": {
      const n = value as bigint;
      return n >= -BigInt(Number.MAX_SAFE_INTEGER) && n <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(n) : n.toString();
    }
    case "FLOAT":
    case "DOUBLE": {
      const n = value as number;
      return Number.isFinite(n) ? n : String(n);
    }
    case "DECIMAL":
      return formatDecimal(value as bigint, type.scale);
    case "BYTES":
      return encodeBase64(value as Uint8Array);
    case "DATE":
      return new Date((value as number) * 86_400_000).toISOString().slice(0, 10);
    case "TIME":
      return formatTime(value as bigint);
    case "TIMESTAMP":
    case "TIMESTAMP_LTZ":
      return formatTimestamp(value as bigint, type.precision, type.kind === "TIMESTAMP_LTZ");
    default:
      return value as boolean | number | string;
  }
}

/** Microseconds truncated (towards negative infinity) to `precision` fractional digits. */
export function truncateMicros(micros: bigint, precision: number): bigint {
  const unit = 10n ** BigInt(6 - precision);
  if (unit === 1n) return micros;
  const rest = ((micros % unit) + unit) % unit;
  return micros - rest;
}

function describe(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  if (typeof value === "string") return `"${value.length > 40 ? `${value.slice(0, 40)}…` : value}"`;
  if (typeof value === "object") return "an object";
  return String(value);
}

/** A JSON number as FLOAT or DOUBLE; one beyond the type's range would become an infinity, so it is refused. */
function floatFromJson(kind: "FLOAT" | "DOUBLE", value: number): number {
  const stored = kind === "FLOAT" ? Math.fround(value) : value;
  if (Number.isFinite(stored)) return stored;
  // JSON.parse turns a literal such as 1e400 into an infinity: the number was too large, not an infinity.
  const what = Number.isFinite(value) ? describe(value) : "a number";
  throw new ValueError(`${what} is out of range for ${kind}; send infinities as the strings "Infinity" and "-Infinity"`);
}

function bigintFromJson(value: unknown, expected: () => ValueError): bigint {
  let n: bigint;
  if (typeof value === "number") {
    if (!Number.isSafeInteger(value)) {
      throw new ValueError(`${describe(value)} is not an exact integer; send BIGINT values beyond 2^53 as strings`);
    }
    n = BigInt(value);
  } else if (typeof value === "string" && /^-?\d{1,19}$/.test(value)) {
    n = BigInt(value);
  } else {
    throw expected();
  }
  if (n < int64Min || n > int64Max) throw new ValueError(`${describe(value)} is out of range for BIGINT`);
  return n;
}

const decimalPattern = /^([+-])?(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d{1,4}))?$/;

/** Parses a decimal literal exactly, to the unscaled integer at `scale`. */
export function parseDecimal(text: string, precision: number, scale: number): bigint {
  const match = decimalPattern.exec(text.trim());
  const [, sign, whole = "", fraction = "", exponentText] = match ?? [];
  if (!match || whole.length + fraction.length === 0) {
    throw new ValueError(`${describe(text)} is not a decimal number`);
  }
  const exponent = Number(exponentText ?? 0);
  let digits = BigInt(whole + fraction || "0");
  let digitScale = fraction.length - exponent;
  while (digitScale > scale) {
    if (digits % 10n !== 0n) {
      throw new ValueError(`${describe(text)} has more than ${scale} decimal places for DECIMAL(${precision},${scale})`);
    }
    digits /= 10n;
    digitScale--;
  }
  const unscaled = digits * 10n ** BigInt(scale - digitScale);
  if (unscaled >= 10n ** BigInt(precision)) {
    throw new ValueError(`${describe(text)} does not fit DECIMAL(${precision},${scale})`);
  }
  return sign === "-" ? -unscaled : unscaled;
}

export function formatDecimal(unscaled: bigint, scale: number): string {
  const negative = unscaled < 0n;
  const digits = (negative ? -unscaled : unscaled).toString().padStart(scale + 1, "0");
  const whole = digits.slice(0, digits.length - scale);
  const text = scale === 0 ? whole : `${whole}.${digits.slice(digits.length - scale)}`;
  return negative ? `-${text}` : text;
}

const datePattern = /^(\d{4})-(\d{2})-(\d{2})$/;
const timePattern = /^(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?$/;
const timestampPattern =
  /^(\d{4}-\d{2}-\d{2})(?:[T ](\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?))?(Z|[+-]\d{2}(?::?\d{2})?)?$/i;

function parseDate(text: string): number {
  const match = datePattern.exec(text);
  if (!match) throw new ValueError(`${describe(text)} is not a date (YYYY-MM-DD)`);
  const [year, month, day] = [Number(match[1]), Number(match[2]), Number(match[3])];
  const date = new Date(0);
  date.setUTCFullYear(year, month - 1, day);
  if (date.getUTCFullYear() !== year || date.getUTCMonth() !== month - 1 || date.getUTCDate() !== day) {
    throw new ValueError(`${describe(text)} is not a valid calendar date`);
  }
  return Math.floor(date.getTime() / 86_400_000);
}

function parseTime(text: string): bigint {
  const match = timePattern.exec(text);
  if (!match) throw new ValueError(`${describe(text)} is not a time (HH:MM:SS[.ffffff])`);
  const [hours, minutes, seconds] = [Number(match[1]), Number(match[2]), Number(match[3] ?? 0)];
  if (hours > 23 || minutes > 59 || seconds > 59) throw new ValueError(`${describe(text)} is not a valid time of day`);
  const micros = BigInt(((hours * 60 + minutes) * 60 + seconds) * 1_000_000);
  return micros + BigInt((match[4] ?? "").padEnd(6, "0").slice(0, 6));
}

function parseTimestamp(text: string): bigint {
  const match = timestampPattern.exec(text.trim());
  if (!match) throw new ValueError(`${describe(text)} is not an ISO-8601 timestamp or epoch milliseconds`);
  const days = BigInt(parseDate(match[1]!));
  const timeOfDay = match[2] === undefined ? 0n : parseTime(match[2]);
  return days * microsPerDay + timeOfDay - offsetMicros(match[3]);
}

function offsetMicros(zone: string | undefined): bigint {
  if (zone === undefined || zone.toUpperCase() === "Z") return 0n;
  const sign = zone.startsWith("-") ? -1n : 1n;
  const digits = zone.slice(1).replace(":", "");
  const hours = BigInt(digits.slice(0, 2));
  const minutes = BigInt(digits.slice(2) || "0");
  if (hours > 18n || minutes > 59n) throw new ValueError(`${describe(zone)} is not a valid UTC offset`);
  return sign * (hours * 60n + minutes) * 60_000_000n;
}

function formatTime(micros: bigint): string {
  const seconds = Number(micros / 1_000_000n);
  const fraction = Number(micros % 1_000_000n);
  const hh = String(Math.floor(seconds / 3600)).padStart(2, "0");
  const mm = String(Math.floor(seconds / 60) % 60).padStart(2, "0");
  const ss = String(seconds % 60).padStart(2, "0");
  return fraction === 0 ? `${hh}:${mm}:${ss}` : `${hh}:${mm}:${ss}.${String(fraction).padStart(6, "0")}`;
}

/** The last second formatted: rows of a stream mostly share their second, and `toISOString` dominates the cost. */
let lastSecond = Number.NaN;
let lastSecondText = "";

function formatTimestamp(micros: bigint, precision: number, utc: boolean): string {
  // Number arithmetic is exact here: microseconds since 1970 stay below 2^53 until the year 2255.
  const exact = Number(micros);
  const safe = Number.isSafeInteger(exact);
  const fraction = safe ? ((exact % 1_000_000) + 1_000_000) % 1_000_000 : Number(((micros % 1_000_000n) + 1_000_000n) % 1_000_000n);
  const second = safe ? (exact - fraction) / 1_000_000 : Number((micros - BigInt(fraction)) / 1_000_000n);
  if (second !== lastSecond) {
    lastSecond = second;
    lastSecondText = new Date(second * 1000).toISOString().slice(0, 19);
  }
  const digits = precision === 0 ? "" : `.${String(fraction).padStart(6, "0").slice(0, precision)}`;
  return `${lastSecondText}${digits}${utc ? "Z" : ""}`;
}

const base64Pattern = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

function decodeBase64(text: string): Uint8Array {
  if (!base64Pattern.test(text)) throw new ValueError(`expected base64 for BYTES, got ${describe(text)}`);
  const binary = atob(text);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

function encodeBase64(bytes: Uint8Array): string {
  let binary = "";
  const chunk = 0x8000;
  for (let i = 0; i < bytes.length; i += chunk) {
    binary += String.fromCharCode(...bytes.subarray(i, i + chunk));
  }
  return btoa(binary);
}
