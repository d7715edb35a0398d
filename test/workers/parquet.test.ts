/**
 * Lake data files, written and read back inside workerd: by Floe's reader
 * (parquet-wasm) and by hyparquet, an independent reader, every value of
 * every Floe type exactly; the footer's field ids, types and metadata; what
 * the writer reports for the manifest; which bytes a read fetches from R2;
 * and files written by Floe's earlier writer.
 */
import { env } from "cloudflare:workers";
import * as arrow from "apache-arrow";
import { parquetMetadata, parquetReadObjects } from "hyparquet";
import { describe, expect, it } from "vitest";
import { writeContainer } from "../../src/iceberg/avro.ts";
import { columnMetrics } from "../../src/iceberg/metrics.ts";
import { lakeColumns } from "../../src/iceberg/schema.ts";
import { writeDataFile, rowGroupRowsMax, type DataFileColumn } from "../../src/lake/parquet.ts";
import { openDataFile, readRows, rowGroupRanges } from "../../src/lake/parquet-read.ts";
import { columnChunk, columnChunkRange } from "../../src/lake/parquet-footer.ts";
import { parquetWasmMemoryBytes } from "../../src/lake/parquet-wasm.ts";
import { buildColumn, readScalar } from "../../src/table/columns.ts";
import type { Column } from "../../src/table/schema.ts";
import type { Scalar } from "../../src/table/values.ts";
import { allTypes, allTypesColumns, allTypesRows, allTypesSchema, allTypesValues } from "./golden/all-types.ts";
import { hyparquetWriterFile } from "./golden/hyparquet-writer-file.ts";

const single = (columns: ReturnType<typeof allTypesColumns>): DataFileColumn[] => columns.map(({ data, ...c }) => ({ ...c, chunks: [data] }));

/** Puts bytes into R2 and opens them with Floe's reader. */
async function stored(bytes: Uint8Array, bucket: R2Bucket = env.LAKE) {
  const key = `test/${crypto.randomUUID()}.parquet`;
  await env.LAKE.put(key, bytes);
  return openDataFile(bucket, key, bytes.byteLength);
}

/** Every column's values as scalars, read straight from the Arrow buffers. */
function scalars(columns: readonly Column[], data: readonly arrow.Data[]): (Scalar | null)[][] {
  return columns.map((column, c) => Array.from({ length: data[c]!.length }, (_, row) => readScalar(column.type, data[c]!, row)));
}

/** Scalars in a form `toEqual` compares exactly: the sign of zero and NaN kept, bytes as arrays. */
const exact = (values: (Scalar | null)[][]) =>
  values.map((column) => column.map((v) => (typeof v === "number" ? (Object.is(v, -0) ? "-0" : Number.isNaN(v) ? "NaN" : v) : v instanceof Uint8Array ? [...v] : v)));

const arrayBufferOf = (bytes: Uint8Array) => bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;

