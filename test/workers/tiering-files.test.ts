/**
 * What one tiering round writes, checked through the API and R2 only (so
 * these tests do not depend on how the writer is built): the Parquet data
 * file as an independent reader (hyparquet) sees it, and the manifest entry
 * describing it. Each test pins a finding of an independent check.
 */
import { env } from "cloudflare:workers";
import * as arrow from "apache-arrow";
import type { FileMetaData } from "hyparquet";
import { parquetMetadata, parquetReadObjects } from "hyparquet";
import { parquetHeader } from "hyparquet/src/column.js";
import { beforeAll, describe, expect, it } from "vitest";
import { readContainer } from "../../src/iceberg/avro-read.ts";
import { readManifestList } from "../../src/iceberg/manifest-read.ts";
import { systemColumns } from "../../src/iceberg/schema.ts";
import { encodeStream } from "../../src/arrow/ipc.ts";
import { arrowSchemaOf } from "../../src/table/columns.ts";
import { parseTableDefinition } from "../../src/table/schema.ts";
import { contentTypes } from "../../src/vocabulary.ts";
import { api, createTable, ok } from "./helpers.ts";

const definition = {
  columns: [
    { name: "id", type: "BIGINT", nullable: false },
    { name: "d", type: "DOUBLE" },
    { name: "f", type: "FLOAT" },
    { name: "flag", type: "BOOLEAN" },
    { name: "at", type: "TIME" },
  ],
  bucket: { num: 1 },
  properties: { "table.datalake.enabled": "true" },
};
/** Enough rows for three row groups of 10,000. */
const rowCount = 25_000;
const batchRows = 5_000;

/** DOUBLE cycles -0, +0, NaN, null (so its bounds are -0 and +0); FLOAT cycles +0, -0. */
function batch(from: number, length: number): Uint8Array {
  const columns = parseTableDefinition(definition).columns;
  const ids = new BigInt64Array(length);
  const d = new Float64Array(length);
  const dValid = new Uint8Array(Math.ceil(length / 8));
  const f = new Float32Array(length);
  const flags = new Uint8Array(Math.ceil(length / 8));
  const at = new BigInt64Array(length);
  let dNulls = 0;
  for (let i = 0; i < length; i++) {
    const row = from + i;
    ids[i] = BigInt(row);
    d[i] = [-0, 0, NaN, 0][row % 4]!;
    if (row % 4 !== 3) dValid[i >> 3]! |= 1 << (i & 7);
    else dNulls++;
    f[i] = row % 2 === 0 ? 0 : -0;
    if (row % 3 === 0) flags[i >> 3]! |= 1 << (i & 7);
    at[i] = BigInt(row) * 1_000_001n;
  }
  const data = [
    arrow.makeData({ type: new arrow.Int64(), length, nullCount: 0, data: ids }),
    arrow.makeData({ type: new arrow.Float64(), length, nullCount: dNulls, nullBitmap: dValid, data: d }),
    arrow.makeData({ type: new arrow.Float32(), length, nullCount: 0, data: f }),
    arrow.makeData({ type: new arrow.Bool(), length, nullCount: 0, data: flags }),
    arrow.makeData({ type: new arrow.TimeMicrosecond(), length, nullCount: 0, data: at }),
  ];
  return encodeStream(arrowSchemaOf(columns), data, length);
}

interface Tiered {
  file: ArrayBuffer;
  metadata: FileMetaData;
  entry: Record<string, any>;
}

let tiered: Tiered;

beforeAll(async () => {
  await createTable("lake", "files", definition);
  for (let from = 0; from < rowCount; from += batchRows) {
    const answer = await api("POST", "/databases/lake/tables/files/rows", batch(from, batchRows), { "content-type": contentTypes.arrowStream });
    expect(answer.status, JSON.stringify(answer.body)).toBeLessThan(300);
  }
  expect((await ok("POST", "/tiering/run")).tables[0]).toMatchObject({ kind: "committed", records: rowCount });
  const { tableId } = await ok("GET", "/databases/lake/tables/files");
  const tableKey = `lake/files-${tableId}`;
  const hint = await (await env.LAKE.get(`${tableKey}/metadata/version-hint.text`))!.text();
  const tableMetadata = (await (await env.LAKE.get(`${tableKey}/metadata/v${hint}.metadata.json`))!.json()) as any;
  const key = (uri: string) => uri.slice("s3://floe-lake/".length);
  const listBytes = new Uint8Array(await (await env.LAKE.get(key(tableMetadata.snapshots[0]["manifest-list"])))!.arrayBuffer());
  const [manifest] = readManifestList(listBytes);
  const manifestBytes = new Uint8Array(await (await env.LAKE.get(key(manifest!.path)))!.arrayBuffer());
  const [record] = readContainer(manifestBytes).records as { data_file: Record<string, any> }[];
  const entry = record!.data_file;
  const file = await (await env.LAKE.get(key(entry.file_path)))!.arrayBuffer();
  tiered = { file, metadata: parquetMetadata(file), entry };
});

