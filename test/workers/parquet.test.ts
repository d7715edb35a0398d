/**
 * Lake data files read back by hyparquet, an independent Parquet reader:
 * field ids, the iceberg.schema metadata, physical types and every value.
 */
import { parquetMetadata, parquetReadObjects } from "hyparquet";
import { describe, expect, it } from "vitest";
import { writeContainer } from "../../src/iceberg/avro.ts";
import { icebergSchema, lakeColumns } from "../../src/iceberg/schema.ts";
import { decimalBytes, writeDataFile } from "../../src/lake/parquet.ts";
import { buildColumn } from "../../src/table/columns.ts";
import { parseTableDefinition } from "../../src/table/schema.ts";
import { scalarFromJson } from "../../src/table/values.ts";

const definition = parseTableDefinition({
  columns: [
    { name: "id", type: "BIGINT" },
    { name: "flag", type: "BOOLEAN" },
    { name: "small", type: "SMALLINT" },
    { name: "n", type: "INT" },
    { name: "ratio", type: "DOUBLE" },
    { name: "price", type: "DECIMAL(10,2)" },
    { name: "huge", type: "DECIMAL(38,4)" },
    { name: "name", type: "STRING" },
    { name: "blob", type: "BYTES" },
    { name: "day", type: "DATE" },
    { name: "at", type: "TIME" },
    { name: "local", type: "TIMESTAMP(6)" },
    { name: "ts", type: "TIMESTAMP_LTZ(3)" },
  ],
  primaryKey: ["id"],
  bucket: { num: 4 },
});

const rows = [
  { id: 1, flag: true, small: -5, n: 42, ratio: 0.5, price: "12.34", huge: "-12345678901234567890123456789012.3456", name: "ann", blob: "AAEC", day: "2026-11-24", at: "10:00:00.000001", local: "2026-11-24T10:00:00.123456", ts: "2026-11-24T10:00:00.123Z" },
  { id: 2, flag: null, small: null, n: null, ratio: null, price: null, huge: null, name: null, blob: null, day: null, at: null, local: null, ts: null },
];

describe("lake data files", () => {
  it("open in hyparquet with field ids, the iceberg schema and exact values", async () => {
    const columns = lakeColumns(definition).map((column) => {
      const values = column.name === "__bucket" ? [3, 3]
        : column.name === "__offset" ? [10n, 11n]
        : column.name === "__timestamp" ? [1_764_000_000_000_000n, 1_764_000_000_000_001n]
        : rows.map((r) => {
          const value = (r as Record<string, unknown>)[column.name];
          return value === null ? null : scalarFromJson(column.type, value);
        });
      return { ...column, data: buildColumn(column.type, values) };
    });
    const schema = icebergSchema(definition);
    const file = writeDataFile(columns, rows.length, schema);
    const buffer = file.buffer.slice(file.byteOffset, file.byteOffset + file.byteLength) as ArrayBuffer;

    const metadata = parquetMetadata(buffer);
    expect(Number(metadata.num_rows)).toBe(2);
    const elements = metadata.schema.slice(1);
    expect(elements.map((e) => e.field_id)).toEqual(schema.fields.map((f) => f.id));
    expect(elements.map((e) => e.repetition_type)).toEqual(schema.fields.map((f) => (f.required ? "REQUIRED" : "OPTIONAL")));
    expect(JSON.parse(metadata.key_value_metadata!.find((kv) => kv.key === "iceberg.schema")!.value!)).toEqual(schema);
    expect(schema["identifier-field-ids"]).toEqual([1]);
    const byName = Object.fromEntries(elements.map((e) => [e.name, e]));
    expect(byName.price!.type).toBe("INT64");
    expect(byName.huge!.type).toBe("FIXED_LEN_BYTE_ARRAY");
    expect(byName.huge!.type_length).toBe(decimalBytes(38));
    expect(byName.ts!.type).toBe("INT64");
    expect(metadata.row_groups[0]!.columns[0]!.meta_data!.codec).toBe("SNAPPY");
    expect(metadata.row_groups[0]!.columns[0]!.meta_data!.statistics).toBeDefined();

    const [first, second] = (await parquetReadObjects({ file: buffer, utf8: false })) as Record<string, unknown>[];
    expect(first).toMatchObject({ id: 1n, flag: true, small: -5, n: 42, ratio: 0.5, price: 12.34, name: "ann", __bucket: 3, __offset: 10n });
    expect(Array.from(first!.blob as Uint8Array)).toEqual([0, 1, 2]);
    expect((first!.day as Date).toISOString()).toBe("2026-11-24T00:00:00.000Z");
    expect(first!.at).toBe(36_000_000_001n);
    expect((first!.ts as Date).toISOString()).toBe("2026-11-24T10:00:00.123Z");
    expect((first!.local as Date).toISOString()).toBe("2026-11-24T10:00:00.123Z");
    expect(Object.entries(second!).filter(([k]) => !k.startsWith("__") && k !== "id").every(([, v]) => v === null)).toBe(true);
  });

  it("writes columns without nulls straight from their Arrow buffers", async () => {
    const full = [rows[0]!, { ...rows[0]!, id: 3, small: 7, n: -1, ratio: -0.25, day: "1970-01-02", local: "1970-01-01T00:00:00.000001" }];
    const columns = lakeColumns(definition).map((column) => {
      const values = column.name.startsWith("__") ? full.map((_, i) => scalarFromJson(column.type, column.name === "__bucket" ? 1 : i))
        : full.map((r) => scalarFromJson(column.type, (r as Record<string, unknown>)[column.name]));
      return { ...column, data: buildColumn(column.type, values) };
    });
    const file = writeDataFile(columns, full.length, icebergSchema(definition));
    const buffer = file.buffer.slice(file.byteOffset, file.byteOffset + file.byteLength) as ArrayBuffer;
    const read = (await parquetReadObjects({ file: buffer, utf8: false })) as Record<string, unknown>[];
    expect(read.map((r) => [r.id, r.small, r.n, r.ratio, (r.day as Date).toISOString().slice(0, 10), r.name])).toEqual([
      [1n, -5, 42, 0.5, "2026-11-24", "ann"],
      [3n, 7, -1, -0.25, "1970-01-02", "ann"],
    ]);
    expect((read[1]!.local as Date).getTime()).toBe(0);
  });

  it("sizes fixed-length decimals as Iceberg's table does", () => {
    expect([1, 2, 9, 10, 18, 19, 38].map(decimalBytes)).toEqual([1, 1, 4, 5, 8, 9, 16]);
  });
});

describe("lake metadata files in the Workers runtime", () => {
  // The pool patches `Function`, so this cannot prove the writer avoids code generation; the smoke test does, by
  // tiering through plain workerd. This checks that the writer runs in the Workers runtime at all.
  it("writes an Avro container inside workerd", () => {
    const file = writeContainer({ type: "record", name: "r", fields: [{ name: "n", type: "long" }] }, [{ n: 2n ** 62n }], { content: "data" });
    expect([...file.subarray(0, 4)]).toEqual([0x4f, 0x62, 0x6a, 0x01]);
  });
});
