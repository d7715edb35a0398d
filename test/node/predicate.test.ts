/**
 * Filters evaluated on whole columns (`table/predicate.ts`) select exactly
 * the rows a row-wise reference written here selects, for every operator on
 * every type: nulls never compare, NaN only satisfies !=, -0 equals 0,
 * strings order by code point, bytes unsigned, 64- and 128-bit values
 * exactly; long IN lists (hashed) as short ones.
 */
import { describe, expect, it } from "vitest";
import { readScalar } from "../../src/table/columns.ts";
import type { Predicate, PredicateOp } from "../../src/table/predicate.ts";
import { selectRows } from "../../src/table/predicate.ts";
import type { FloeType } from "../../src/table/types.ts";
import type { Scalar } from "../../src/table/values.ts";
import { random } from "../fixtures.ts";
import { randomColumns } from "./random-columns.ts";

/** The reference order of two non-null values: -1, 0, 1, or NaN when unordered. */
function order(type: FloeType, a: Scalar, b: Scalar): number {
  if (typeof a === "number" && typeof b === "number") return Number.isNaN(a) || Number.isNaN(b) ? NaN : a < b ? -1 : a > b ? 1 : 0;
  if (typeof a === "boolean") return Number(a) - Number(b as boolean);
  if (typeof a === "bigint") return a < (b as bigint) ? -1 : a > (b as bigint) ? 1 : 0;
  const [x, y] = type.kind === "STRING" ? [[...(a as string)].map((c) => c.codePointAt(0)!), [...(b as string)].map((c) => c.codePointAt(0)!)] : [[...(a as Uint8Array)], [...(b as Uint8Array)]];
  for (let i = 0; i < Math.min(x.length, y.length); i++) if (x[i] !== y[i]) return Math.sign(x[i]! - y[i]!);
  return Math.sign(x.length - y.length);
}

function holds(type: FloeType, op: PredicateOp, literals: Scalar[], value: Scalar | null): boolean {
  if (op === "is_null") return value === null;
  if (op === "not_null") return value !== null;
  if (value === null) return false;
  const o = order(type, value, literals[0]!);
  switch (op) {
    case "=": return o === 0;
    case "!=": return o !== 0;
    case "<": return o < 0;
    case "<=": return o <= 0;
    case ">": return o > 0;
    case ">=": return o >= 0;
    case "in": return literals.some((literal) => order(type, value, literal) === 0);
  }
}

const isNaNScalar = (v: Scalar | null) => typeof v === "number" && Number.isNaN(v);
const rowCount = 3000;

describe("filters on whole columns", () => {
  const { columns, values, data } = randomColumns(rowCount, 7);
  columns.forEach((column, c) => {
    it(`match the row-wise reference on ${column.type.kind === "DECIMAL" || column.type.kind.startsWith("TIMESTAMP") ? JSON.stringify(column.type) : column.type.kind}`, () => {
      const next = random(c + 1);
      // Literals from the column (so equal rows exist), never NaN (the parser refuses it) nor null.
      const candidates = values[c]!.filter((v) => v !== null && !isNaNScalar(v)) as Scalar[];
      const literal = () => candidates[Math.floor(next() * candidates.length)]!;
      const cases: Predicate[] = [
        { column, op: "is_null", values: [] },
        { column, op: "not_null", values: [] },
        ...(["=", "!=", "<", "<=", ">", ">="] as const).flatMap((op) => [0, 1, 2].map(() => ({ column, op, values: [literal()] }))),
        { column, op: "in", values: [literal(), literal(), literal()] },
        { column, op: "in", values: Array.from({ length: 20 }, literal) },
      ];
      for (const predicate of cases) {
        const expected = values[c]!.flatMap((value, row) => (holds(column.type, predicate.op, predicate.values, value) ? [row] : []));
        const selected = selectRows([predicate], () => data[c]!, rowCount);
        expect(selected ? [...selected] : Array.from({ length: rowCount }, (_, i) => i), `${predicate.op} ${String(predicate.values[0])}`).toEqual(expected);
      }
      // The column read back as scalars is what the reference filtered.
      expect(Array.from({ length: rowCount }, (_, row) => readScalar(column.type, data[c]!, row))).toEqual(values[c]);
    });
  });

  it("ANDs predicates on several columns, and reads sliced columns from their offset", () => {
    const sliced = data.map((d) => d.slice(100, 2000));
    const predicates: Predicate[] = [
      { column: columns[3]!, op: ">=", values: [0] },
      { column: columns[10]!, op: "not_null", values: [] },
      { column: columns[4]!, op: "!=", values: [0n] },
    ];
    const expected = Array.from({ length: 2000 }, (_, i) => i).filter((row) =>
      predicates.every((p) => holds(p.column.type, p.op, p.values, values[columns.indexOf(p.column)]![row + 100]!)));
    const selected = selectRows(predicates, (column) => sliced[columns.indexOf(column)]!, 2000);
    expect([...selected!]).toEqual(expected);
  });

  it("answers undefined when every row is kept, and an empty selection when none is", () => {
    const { column } = { column: columns[3]! };
    expect(selectRows([], () => data[3]!, rowCount)).toBeUndefined();
    expect(selectRows([{ column, op: "is_null", values: [] }, { column, op: "not_null", values: [] }], () => data[3]!, rowCount)).toEqual(new Int32Array(0));
  });
});
