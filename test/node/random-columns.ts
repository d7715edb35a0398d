/**
 * Columns of every Floe type with random values that reach the types'
 * edges (nulls in every column, NaN, ±Infinity, -0.0, 64-bit and 38-digit
 * extremes, microsecond timestamps from year 1 to 9999, control characters
 * and non-ASCII text, binary), for the column-wise encoders' and filters'
 * tests to compare against row-wise references.
 */
import type * as arrow from "apache-arrow";
import { buildColumn } from "../../src/table/columns.ts";
import type { Column } from "../../src/table/schema.ts";
import { parseType } from "../../src/table/types.ts";
import type { Scalar } from "../../src/table/values.ts";
import { temporalRange, truncateMicros } from "../../src/table/values.ts";
import { random } from "../fixtures.ts";

export const everyType = [
  "BOOLEAN", "TINYINT", "SMALLINT", "INT", "BIGINT", "FLOAT", "DOUBLE", "DECIMAL(38,10)", "DECIMAL(9,2)", "DECIMAL(18,0)",
  "STRING", "BYTES", "DATE", "TIME", "TIMESTAMP(6)", "TIMESTAMP(0)", "TIMESTAMP_LTZ(3)", "TIMESTAMP_LTZ(6)",
];

export const typedColumns: Column[] = everyType.map((type, i) => ({ id: i + 1, name: `c${i}`, type: parseType(type), nullable: true }));

/** A random 64-bit pattern as a signed bigint. */
function bits(next: () => number, width: number): bigint {
  let value = 0n;
  for (let i = 0; i < width; i += 16) value = (value << 16n) | BigInt(Math.floor(next() * 65536));
  return BigInt.asIntN(width, value);
}

/** Values for one column: a tenth null, a fifth drawn from a few repeats (so filters find equal rows), the rest random. */
export function randomValues(column: Column, rowCount: number, seed: number): (Scalar | null)[] {
  const next = random(seed);
  const pick = <T>(xs: readonly T[]) => xs[Math.floor(next() * xs.length)]!;
  const draw = valueSource(column, next, pick);
  const repeats = Array.from({ length: 4 }, draw);
  return Array.from({ length: rowCount }, () => {
    const r = next();
    return r < 0.1 ? null : r < 0.3 ? pick(repeats) : draw();
  });
}

function valueSource(column: Column, next: () => number, pick: <T>(xs: readonly T[]) => T): () => Scalar {
  const { type } = column;
  const microsRange = Number(temporalRange.timestampMicrosMax - temporalRange.timestampMicrosMin);
  switch (type.kind) {
    case "BOOLEAN": return () => next() < 0.5;
    case "TINYINT": return () => pick([-128, 127, 0, -1, Math.floor(next() * 256) - 128]);
    case "SMALLINT": return () => pick([-32768, 32767, 0, Math.floor(next() * 65536) - 32768]);
    case "INT": return () => pick([-(2 ** 31), 2 ** 31 - 1, 0, Math.floor(next() * 2 ** 32) - 2 ** 31, Math.floor(next() * 1000)]);
    case "BIGINT": return () => pick([bits(next, 64), bits(next, 54), -(2n ** 63n), 2n ** 63n - 1n, 2n ** 53n - 1n, -(2n ** 53n), 2n ** 53n, 0n, BigInt(Math.floor(next() * 1e6))]);
    case "FLOAT": return () => Math.fround(pick([NaN, Infinity, -Infinity, -0, 0, 0.1, 3e38, -3.5, next() * 1e10, next(), 2 ** 31, 16777217]));
    case "DOUBLE": return () => pick([NaN, Infinity, -Infinity, -0, 0, 0.1, 1e21, 1e-7, 5e-324, Number.MAX_VALUE, -3.5, next() * 1e10, next(), -(2 ** 31) - 1, 2 ** 53]);
    case "DECIMAL": {
      const limit = 10n ** BigInt(type.precision);
      return () => pick([bits(next, 128), bits(next, 60), bits(next, 53), bits(next, 20), 0n, -1n, 1n, limit - 1n, -(limit - 1n), 2n ** 53n - 1n, -(2n ** 53n)]) % limit;
    }
    case "STRING": return () => pick(["", "a", "ann ünïcödé 🎉", "quote\"back\\slash", "ctl\u0000\u0001\u001f\b\f\n\r\t\u007f", "\u2028\u2029", "\u{10FFFF}", "\uE000", "x".repeat(Math.floor(next() * 40)), String(next())]);
    case "BYTES": return () => Uint8Array.from({ length: Math.floor(next() * 9) }, () => Math.floor(next() * 256));
    case "DATE": return () => pick([temporalRange.dateDaysMin, temporalRange.dateDaysMax, 0, -1, 11016, temporalRange.dateDaysMin + Math.floor(next() * (temporalRange.dateDaysMax - temporalRange.dateDaysMin))]);
    case "TIME": return () => pick([0n, 86_399_999_999n, BigInt(Math.floor(next() * 86_400e6)), BigInt(Math.floor(next() * 86_400)) * 1_000_000n]);
    case "TIMESTAMP":
    case "TIMESTAMP_LTZ": return () => truncateMicros(pick([
      temporalRange.timestampMicrosMin, temporalRange.timestampMicrosMax, 0n, -1n, 1_764_000_000_000_000n,
      temporalRange.timestampMicrosMin + BigInt(Math.floor(next() * microsRange)), BigInt(Math.floor(next() * 2 ** 53)) - 2n ** 52n,
    ]), type.precision);
  }
}

/** Every typed column with `rowCount` random rows, as Arrow columns with their scalars. */
export function randomColumns(rowCount: number, seed: number): { columns: Column[]; values: (Scalar | null)[][]; data: arrow.Data[] } {
  const values = typedColumns.map((column, i) => randomValues(column, rowCount, seed * 100 + i));
  return { columns: typedColumns, values, data: typedColumns.map((column, i) => buildColumn(column.type, values[i]!)) };
}
