/**
 * Floe's Avro container writer, read back by avsc (an independent Avro
 * implementation, run here under Node where it may generate code): the
 * header metadata, the schema with Iceberg's field ids, and every value,
 * including longs beyond 2^53 decoded as BigInt. And Floe's reader, fed
 * containers avsc wrote (several blocks) as well as its own.
 */
import { readAvro, writeAvro } from "./avro-reader.ts";
import { readContainer } from "../../src/iceberg/avro-read.ts";
import { describe, expect, it } from "vitest";
import { writeContainer, type AvroSchema } from "../../src/iceberg/avro.ts";

const schema: AvroSchema = {
  type: "record",
  name: "manifest_entry",
  fields: [
    { name: "status", type: "int", "field-id": 0 },
    { name: "snapshot_id", type: ["null", "long"], default: null, "field-id": 1 },
    {
      name: "data_file",
      "field-id": 2,
      type: {
        type: "record",
        name: "r2",
        fields: [
          { name: "file_path", type: "string", "field-id": 100 },
          { name: "record_count", type: "long", "field-id": 103 },
          { name: "ratio", type: "double" },
          { name: "scale", type: "float" },
          { name: "exact", type: "boolean" },
          { name: "digest", type: { type: "fixed", name: "digest16", size: 4 } },
          {
            name: "lower_bounds",
            type: ["null", { type: "array", logicalType: "map", items: { type: "record", name: "k126_v127", fields: [
              { name: "key", type: "int", "field-id": 126 },
              { name: "value", type: "bytes", "field-id": 127 },
            ] } }],
            default: null,
            "field-id": 125,
          },
          { name: "tags", type: { type: "map", values: "string" } },
          { name: "split_offsets", type: ["null", { type: "array", items: "long", "element-id": 133 }], default: null, "field-id": 132 },
        ],
      },
    },
  ],
};

const records = [
  {
    status: 1,
    snapshot_id: null,
    data_file: {
      file_path: "s3://lake/db/t/data/bucket=3/ünïcödé.parquet",
      record_count: 9_007_199_254_740_993n,
      ratio: -0.125,
      scale: 1.5,
      exact: true,
      digest: new Uint8Array([1, 2, 3, 4]),
      lower_bounds: [{ key: 1, value: new Uint8Array([0, 255]) }, { key: 2, value: new Uint8Array([]) }],
      tags: { a: "b", c: "" },
      split_offsets: [4n, -1n, 0n],
    },
  },
  {
    status: 0,
    snapshot_id: -9_223_372_036_854_775_808n,
    data_file: {
      file_path: "",
      record_count: 0n,
      ratio: 1e300,
      scale: 0,
      exact: false,
      digest: new Uint8Array([0, 0, 0, 0]),
      lower_bounds: null,
      tags: {},
      split_offsets: null,
    },
  },
];

/** Values made comparable: BigInt as text, byte buffers (Buffer or Uint8Array) as plain arrays. */
const plain = (value: unknown): unknown =>
  JSON.parse(
    JSON.stringify(value, (_, v) => {
      if (typeof v === "bigint") return `${v}n`;
      if (v instanceof Uint8Array) return [...v];
      if (v && v.type === "Buffer" && Array.isArray(v.data)) return v.data;
      return v;
    }),
  );

/** Floe's reader gives safe longs as numbers: the same values, compared as such. */
const safeLongs = (value: unknown): unknown => {
  if (typeof value === "bigint") return Number.isSafeInteger(Number(value)) ? Number(value) : value;
  if (value instanceof Uint8Array || value === null || typeof value !== "object") return value;
  if (Array.isArray(value)) return value.map(safeLongs);
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, safeLongs(v)]));
};

describe("Avro object container files", () => {
  it("are read by Floe's reader as avsc wrote them, across blocks", async () => {
    const many = Array.from({ length: 40 }, (_, i) => records[i % 2]!);
    const { metadata, records: decoded } = readContainer(await writeAvro(schema, many, 256));
    expect(metadata["avro.schema"]).toBeUndefined();
    expect(decoded.map(plain)).toEqual(many.map(safeLongs).map(plain));
  });

  it("are read by Floe's reader as Floe's writer wrote them", () => {
    const { metadata, schema: read, records: decoded } = readContainer(writeContainer(schema, records, { content: "data" }));
    expect(metadata).toEqual({ content: "data" });
    expect(read).toEqual(schema);
    expect(decoded.map(plain)).toEqual(records.map(safeLongs).map(plain));
    expect(readContainer(writeContainer(schema, [], {})).records).toEqual([]);
    expect(() => readContainer(new Uint8Array([1, 2, 3, 4]))).toThrow(/bad magic/);
  });

  it("read back in avsc with header metadata, field ids and exact values", async () => {
    const file = writeContainer(schema, records, { "format-version": "2", content: "data" });
    const { metadata, records: decoded } = await readAvro(file, { bigintLongs: true });
    expect(metadata["format-version"]).toBe("2");
    expect(metadata.content).toBe("data");
    expect(metadata["avro.codec"]).toBe("null");
    expect(JSON.parse(metadata["avro.schema"]!)).toEqual(schema);
    expect(decoded.map(plain)).toEqual(records.map(plain));
  });

  it("writes a valid container with no records", async () => {
    const { records: decoded } = await readAvro(writeContainer(schema, [], {}), { bigintLongs: true });
    expect(decoded).toEqual([]);
  });
});