const fieldId = (name: string) => parseTableDefinition(definition).columns.find((c) => c.name === name)?.id ?? systemColumns.find((c) => c.name === name)!.id;
const pairs = (list: { key: number; value: unknown }[]) => new Map(list.map((p) => [Number(p.key), p.value]));
const float64 = (value: number) => new Uint8Array(new Float64Array([value]).buffer);
const float32 = (value: number) => new Uint8Array(new Float32Array([value]).buffer);

describe("a tiered data file", () => {
  it("keeps -0.0 and +0.0 apart in FLOAT and DOUBLE columns", async () => {
    const rows = (await parquetReadObjects({ file: tiered.file, columns: ["id", "d", "f"] })) as { id: bigint; d: number | null; f: number }[];
    expect(rows).toHaveLength(rowCount);
    rows.sort((a, b) => Number(a.id - b.id));
    const sign = (v: number | null) => (v === null ? "null" : Number.isNaN(v) ? "NaN" : Object.is(v, -0) ? "-0" : String(v));
    expect(rows.slice(0, 8).map((r) => sign(r.d))).toEqual(["-0", "0", "NaN", "null", "-0", "0", "NaN", "null"]);
    expect(rows.slice(0, 4).map((r) => sign(r.f))).toEqual(["0", "-0", "0", "-0"]);
    expect(rows.filter((r) => Object.is(r.d, -0))).toHaveLength(rowCount / 4);
    expect(rows.filter((r) => Object.is(r.f, -0))).toHaveLength(rowCount / 2);
  });

  it("stores BOOLEAN values PLAIN, never RLE, in every data page", () => {
    for (const group of tiered.metadata.row_groups) {
      const chunk = group.columns.find((c) => c.meta_data!.path_in_schema[0] === "flag")!.meta_data!;
      for (const stats of chunk.encoding_stats ?? []) expect(stats.encoding).toBe("PLAIN");
      const start = Number(chunk.dictionary_page_offset ?? chunk.data_page_offset);
      const end = start + Number(chunk.total_compressed_size);
      const encodings: string[] = [];
      for (let at = start; at < end;) {
        const reader = { view: new DataView(tiered.file, at, end - at), offset: 0 };
        const header = parquetHeader(reader);
        if (header.type === "DATA_PAGE") encodings.push(header.data_page_header!.encoding);
        if (header.type === "DATA_PAGE_V2") encodings.push(header.data_page_header_v2!.encoding);
        at += reader.offset + header.compressed_page_size;
      }
      expect(encodings.length).toBeGreaterThan(0);
      expect(new Set(encodings)).toEqual(new Set(["PLAIN"]));
    }
  });

  it("annotates TIME as TIME(MICROS, isAdjustedToUTC=false)", () => {
    const element = tiered.metadata.schema.find((e) => e.name === "at")!;
    expect(element.type).toBe("INT64");
    expect(element.logical_type).toEqual({ type: "TIME", isAdjustedToUTC: false, unit: "MICROS" });
  });
});

describe("the manifest entry of a tiered data file", () => {
  it("bounds floating point columns by totalOrder: -0.0 below +0.0, NaN counted apart", () => {
    const lower = pairs(tiered.entry.lower_bounds);
    const upper = pairs(tiered.entry.upper_bounds);
    expect([...(lower.get(fieldId("d")) as Uint8Array)]).toEqual([...float64(-0)]);
    expect([...(upper.get(fieldId("d")) as Uint8Array)]).toEqual([...float64(0)]);
    expect([...(lower.get(fieldId("f")) as Uint8Array)]).toEqual([...float32(-0)]);
    expect([...(upper.get(fieldId("f")) as Uint8Array)]).toEqual([...float32(0)]);
    expect(Number(pairs(tiered.entry.nan_value_counts).get(fieldId("d")))).toBe(rowCount / 4);
    expect(Number(pairs(tiered.entry.null_value_counts).get(fieldId("d")))).toBe(rowCount / 4);
  });

  it("lists the start of every row group in split_offsets", () => {
    expect(tiered.metadata.row_groups.length).toBe(3);
    const starts = tiered.metadata.row_groups.map((group) => {
      const first = group.columns[0]!.meta_data!;
      return Number(first.dictionary_page_offset ?? first.data_page_offset);
    });
    expect((tiered.entry.split_offsets as unknown[]).map(Number)).toEqual(starts);
  });

  it("fills column_sizes with every column's compressed bytes", () => {
    const sizes = pairs(tiered.entry.column_sizes);
    const names = tiered.metadata.schema.slice(1).map((e) => e.name);
    expect([...sizes.keys()].sort((a, b) => a - b)).toEqual(names.map(fieldId).sort((a, b) => a - b));
    for (const name of names) {
      const total = tiered.metadata.row_groups.reduce((n, g) => n + Number(g.columns.find((c) => c.meta_data!.path_in_schema[0] === name)!.meta_data!.total_compressed_size), 0);
      expect(Number(sizes.get(fieldId(name))), name).toBe(total);
    }
  });

  it("carries the table's default sort order id", () => {
    expect(tiered.entry.sort_order_id).toBe(1);
  });
});
