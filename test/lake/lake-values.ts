/**
 * The one form in which the lake tests compare values, whatever wrote or read
 * them: exact and JSON-safe, so it survives vitest's provide/inject and a
 * mismatch prints readably. Iceberg `long` and `decimal` are strings (decimals
 * with all their scale digits), `timestamp`/`timestamptz` are microseconds
 * since the epoch as a string, `date` is `YYYY-MM-DD`; `int`, `double` and
 * `boolean` are themselves, except that a double that is not finite is its
 * name (`"NaN"`, `"-Infinity"`), as in Floe's JSON; a null is `null`.
 */
export type LakeValue = string | number | boolean | null;
export type LakeRow = Record<string, LakeValue>;

/** An Iceberg primitive type name from table metadata, e.g. `decimal(12, 2)`, reduced to what decides its form. */
export type IcebergKind = "int" | "long" | "double" | "boolean" | "string" | "decimal" | "date" | "timestamp" | "timestamptz";

export function icebergKind(type: string): IcebergKind {
  const kind = type.startsWith("decimal(") ? "decimal" : type;
  const known: readonly string[] = ["int", "long", "double", "boolean", "string", "decimal", "date", "timestamp", "timestamptz"];
  if (!known.includes(kind)) throw new Error(`lake test: no canonical form for Iceberg type ${type}`);
  return kind as IcebergKind;
}

/** ISO-8601 text of a microsecond timestamp, all six fraction digits, `Z` when the column is zoned. */
export function isoMicros(micros: bigint, zoned: boolean): string {
  const fraction = ((micros % 1_000_000n) + 1_000_000n) % 1_000_000n;
  const seconds = (micros - fraction) / 1_000_000n;
  const base = new Date(Number(seconds) * 1000).toISOString().slice(0, 19);
  return `${base}.${String(fraction).padStart(6, "0")}${zoned ? "Z" : ""}`;
}

/** A decimal's text from its unscaled value: sign, integer digits (at least one), then exactly `scale` digits. */
export function decimalText(unscaled: bigint, scale: number): string {
  const digits = (unscaled < 0n ? -unscaled : unscaled).toString().padStart(scale + 1, "0");
  const sign = unscaled < 0n ? "-" : "";
  return `${sign}${digits.slice(0, digits.length - scale)}.${digits.slice(digits.length - scale)}`;
}

export function dateText(epochDays: number): string {
  return new Date(epochDays * 86_400_000).toISOString().slice(0, 10);
}

/** Rows in a stable order, by the given key columns, so two readers' answers compare as lists. */
export function sortedBy(rows: LakeRow[], key: readonly string[]): LakeRow[] {
  const id = (row: LakeRow) => JSON.stringify(key.map((k) => row[k]));
  return [...rows].sort((a, b) => (id(a) < id(b) ? -1 : id(a) > id(b) ? 1 : 0));
}