describe("lake data files", () => {
  it("read back every value of every type exactly, by Floe's reader", async () => {
    const columns = allTypesColumns();
    const written = await writeDataFile(single(columns), allTypesSchema);
    expect(written.recordCount).toBe(allTypesRows.length);
    const file = await stored(written.bytes);
    const read = await readRows(file, columns, 0, allTypesRows.length);
    expect(read.map((d) => String(d.type))).toEqual(columns.map((c) => String(c.data.type)));
    expect(exact(scalars(columns, read))).toEqual(exact(allTypesValues().map((v) => v.values)));
    // A projection in another order reads only those columns, in the asked order.
    const picked = [columns[17]!, columns[0]!, columns[2]!];
    expect(exact(scalars(picked, await readRows(file, picked, 0, allTypesRows.length)))).toEqual(exact([17, 0, 2].map((i) => allTypesValues()[i]!.values)));
  });

  it("read back every value exactly by hyparquet, an independent reader", async () => {
    const written = await writeDataFile(single(allTypesColumns()), allTypesSchema);
    const buffer = arrayBufferOf(written.bytes);
    // Raw physical values: decimals as unscaled integers or big-endian bytes, temporal values as integers.
    const metadata = parquetMetadata(buffer);
    for (const element of metadata.schema) delete element.logical_type, delete element.converted_type;
    const rows = (await parquetReadObjects({ file: buffer, metadata, utf8: false })) as Record<string, unknown>[];
    const fixedBytes: Record<number, number> = { 19: 9, 38: 16 };
    for (const { column, values } of allTypesValues()) {
      const { type } = column;
      const want = values.map((v) => {
        if (v === null) return null;
        if (type.kind === "DECIMAL" && type.precision > 18) return [...bigEndian(v as bigint, fixedBytes[type.precision]!)];
        if (type.kind === "STRING") return [...new TextEncoder().encode(v as string)];
        if (v instanceof Uint8Array) return [...v];
        return v;
      });
      const got = rows.map((row) => {
        const value = row[column.name];
        if (value === null || value === undefined) return null;
        if (value instanceof Uint8Array) return [...value];
        if (type.kind === "DECIMAL") return BigInt(value as number | bigint);
        return value;
      });
      expect(exact([got as (Scalar | null)[]]), column.name).toEqual(exact([want as (Scalar | null)[]]));
    }
  });

  it("carry field ids, the iceberg schema and Iceberg's physical and logical types", async () => {
    const written = await writeDataFile(single(allTypesColumns()), allTypesSchema, { "delete-type": "equality" });
    const metadata = parquetMetadata(arrayBufferOf(written.bytes));
    const elements = metadata.schema.slice(1);
    expect(elements.map((e) => e.field_id)).toEqual(allTypesSchema.fields.map((f) => f.id));
    expect(elements.map((e) => e.repetition_type)).toEqual(allTypesSchema.fields.map((f) => (f.required ? "REQUIRED" : "OPTIONAL")));
    const kv = new Map(metadata.key_value_metadata!.map((e) => [e.key, e.value]));
    expect(JSON.parse(kv.get("iceberg.schema")!)).toEqual(allTypesSchema);
    expect(kv.get("delete-type")).toBe("equality");
    const byName = Object.fromEntries(elements.map((e) => [e.name, e]));
    const physical = (name: string) => [byName[name]!.type, byName[name]!.type_length];
    expect(physical("tiny")).toEqual(["INT32", undefined]);
    expect(byName.tiny!.logical_type).toBeUndefined();
    expect(byName.small!.logical_type).toBeUndefined();
    expect(physical("price")).toEqual(["INT32", undefined]);
    expect(physical("mid")).toEqual(["INT64", undefined]);
    expect(physical("wide")).toEqual(["FIXED_LEN_BYTE_ARRAY", 9]);
    expect(physical("huge")).toEqual(["FIXED_LEN_BYTE_ARRAY", 16]);
    // arrow-rs writes precision 1 as INT64; readers take any integer width for a decimal.
    expect(physical("digit")).toEqual(["INT64", undefined]);
    expect(byName.huge!.logical_type).toEqual({ type: "DECIMAL", precision: 38, scale: 0 });
    expect(byName.at!.logical_type).toEqual({ type: "TIME", isAdjustedToUTC: false, unit: "MICROS" });
    expect(byName.local!.logical_type).toEqual({ type: "TIMESTAMP", isAdjustedToUTC: false, unit: "MICROS" });
    expect(byName.ts!.logical_type).toEqual({ type: "TIMESTAMP", isAdjustedToUTC: true, unit: "MICROS" });
    expect(byName.day!.logical_type).toEqual({ type: "DATE" });
    expect(byName.name!.logical_type).toEqual({ type: "STRING" });
    expect(physical("blob")).toEqual(["BYTE_ARRAY", undefined]);
    const chunk = metadata.row_groups[0]!.columns[0]!.meta_data!;
    expect(chunk.codec).toBe("SNAPPY");
    expect(chunk.statistics).toBeDefined();
  });

  it("report what the manifest needs: counts, bounds, column sizes, split offsets", async () => {
    const columns = allTypesColumns();
    const written = await writeDataFile(single(columns), allTypesSchema);
    const metadata = parquetMetadata(arrayBufferOf(written.bytes));
    expect(written.splitOffsets).toEqual([4]);
    expect([...written.metrics.keys()]).toEqual(columns.map((c) => c.id));
    for (const column of columns) {
      const metrics = written.metrics.get(column.id)!;
      expect(metrics).toMatchObject(columnMetrics(column, [column.data]));
      expect(metrics.columnSize).toBe(Number(columnChunk(metadata.row_groups[0]!, column.name)!.total_compressed_size));
    }
    expect(written.metrics.get(allTypes.columns.find((c) => c.name === "f")!.id)).toMatchObject({ nanCount: 1, nullCount: 1, valueCount: 5 });
  });

  it(`cuts row groups at ${rowGroupRowsMax} rows across chunks of any size, and reads each back`, async () => {
    const [id] = allTypes.columns;
    const small = allTypes.columns.find((c) => c.name === "small")!;
    const columns = [id!, small];
    const sizes = [7_000, 0, 9_000, 8_000];
    let start = 0;
    const chunks = sizes.map((n) => {
      const rows = Array.from({ length: n }, (_, i) => start + i);
      start += n;
      return rows;
    });
    const input: DataFileColumn[] = [
      { ...id!, chunks: chunks.map((rows) => buildColumn(id!.type, rows.map(BigInt))) },
      // A sliced chunk (offset 3) and nulls: the writer must honour Arrow offsets.
      { ...small, chunks: chunks.map((rows) => buildColumn(small.type, [0, 0, 0, ...rows.map((r) => (r % 5 === 0 ? null : (r % 60_000) - 30_000))]).slice(3, rows.length)) },
    ];
    const written = await writeDataFile(input, { ...allTypesSchema, fields: allTypesSchema.fields.slice(0, 1).concat(allTypesSchema.fields[3]!) });
    expect(written.recordCount).toBe(24_000);
    const file = await stored(written.bytes);
    const groups = rowGroupRanges(file);
    expect(groups.map((g) => g.rowEnd - g.rowStart)).toEqual([10_000, 10_000, 4_000]);
    expect(written.splitOffsets).toEqual(file.metadata.row_groups.map((g) => Number(g.file_offset)));
    for (const group of groups) {
      const [ids, smalls] = scalars(columns, await readRows(file, columns, group.rowStart, group.rowEnd));
      expect(ids).toEqual(Array.from({ length: group.rowEnd - group.rowStart }, (_, i) => BigInt(group.rowStart + i)));
      expect(smalls).toEqual(ids!.map((r) => (Number(r) % 5 === 0 ? null : (Number(r) % 60_000) - 30_000)));
    }
  });

  it("refuse columns whose chunks do not line up", async () => {
    const [id, flag] = allTypes.columns;
    await expect(writeDataFile([
      { ...id!, chunks: [buildColumn(id!.type, [1n, 2n])] },
      { ...flag!, chunks: [buildColumn(flag!.type, [true]), buildColumn(flag!.type, [false])] },
    ], allTypesSchema)).rejects.toThrow(/column 'flag' has chunks of \[1,1\] rows, column 'id' of \[2\]/);
  });

  it("fail with the cause when a chunk cannot be encoded midway, leaving parquet-wasm usable", async () => {
    const [id] = allTypes.columns;
    const good = buildColumn(id!.type, [1n, 2n]);
    // Int64 values in a buffer too short for them: the IPC writer (or arrow-rs, behind it) refuses the record batch.
    const bad = arrow.makeData({ type: new arrow.Int64(), length: 2, nullCount: 0, data: new BigInt64Array(1) });
    await expect(writeDataFile([{ ...id!, chunks: [good, bad] }], allTypesSchema)).rejects.toThrow(/arrow buffer of 8 bytes, 16 needed|Need at least/);
    const written = await writeDataFile([{ ...id!, chunks: [good] }], allTypesSchema);
    expect(written.recordCount).toBe(2);
  });

  it("fetch only the footer and the asked column chunks of a row group from R2", async () => {
    const [id] = allTypes.columns;
    const name = allTypes.columns.find((c) => c.name === "name")!;
    const rows = 3 * rowGroupRowsMax;
    const text = (i: number) => `${i}-${"x".repeat(i % 97)}-${(i * 2654435761) % 1_000_003}`;
    const written = await writeDataFile([
      { ...id!, chunks: [buildColumn(id!.type, Array.from({ length: rows }, (_, i) => BigInt(i)))] },
      { ...name, chunks: [buildColumn(name.type, Array.from({ length: rows }, (_, i) => text(i)))] },
    ], allTypesSchema);
    const gets: { offset: number; length: number }[] = [];
    const counting = {
      get: (key: string, options: R2GetOptions) => {
        const range = options.range as { offset: number; length: number };
        gets.push(range);
        return env.LAKE.get(key, options);
      },
    } as unknown as R2Bucket;
    const file = await stored(written.bytes, counting);
    expect(gets).toEqual([{ offset: written.bytes.byteLength - 256 * 1024, length: 256 * 1024 }]);
    gets.length = 0;
    const [group] = rowGroupRanges(file).slice(1, 2);
    const [ids] = await readRows(file, [id!], group!.rowStart, group!.rowEnd);
    expect(readScalar(id!.type, ids!, 0)).toBe(BigInt(rowGroupRowsMax));
    const idChunk = columnChunkRange(columnChunk(group!.rowGroup, "id")!);
    expect(idChunk.end).toBeLessThan(written.bytes.byteLength - 256 * 1024); // not in the tail already held
    expect(gets).toEqual([{ offset: idChunk.start, length: idChunk.end - idChunk.start }]);
    // Wasm memory never shrinks: after every file of this test file was written and read, it is still a few MiB
    // (one open row group and one batch while writing, one row group's columns while reading), not files' worth.
    expect(parquetWasmMemoryBytes()).toBeLessThan(16 * 1024 * 1024);
  });

  it("fetch a small file whole, in one read, and nothing more for its row groups", async () => {
    const [id] = allTypes.columns;
    const written = await writeDataFile([{ ...id!, chunks: [buildColumn(id!.type, Array.from({ length: 2 * rowGroupRowsMax }, (_, i) => BigInt(i)))] }], allTypesSchema);
    expect(written.bytes.byteLength).toBeLessThan(512 * 1024);
    const gets: { offset: number; length: number }[] = [];
    const counting = {
      get: (key: string, options: R2GetOptions) => (gets.push(options.range as { offset: number; length: number }), env.LAKE.get(key, options)),
    } as unknown as R2Bucket;
    const file = await stored(written.bytes, counting);
    for (const { rowStart, rowEnd } of rowGroupRanges(file)) await readRows(file, [id!], rowStart, rowEnd);
    expect(gets).toEqual([{ offset: 0, length: written.bytes.byteLength }]);
  });

  it("read files written by Floe's earlier writer (hyparquet-writer) exactly", async () => {
    const bytes = Uint8Array.from(atob(hyparquetWriterFile), (c) => c.charCodeAt(0));
    const file = await stored(bytes);
    const columns = lakeColumns(allTypes);
    const read = await readRows(file, columns, 0, allTypesRows.length);
    expect(exact(scalars(columns, read))).toEqual(exact(allTypesValues().map((v) => v.values)));
  });
});

/** `value` as `bytes` big-endian two's complement bytes. */
function bigEndian(value: bigint, bytes: number): Uint8Array {
  const out = new Uint8Array(bytes);
  let rest = BigInt.asUintN(8 * bytes, value);
  for (let i = bytes - 1; i >= 0; i--) {
    out[i] = Number(rest & 0xffn);
    rest >>= 8n;
  }
  return out;
}

describe("lake metadata files in the Workers runtime", () => {
  // The pool patches `Function`, so this cannot prove the writer avoids code generation; the smoke test does, by
  // tiering through plain workerd. This checks that the writer runs in the Workers runtime at all.
  it("writes an Avro container inside workerd", () => {
    const file = writeContainer({ type: "record", name: "r", fields: [{ name: "n", type: "long" }] }, [{ n: 2n ** 62n }], { content: "data" });
    expect([...file.subarray(0, 4)]).toEqual([0x4f, 0x62, 0x6a, 0x01]);
  });
});
