/**
 * Floe's column types and how each maps to Arrow and to Iceberg.
 *
 * This file and its siblings `values.ts` (JSON) and `columns.ts` (Arrow
 * buffers) are the one place where a Floe type gets a representation; nothing
 * else in the code base switches on a type kind to pick an encoding.
 *
 * Invariants: every type has exactly one Arrow type and one Iceberg type;
 * temporal values are stored as microseconds, the unit Iceberg v2 uses, so no
 * conversion can lose precision between the hot log and the lake.
 */
import * as arrow from "apache-arrow";
import { FloeError } from "../errors.ts";

export type TypeKind =
  | "BOOLEAN"
  | "TINYINT"
  | "SMALLINT"
  | "INT"
  | "BIGINT"
  | "FLOAT"
  | "DOUBLE"
  | "DECIMAL"
  | "STRING"
  | "BYTES"
  | "DATE"
  | "TIME"
  | "TIMESTAMP"
  | "TIMESTAMP_LTZ";

export type FloeType =
  | { kind: Exclude<TypeKind, "DECIMAL" | "TIMESTAMP" | "TIMESTAMP_LTZ"> }
  | { kind: "DECIMAL"; precision: number; scale: number }
  | { kind: "TIMESTAMP" | "TIMESTAMP_LTZ"; precision: number };

/** Iceberg v2 stores decimals of at most 38 digits and timestamps in microseconds. */
export const decimalPrecisionMax = 38;
export const timestampPrecisionMax = 6;
const timestampPrecisionDefault = 6;

const simpleKinds = new Set<TypeKind>([
  "BOOLEAN", "TINYINT", "SMALLINT", "INT", "BIGINT", "FLOAT", "DOUBLE",
  "STRING", "BYTES", "DATE", "TIME",
]);

const typePattern = /^([A-Z_]+)\s*(?:\(\s*(\d+)\s*(?:,\s*(\d+)\s*)?\))?$/;

/** Parses a type name such as `DECIMAL(10,2)` or `timestamp_ltz(3)`. */
export function parseType(text: string): FloeType {
  const match = typePattern.exec(text.trim().toUpperCase());
  if (!match) throw FloeError.badRequest(`unknown type '${text}'`);
  const [, name, first, second] = match;
  const kind = name as TypeKind;
  if (simpleKinds.has(kind)) {
    if (first !== undefined) throw FloeError.badRequest(`type ${kind} takes no parameters, got '${text}'`);
    return { kind } as FloeType;
  }
  if (kind === "DECIMAL") {
    if (first === undefined) throw FloeError.badRequest(`type DECIMAL needs a precision, e.g. DECIMAL(10,2)`);
    const precision = Number(first);
    const scale = second === undefined ? 0 : Number(second);
    if (precision < 1 || precision > decimalPrecisionMax) {
      throw FloeError.badRequest(`DECIMAL precision must be 1..${decimalPrecisionMax}, got ${precision}`);
    }
    if (scale > precision) throw FloeError.badRequest(`DECIMAL scale ${scale} exceeds precision ${precision}`);
    return { kind, precision, scale };
  }
  if (kind === "TIMESTAMP" || kind === "TIMESTAMP_LTZ") {
    if (second !== undefined) throw FloeError.badRequest(`type ${kind} takes one parameter, got '${text}'`);
    const precision = first === undefined ? timestampPrecisionDefault : Number(first);
    if (precision > timestampPrecisionMax) {
      throw FloeError.badRequest(
        `${kind} precision must be 0..${timestampPrecisionMax} (Iceberg v2 stores microseconds), got ${precision}`,
      );
    }
    return { kind, precision };
  }
  throw FloeError.badRequest(`unknown type '${text}'`);
}

/** The canonical spelling of a type; `parseType(formatType(t))` gives back `t`. */
export function formatType(type: FloeType): string {
  switch (type.kind) {
    case "DECIMAL":
      return `DECIMAL(${type.precision},${type.scale})`;
    case "TIMESTAMP":
    case "TIMESTAMP_LTZ":
      return `${type.kind}(${type.precision})`;
    default:
      return type.kind;
  }
}

/** The Arrow type a column of this Floe type is stored as in the hot log. */
export function arrowType(type: FloeType): arrow.DataType {
  switch (type.kind) {
    case "BOOLEAN": return new arrow.Bool();
    case "TINYINT": return new arrow.Int8();
    case "SMALLINT": return new arrow.Int16();
    case "INT": return new arrow.Int32();
    case "BIGINT": return new arrow.Int64();
    case "FLOAT": return new arrow.Float32();
    case "DOUBLE": return new arrow.Float64();
    case "DECIMAL": return new arrow.Decimal(type.scale, type.precision, 128);
    case "STRING": return new arrow.Utf8();
    case "BYTES": return new arrow.Binary();
    case "DATE": return new arrow.DateDay();
    case "TIME": return new arrow.TimeMicrosecond();
    case "TIMESTAMP": return new arrow.TimestampMicrosecond(null);
    case "TIMESTAMP_LTZ": return new arrow.TimestampMicrosecond("UTC");
  }
}

/** The Iceberg (format v2) primitive type of a column of this Floe type. */
export function icebergType(type: FloeType): string {
  switch (type.kind) {
    case "BOOLEAN": return "boolean";
    case "TINYINT":
    case "SMALLINT":
    case "INT": return "int";
    case "BIGINT": return "long";
    case "FLOAT": return "float";
    case "DOUBLE": return "double";
    case "DECIMAL": return `decimal(${type.precision}, ${type.scale})`;
    case "STRING": return "string";
    case "BYTES": return "binary";
    case "DATE": return "date";
    case "TIME": return "time";
    case "TIMESTAMP": return "timestamp";
    case "TIMESTAMP_LTZ": return "timestamptz";
  }
}

/** Iceberg's bucket transform accepts these source types only; Floe buckets the same way. */
export function isBucketable(type: FloeType): boolean {
  return !(type.kind === "BOOLEAN" || type.kind === "FLOAT" || type.kind === "DOUBLE");
}
