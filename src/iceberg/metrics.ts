/**
 * Column metrics of a data file, as Iceberg manifests record them per field
 * id: value counts (nulls included), null counts, NaN counts (floating
 * point only) and lower/upper bounds in the spec's single-value binary form.
 * Bounds exclude nulls and NaN; strings and binary bounds are truncated to
 * 16 characters (bytes), the upper bound rounded up so it still bounds.
 */
import type * as arrow from "apache-arrow";
import type { Column } from "../table/schema.ts";
import type { FloeType } from "../table/types.ts";
import { readScalar, valueBytes } from "../table/columns.ts";
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

export function columnMetrics(column: Column, data: arrow.Data): ColumnMetrics {
  const { type } = column;
  let nullCount = 0;
  let nanCount = 0;
  let min: number | bigint | boolean | Uint8Array | undefined;
  let max: typeof min;
  for (let row = 0; row < data.length; row++) {
    const value = comparable(type, data, row);
    if (value === null) {
      nullCount++;
      continue;
    }
    if (typeof value === "number" && Number.isNaN(value)) {
      nanCount++;
      continue;
    }
    if (min === undefined || compare(value, min) < 0) min = value;
    if (max === undefined || compare(value, max) > 0) max = value;
  }
  const metrics: ColumnMetrics = { valueCount: data.length, nullCount };
  if (type.kind === "FLOAT" || type.kind === "DOUBLE") metrics.nanCount = nanCount;
  if (min !== undefined && max !== undefined) {
    metrics.lowerBound = boundBytes(type, min, "lower");
    const upper = boundBytes(type, max, "upper");
    if (upper) metrics.upperBound = upper;
  }
  return metrics;
}

/** A value in a form that orders as Iceberg orders the type (strings and binary as unsigned bytes). */
function comparable(type: FloeType, data: arrow.Data, row: number): number | bigint | boolean | Uint8Array | null {
  if (!data.getValid(row)) return null;
  if (type.kind === "STRING" || type.kind === "BYTES") return valueBytes(data, row);
  return readScalar(type, data, row) as number | bigint | boolean;
}

function compare(a: NonNullable<ReturnType<typeof comparable>>, b: typeof a): number {
  if (a instanceof Uint8Array && b instanceof Uint8Array) {
    for (let i = 0; i < Math.min(a.length, b.length); i++) if (a[i] !== b[i]) return a[i]! - b[i]!;
    return a.length - b.length;
  }
  return a < b ? -1 : a > b ? 1 : 0;
}

/** One value in Iceberg's single-value binary form, as bounds and partition summaries store it. */
export function boundValue(type: FloeType, value: number | bigint | boolean): Uint8Array {
  return boundBytes(type, value, "lower")!;
}

/** Iceberg's single-value binary form (spec appendix D), truncated for strings and binary. */
function boundBytes(type: FloeType, value: NonNullable<ReturnType<typeof comparable>>, side: "lower" | "upper"): Uint8Array | undefined {
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
