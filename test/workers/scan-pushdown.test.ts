/**
 * Union scans on whole columns, end to end: every type reads back exactly
 * through lake and hot rows; JSON and NDJSON answers are byte for byte the
 * reference encoding of the rows the Arrow answer holds; each filter
 * operator on each type selects what a row-wise reference selects, with
 * the hot rows filtered inside the Tablets (only matching rows of the asked
 * columns cross to the Worker, pages still covering their offsets) and
 * projection pushed down (fewer bytes for fewer columns).
 */
import * as arrow from "apache-arrow";
import { env, exports } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { batchMessage, endOfStream, schemaMessage } from "../../src/arrow/ipc-write.ts";
import { columnsToJsonRows } from "../../src/log/page.ts";
import { arrowSchemaOf, buildColumn, readScalar } from "../../src/table/columns.ts";
import type { Column } from "../../src/table/schema.ts";
import { columnSpec, parseTableDefinition } from "../../src/table/schema.ts";
import { formatType } from "../../src/table/types.ts";
import type { Scalar } from "../../src/table/values.ts";
import { live } from "../../src/tablet/stub.ts";
import { random } from "../fixtures.ts";
import { randomValues, typedColumns } from "../node/random-columns.ts";
import { api, clientRequest, createTable, ok, tabletOf } from "./helpers.ts";

const arrowType = { "content-type": "application/vnd.apache.arrow.stream" };
const rowsPerHalf = 1500;

/** The table: a row number, then a nullable column of every type; two buckets, lake enabled. */
const definition = {
  columns: [{ name: "id", type: "INT", nullable: false }, ...typedColumns.map((c) => ({ name: c.name, type: formatType(c.type), nullable: true }))],
  bucket: { num: 2, key: ["id"] },
  properties: { "table.datalake.enabled": "true" },
};
const table = parseTableDefinition(definition);
const columns = table.columns;

/** Per row (by id), its scalars in table column order. */
const rows: (Scalar | null)[][] = [];

function ipcOf(from: number, count: number): Uint8Array {
  const values = columns.map((column, c) => (c === 0 ? Array.from({ length: count }, (_, i) => from + i) : randomValues(column, count, from * 31 + c)));
  for (let i = 0; i < count; i++) rows[from + i] = values.map((v) => v[i]!);
  const data = columns.map((column, c) => buildColumn(column.type, values[c]!));
  const parts = [schemaMessage(arrowSchemaOf(columns)), batchMessage(data, count), endOfStream];
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  parts.reduce((at, p) => (out.set(p, at), at + p.length), 0);
  return out;
}

const scan = (query: string) => api("GET", `/databases/p/tables/typed/scan?${query}`);
const text = (body: unknown) => new TextDecoder().decode(body as Uint8Array);

beforeAll(async () => {
  await createTable("p", "typed", definition);
  for (let from = 0; from < rowsPerHalf; from += 500) await ok("POST", "/databases/p/tables/typed/rows", ipcOf(from, 500), arrowType);
  await ok("POST", "/tiering/run");
  for (let from = rowsPerHalf; from < 2 * rowsPerHalf; from += 500) await ok("POST", "/databases/p/tables/typed/rows", ipcOf(from, 500), arrowType);
});

