/**
 * Iceberg JSON with exact 64-bit integers. Engines (Spark, Trino, PyIceberg,
 * DuckDB) draw snapshot ids from the whole positive `long` range, so a plain
 * `JSON.parse` would round them and the catalog would write ids that no
 * manifest list carries.
 *
 * Invariant: an integer outside JavaScript's safe range is read as a BigInt
 * from its source text and written back digit for digit; every other number
 * stays a number. So one value always has one form, and `===` compares ids.
 * (Uses JSON.parse source text access and JSON.rawJSON, which workerd has.)
 */

/** A JSON integer that may exceed 2^53: snapshot ids, sequence numbers. */
export type Long = number | bigint;

type SourceReviver = (key: string, value: unknown, context?: { source?: string }) => unknown;

interface LosslessJson {
  parse(text: string, reviver: SourceReviver): unknown;
  rawJSON?(text: string): unknown;
}

const json = JSON as unknown as LosslessJson;

export function parseJson(text: string): unknown {
  return json.parse(text, (_key, value, context) => {
    if (typeof value !== "number" || Number.isSafeInteger(value)) return value;
    const source = context?.source;
    if (source === undefined) throw new Error("this runtime lacks JSON.parse source text access, needed for exact 64-bit ids");
    return /^-?\d+$/.test(source) ? BigInt(source) : value;
  });
}

export function stringifyJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) => {
    if (typeof v !== "bigint") return v;
    if (!json.rawJSON) throw new Error("this runtime lacks JSON.rawJSON, needed for exact 64-bit ids");
    return json.rawJSON(v.toString());
  });
}

/** Whether `value` is a JSON integer (a safe number or a BigInt). */
export function isLong(value: unknown): value is Long {
  return typeof value === "bigint" || (typeof value === "number" && Number.isSafeInteger(value));
}

/** A Long as a safe number, when it is one (sequence numbers, timestamps, ids that must be small). */
export function asSafeNumber(value: Long): number | undefined {
  return typeof value === "number" ? value : undefined;
}
