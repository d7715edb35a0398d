/**
 * A table with a column of every Floe type, and rows that reach each type's
 * edges: nulls in every nullable column, NaN and signed zeros, 64-bit and
 * 38-digit extremes, microsecond timestamps before and after 1970, binary
 * and non-ASCII text. Shared by the Parquet tests and the golden file.
 */
import { icebergSchema, lakeColumns } from "../../../src/iceberg/schema.ts";
import { buildColumn } from "../../../src/table/columns.ts";
import type { Column } from "../../../src/table/schema.ts";
import { parseTableDefinition } from "../../../src/table/schema.ts";
import type { Scalar } from "../../../src/table/values.ts";
import { scalarFromJson } from "../../../src/table/values.ts";

export const allTypes = parseTableDefinition({
  columns: [
    { name: "id", type: "BIGINT", nullable: false },
    { name: "flag", type: "BOOLEAN" },
    { name: "tiny", type: "TINYINT" },
    { name: "small", type: "SMALLINT" },
    { name: "n", type: "INT" },
    { name: "big", type: "BIGINT" },
    { name: "f", type: "FLOAT" },
    { name: "d", type: "DOUBLE" },
    { name: "digit", type: "DECIMAL(1,0)" },
    { name: "price", type: "DECIMAL(9,2)" },
    { name: "mid", type: "DECIMAL(18,4)" },
    { name: "wide", type: "DECIMAL(19,2)" },
    { name: "huge", type: "DECIMAL(38,0)" },
    { name: "name", type: "STRING" },
    { name: "blob", type: "BYTES" },
    { name: "day", type: "DATE" },
    { name: "at", type: "TIME" },
    { name: "local", type: "TIMESTAMP(6)" },
    { name: "ts", type: "TIMESTAMP_LTZ(6)" },
  ],
  primaryKey: ["id"],
  bucket: { num: 4 },
});

export const allTypesSchema = icebergSchema(allTypes);

const max38 = "9".repeat(38);

/** Rows as JSON (the API's spelling); system columns are added by `allTypesColumns`. */
export const allTypesRows: Record<string, unknown>[] = [
  {
    id: 1, flag: true, tiny: -5, small: 300, n: 42, big: "123456789012345", f: 1.5, d: 0.1, digit: "7", price: "12.34",
    mid: "-12345678901234.5678", wide: "12345678901234567.89", huge: "-12345678901234567890123456789012345678",
    name: "ann ünïcödé 🎉", blob: "AAEC/w==", day: "2026-11-24", at: "10:00:00.000001",
    local: "2026-11-24T10:00:00.123456", ts: "2026-11-24T10:00:00.654321Z",
  },
  Object.fromEntries([["id", 2], ...allTypes.columns.slice(1).map((c) => [c.name, null])]),
  {
    id: 3, flag: false, tiny: -128, small: -32768, n: -2147483648, big: "-9223372036854775808", f: "-Infinity", d: -0,
    digit: "-9", price: "-9999999.99", mid: "-99999999999999.9999", wide: "-99999999999999999.99", huge: `-${max38}`,
    name: "", blob: "", day: "0001-01-01", at: "00:00:00", local: "1969-12-31T23:59:59.999999", ts: "1900-01-01T00:00:00Z",
  },
  {
    id: 4, flag: true, tiny: 127, small: 32767, n: 2147483647, big: "9223372036854775807", f: "NaN", d: "Infinity",
    digit: "9", price: "9999999.99", mid: "99999999999999.9999", wide: "99999999999999999.99", huge: max38,
    name: "\u{10FFFF}", blob: "/////w==", day: "9999-12-31", at: "23:59:59.999999", local: "9999-12-31T23:59:59.999999", ts: "2262-04-11T23:47:16.854775Z",
  },
  {
    id: 5, flag: null, tiny: 0, small: 0, n: 0, big: 0, f: -0, d: "NaN", digit: "0", price: "0.00", mid: "0", wide: "0", huge: "0",
    name: "z", blob: "AA==", day: "1970-01-01", at: "12:00:00", local: "1970-01-01T00:00:00", ts: "1970-01-01T00:00:00.000001Z",
  },
];

/** Per lake column (the table's, then `__bucket`, `__offset`, `__timestamp`), its scalars for `allTypesRows`. */
export function allTypesValues(): { column: Column; values: (Scalar | null)[] }[] {
  return lakeColumns(allTypes).map((column) => {
    const values = allTypesRows.map((row, i) => {
      if (column.name === "__bucket") return 3;
      if (column.name === "__offset") return BigInt(100 + i);
      if (column.name === "__timestamp") return 1_764_000_000_000_000n + BigInt(i);
      const value = row[column.name];
      return value === null ? null : scalarFromJson(column.type, value);
    });
    return { column, values };
  });
}

/** The lake columns as single Arrow chunks. */
export function allTypesColumns(): (Column & { data: ReturnType<typeof buildColumn> })[] {
  return allTypesValues().map(({ column, values }) => ({ ...column, data: buildColumn(column.type, values) }));
}