describe("union scans on whole columns", () => {
  it("read every type back exactly, and answer JSON and NDJSON as the reference encoding of the Arrow answer's rows", async () => {
    const answer = await scan("format=arrow");
    const decoded = arrow.tableFromIPC(answer.body as Uint8Array);
    expect(decoded.numRows).toBe(2 * rowsPerHalf);
    const same = (v: Scalar | null) => (typeof v === "number" && Object.is(v, -0) ? "-0" : typeof v === "number" && Number.isNaN(v) ? "NaN" : v);
    const lines: string[] = [];
    for (const batch of decoded.batches) {
      const data = batch.data.children;
      for (let row = 0; row < batch.numRows; row++) {
        const values = columns.map((column, c) => same(readScalar(column.type, data[c]!, row)));
        expect(values).toEqual(rows[values[0] as number]!.map(same));
      }
      lines.push(...columnsToJsonRows(columns, data, batch.numRows).map((row) => JSON.stringify(row)));
    }
    const ndjson = await scan("format=ndjson");
    expect(text(ndjson.body)).toBe(lines.map((line) => `${line}\n`).join(""));
    const json = await (await exports.default.fetch(clientRequest("GET", "/databases/p/tables/typed/scan"))).text();
    expect(json.slice(json.indexOf('"rows":['), json.indexOf('],"stats":') + 1)).toBe(`"rows":[${lines.join(",")}]`);
    expect(JSON.parse(json).rows).toHaveLength(2 * rowsPerHalf);
  });

  it("filter every type with every operator as a row-wise reference does, lake and hot rows alike", async () => {
    const next = random(5);
    const jsonOf = (column: Column, value: Scalar) => columnsToJsonRows([column], [buildColumn(column.type, [value])], 1)[0]![column.name]!;
    const spell = (column: Column, value: Scalar) => {
      const json = jsonOf(column, value);
      return typeof json === "string" ? `'${json.replaceAll("'", "''")}'` : String(json);
    };
    const order = (a: Scalar, b: Scalar): number => {
      if (typeof a === "number") return Number.isNaN(a) ? NaN : a < (b as number) ? -1 : a > (b as number) ? 1 : 0;
      if (typeof a === "boolean" || typeof a === "bigint") return a < b ? -1 : a > b ? 1 : 0;
      const [x, y] = typeof a === "string" ? [[...a].map((c) => c.codePointAt(0)!), [...(b as string)].map((c) => c.codePointAt(0)!)] : [[...(a as Uint8Array)], [...(b as Uint8Array)]];
      for (let i = 0; i < Math.min(x.length, y.length); i++) if (x[i] !== y[i]) return Math.sign(x[i]! - y[i]!);
      return Math.sign(x.length - y.length);
    };
    for (const [c, column] of columns.entries()) {
      if (c === 0) continue;
      const values = rows.map((r) => r[c]!).filter((v) => v !== null && !(typeof v === "number" && Number.isNaN(v))) as Scalar[];
      const pick = () => values[Math.floor(next() * values.length)]!;
      const [a, b] = [pick(), pick()];
      const cases: [string, (v: Scalar | null) => boolean][] = [
        [`${column.name} = ${spell(column, a)}`, (v) => v !== null && order(v, a) === 0],
        [`${column.name} != ${spell(column, a)}`, (v) => v !== null && order(v, a) !== 0],
        [`${column.name} < ${spell(column, b)}`, (v) => v !== null && order(v, b) < 0],
        [`${column.name} >= ${spell(column, b)}`, (v) => v !== null && order(v, b) >= 0],
        [`${column.name} IN (${spell(column, a)}, ${spell(column, b)})`, (v) => v !== null && (order(v, a) === 0 || order(v, b) === 0)],
        [`${column.name} IS NULL`, (v) => v === null],
      ];
      for (const [filter, holds] of cases) {
        const answer = await scan(`columns=id&filter=${encodeURIComponent(filter)}`);
        expect(answer.status, `${filter}: ${JSON.stringify(answer.body)}`).toBe(200);
        const ids = answer.body.rows.map((r: { id: number }) => r.id).sort((x: number, y: number) => x - y);
        const expected = rows.flatMap((r, id) => (holds(r[c]!) ? [id] : []));
        expect(ids, filter).toEqual(expected);
        // The Tablets answered only the hot rows that match.
        expect(answer.body.stats.hotRowsRead, filter).toBe(expected.filter((id) => id >= rowsPerHalf).length);
      }
    }
  });

  it("push projection into the Tablets: two of the columns move fewer bytes than all of them", async () => {
    const all = (await scan("source=hot")).body.stats;
    const two = (await scan("source=hot&columns=id,c3")).body.stats;
    expect(all.hotRowsRead).toBe(2 * rowsPerHalf);
    expect(two.hotRowsRead).toBe(2 * rowsPerHalf);
    // id and an INT column (8 bytes a row with the system columns' 22) against 19 columns of every type.
    expect(two.hotBytesRead).toBeLessThan(all.hotBytesRead / 4);
    const union = (await scan("columns=id,c3")).body.stats;
    expect(union.hotRowsRead).toBe(rowsPerHalf);
    expect(union.hotBytesRead).toBeLessThan(two.hotBytesRead);
  });
});

