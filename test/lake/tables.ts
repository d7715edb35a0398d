/**
 * The two lake tables the independent-reader tests tier, and deterministic
 * rows for them in the canonical form (`lake-values.ts`), with the edges a
 * reader can get wrong: longs beyond 2^53 and at the int64 limits, 38-digit
 * decimals (a fixed-length byte array in Parquet), negative decimals, a
 * timestamp one microsecond before the epoch, dates before 1970, NaN and
 * infinities, non-ASCII and empty strings, and a null in every nullable
 * column.
 */
import { dateText, decimalText, isoMicros, type LakeRow, type LakeValue } from "./lake-values.ts";

export const database = "lake";

interface ColumnSpec {
  name: string;
  type: string;
  nullable?: boolean;
}

export interface LakeTableSpec {
  name: string;
  /** The columns that identify a row in the checks (the primary key, or the log table's id). */
  key: string[];
  definition: {
    columns: ColumnSpec[];
    primaryKey?: string[];
    partitionKeys?: string[];
    bucket: { num: number; key?: string[] };
    properties: Record<string, string>;
  };
}

const lakeEnabled = { "table.datalake.enabled": "true" };

/** A log table bucketed by a BIGINT: its lake partition is `bucket[3]` of that column. */
export const trades: LakeTableSpec = {
  name: "trades",
  key: ["id"],
  definition: {
    columns: [
      { name: "id", type: "INT", nullable: false },
      { name: "account", type: "BIGINT", nullable: false },
      { name: "symbol", type: "STRING" },
      { name: "price", type: "DOUBLE" },
      { name: "settled", type: "BOOLEAN" },
      { name: "quantity", type: "DECIMAL(9,3)" },
      { name: "amount", type: "DECIMAL(18,2)" },
      { name: "notional", type: "DECIMAL(38,6)" },
      { name: "traded_at", type: "TIMESTAMP(6)" },
      { name: "booked_at", type: "TIMESTAMP_LTZ(3)" },
      { name: "trade_date", type: "DATE" },
      { name: "note", type: "STRING" },
    ],
    bucket: { num: 3, key: ["account"] },
    properties: lakeEnabled,
  },
};

/** A primary-key table with a two-column key: its lake partition is `identity(__bucket)`. */
export const accounts: LakeTableSpec = {
  name: "accounts",
  key: ["region", "id"],
  definition: {
    columns: [
      { name: "region", type: "STRING", nullable: false },
      { name: "id", type: "BIGINT", nullable: false },
      { name: "owner", type: "STRING" },
      { name: "balance", type: "DECIMAL(12,2)" },
      { name: "active", type: "BOOLEAN" },
      { name: "opened", type: "DATE" },
      { name: "updated_at", type: "TIMESTAMP(6)" },
      { name: "score", type: "DOUBLE" },
      { name: "visits", type: "INT" },
    ],
    primaryKey: ["region", "id"],
    bucket: { num: 3 },
    properties: lakeEnabled,
  },
};

/**
 * A primary-key table partitioned by day: its lake partition spec is
 * `identity(dt)`, then `bucket[2]` of `id` (the primary key without the
 * partition key).
 */
export const visits: LakeTableSpec = {
  name: "visits",
  key: ["dt", "id"],
  definition: {
    columns: [
      { name: "dt", type: "STRING", nullable: false },
      { name: "id", type: "BIGINT", nullable: false },
      { name: "page", type: "STRING" },
      { name: "seconds", type: "INT" },
    ],
    primaryKey: ["dt", "id"],
    partitionKeys: ["dt"],
    bucket: { num: 2 },
    properties: lakeEnabled,
  },
};

/** The days `visits` is partitioned by. */
export const visitDays = ["20261128", "20261129", "20261130"] as const;
/** A day of `visits` written and tiered, then dropped from the hot tier and the lake. */
export const droppedVisitDay = "20261127";