describe("a primary-key union scan", () => {
  it("merges lake rows, position deletes and the changelog for a BIGINT key, within and beyond 2^53", async () => {
    await createTable("p", "accounts", {
      columns: [{ name: "id", type: "BIGINT", nullable: false }, { name: "v", type: "STRING", nullable: false }],
      primaryKey: ["id"],
      bucket: { num: 2 },
      properties: { "table.datalake.enabled": "true" },
    });
    const model = new Map<string, string>();
    const ids = [...Array.from({ length: 40 }, (_, i) => String(i)), ...Array.from({ length: 40 }, (_, i) => String(2n ** 60n + BigInt(i)))];
    const upsert = async (keys: string[], v: string) => {
      await ok("POST", "/databases/p/tables/accounts/rows", keys.map((id) => ({ id, v })));
      for (const id of keys) model.set(id, v);
    };
    const remove = async (keys: string[]) => {
      await ok("POST", "/databases/p/tables/accounts/rows?op=delete", keys.map((id) => ({ id })));
      for (const id of keys) model.delete(id);
    };
    await upsert(ids, "a");
    await ok("POST", "/tiering/run");
    await upsert(ids.filter((_, i) => i % 3 === 0), "b");
    await remove(ids.filter((_, i) => i % 7 === 1));
    await ok("POST", "/tiering/run");
    await upsert(ids.filter((_, i) => i % 5 === 0), "c");
    await remove(ids.filter((_, i) => i % 11 === 2));
    await upsert(["12345", String(2n ** 62n)], "new");
    const answer = await ok("GET", "/databases/p/tables/accounts/scan");
    const got = answer.rows.map((r: { id: number | string; v: string }) => [String(r.id), r.v]).sort();
    expect(got).toEqual([...model].sort());
    expect(answer.stats.filesRead).toBeGreaterThan(2);
  });
});

describe("a Tablet's filtered read", () => {
  it("answers only matching rows of the asked columns, with their offsets, and still covers the offsets it read", async () => {
    const { tableId } = await ok("GET", "/databases/p/tables/typed");
    const stub = tabletOf(tableId, 0);
    const status = live(await stub.status());
    const id = columnSpec(columns[0]!);
    const c3 = columns[4]!; // INT
    const read = async (offset: number, rowsMax: number, filter: { op: "=" | ">=" | "is_null"; values: Scalar[] }) => {
      const result = live(await stub.read({ offset, rowsMax, bytesMax: 1 << 24, columns: [id], filter: [{ column: columnSpec(c3), ...filter }] }));
      if (result.kind !== "page") throw new Error(result.kind);
      const page = arrow.tableFromIPC(result.page.ipc);
      return { page: result.page, ids: [...page.getChild("id")!].map(Number), offsets: [...page.getChild("_offset")!].map(Number), fields: page.schema.fields.map((f) => f.name) };
    };
    // Every row of this bucket, unfiltered, to know which ids sit at which offsets.
    const everything = live(await stub.read({ offset: 0, rowsMax: status.highWatermark, bytesMax: 1 << 24, columns: [id] }));
    if (everything.kind !== "page") throw new Error(everything.kind);
    const idAt = [...arrow.tableFromIPC(everything.page.ipc).getChild("id")!].map(Number);
    const valueAt = (offset: number) => rows[idAt[offset]!]![4] as number | null;
    const from = 7;
    const rowsMax = Math.min(400, status.highWatermark - from);
    const nonNegative = await read(from, rowsMax, { op: ">=", values: [0] });
    const expected = Array.from({ length: rowsMax }, (_, i) => from + i).filter((offset) => (valueAt(offset) ?? -1) >= 0);
    expect(nonNegative.fields).toEqual(["id", "_offset", "_timestamp", "_change"]);
    expect(nonNegative.offsets).toEqual(expected);
    expect(nonNegative.ids).toEqual(expected.map((offset) => idAt[offset]));
    expect(nonNegative.page.rowCount).toBe(expected.length);
    expect(nonNegative.page.nextOffset).toBe(from + rowsMax);
    // A filter nothing matches answers no rows, and the page still moves the reader on.
    const none = await read(from, rowsMax, { op: "=", values: [12345] });
    expect(Array.from({ length: rowsMax }, (_, i) => from + i).filter((offset) => valueAt(offset) === 12345)).toEqual([]);
    expect(none.page.rowCount).toBe(0);
    expect(none.offsets).toEqual([]);
    expect(none.page.nextOffset).toBe(from + rowsMax);
    const nulls = await read(0, status.highWatermark, { op: "is_null", values: [] });
    expect(nulls.offsets).toEqual(idAt.flatMap((_, offset) => (valueAt(offset) === null ? [offset] : [])));
    expect(nulls.page.nextOffset).toBe(status.highWatermark);
  });
});