/** mulberry32: the same rows on every run, so a failure reproduces. */
function randomSource(seed: number) {
  let state = seed;
  const next = () => {
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (below: number) => Math.floor(next() * below);
  const pick = <T>(choices: readonly T[]): T => choices[int(choices.length)]!;
  /** A uniformly signed integer of up to `digits` decimal digits. */
  const digits = (count: number) => {
    let value = 0n;
    for (let i = 0; i < count; i++) value = value * 10n + BigInt(int(10));
    return next() < 0.5 ? -value : value;
  };
  return { next, int, pick, digits };
}

const random = randomSource(20261125);
const microsOf2026 = 1_767_225_600_000_000n;
const microsPerYear = 31_536_000_000_000n;
const someMicros = (): string => String(microsOf2026 + (BigInt(random.int(2 ** 30)) * microsPerYear) / 2n ** 30n);

const accountIds = ["7", "-3", "123456789", "9007199254740993", "-9223372036854775808", "9223372036854775807"];
const symbols = ["ACME", "Zürich AG", "東京", "", "🚀 moon", "O'Brien \"quoted\"\nline"];

export function trade(id: number): LakeRow {
  // Every seventh row leaves every nullable column null.
  const blank = id % 7 === 0;
  const maybe = (value: LakeValue) => (blank ? null : value);
  return {
    id,
    account: random.pick(accountIds),
    symbol: maybe(random.pick(symbols)),
    price: maybe(id === 2 ? "NaN" : id === 3 ? "-Infinity" : random.int(2 ** 40) / 128 - 2 ** 25),
    settled: maybe(random.next() < 0.5),
    quantity: maybe(decimalText(random.digits(9), 3)),
    amount: maybe(decimalText(id === 1 ? -(10n ** 18n - 1n) : random.digits(18), 2)),
    notional: maybe(decimalText(id === 1 ? 10n ** 38n - 1n : random.digits(38), 6)),
    traded_at: maybe(id === 1 ? "-1" : someMicros()),
    booked_at: maybe(someMicros()),
    trade_date: maybe(dateText(id === 1 ? -25_567 : random.int(80_000) - 30_000)),
    note: blank || random.next() < 0.5 ? null : `note ${id} ✓`,
  };
}

const regions = ["eu", "us", "ap"] as const;
const accountKeyIds = ["1", "2", "3", "9007199254740995", "-42", "1000000"];

/** Every account key the workload uses: regions × ids. */
export const accountKeys: { region: string; id: string }[] = regions.flatMap((region) => accountKeyIds.map((id) => ({ region, id })));

/** A full row for an account key; each call gives new values, as an update would. */
export function account(key: { region: string; id: string }): LakeRow {
  const blank = random.next() < 0.15;
  const maybe = (value: LakeValue) => (blank ? null : value);
  return {
    region: key.region,
    id: key.id,
    owner: maybe(random.pick(["ann", "bob", "Zoë", "李雷", ""])),
    balance: maybe(decimalText(random.digits(12), 2)),
    active: maybe(random.next() < 0.5),
    opened: maybe(dateText(random.int(40_000) - 10_000)),
    updated_at: maybe(someMicros()),
    score: maybe(random.int(2 ** 30) / 1024),
    visits: maybe(random.int(2 ** 31) - 2 ** 30),
  };
}

/** A visit row; each call gives new values, as an update would. */
export function visit(dt: string, id: number): LakeRow {
  return { dt, id: String(id), page: random.next() < 0.1 ? null : random.pick(["/", "/cart", "/checkout", "/ü"]), seconds: random.int(3600) };
}

/** How a canonical row is written to Floe as JSON (docs/types.md). */
export function floeJson(spec: LakeTableSpec, row: LakeRow): Record<string, unknown> {
  const json: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(row)) {
    const type = spec.definition.columns.find((c) => c.name === name)!.type;
    json[name] = value === null ? null : jsonValue(type, value);
  }
  return json;
}

function jsonValue(type: string, value: string | number | boolean): unknown {
  if (type === "BIGINT") return Number.isSafeInteger(Number(value)) ? Number(value) : value;
  if (type.startsWith("TIMESTAMP")) return isoMicros(BigInt(value as string), type.startsWith("TIMESTAMP_LTZ"));
  return value;
}

/** The row as the lake must hold it: timestamps truncated to their column's precision, as Floe does on the way in. */
export function asStored(spec: LakeTableSpec, row: LakeRow): LakeRow {
  const stored: LakeRow = { ...row };
  for (const column of spec.definition.columns) {
    const precision = /^TIMESTAMP(?:_LTZ)?\((\d)\)$/.exec(column.type)?.[1];
    const value = row[column.name];
    if (precision === undefined || typeof value !== "string") continue;
    const unit = 10n ** BigInt(6 - Number(precision));
    const micros = BigInt(value);
    stored[column.name] = String(micros - (((micros % unit) + unit) % unit));
  }
  return stored;
}
