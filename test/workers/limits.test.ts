/**
 * Every documented limit at its boundary and one past it, and hostile
 * requests (deep nesting, giant strings, millions of tiny rows) refused with
 * a 4xx JSON error while nothing is written and the Worker keeps serving.
 */
import * as arrow from "apache-arrow";
import { beforeAll, describe, expect, it } from "vitest";
import { keyValuesMax } from "../../src/arrow/metadata.ts";
import { requestLimits } from "../../src/vocabulary.ts";
import { api, expectError, highWatermarks, ok } from "./helpers.ts";

const wide = "/databases/limits/tables/wide";
const keyed = "/databases/limits/tables/keyed";
const json = { "content-type": "application/json" };
const ndjson = { "content-type": "application/x-ndjson" };

/** `text` padded with trailing spaces (still the same JSON) to exactly `bytes` bytes. */
function padTo(text: string, bytes: number): string {
  expect(text.length).toBeLessThanOrEqual(bytes);
  return text + " ".repeat(bytes - text.length);
}

const columns = (count: number, nameLength = 8) =>
  Array.from({ length: count }, (_, i) => ({ name: `c${String(i).padStart(nameLength - 1, "0")}`, type: "INT" }));

beforeAll(async () => {
  await ok("PUT", "/databases/limits");
  await ok("PUT", wide, { columns: [{ name: "id", type: "INT" }, { name: "s", type: "STRING" }], bucket: { num: 1 } });
  await ok("PUT", keyed, {
    columns: [{ name: "k", type: "INT" }, { name: "id", type: "INT" }],
    primaryKey: ["k", "id"],
    bucket: { num: 2, key: ["k"] },
  });
  const rows = Array.from({ length: requestLimits.prefixRowsMax + 1 }, (_, id) => ({ k: 1, id }));
  await ok("POST", `${keyed}/rows`, rows);
});

describe("limits at and past their boundary", () => {
  it(`request body: ${requestLimits.bodyBytesMax} bytes`, async () => {
    const max = requestLimits.bodyBytesMax;
    const rows = Array.from({ length: 16 }, (_, id) => ({ id, s: "x".repeat(1_000_000) }));
    const body = padTo(JSON.stringify(rows), max);
    expect((await api("POST", `${wide}/rows`, body, json)).status).toBe(200);
    const before = await highWatermarks("limits", "wide");
    expectError(await api("POST", `${wide}/rows`, `${body} `, json), 413, "payload_too_large", new RegExp(`exceeds ${max} bytes`));
    expect(await highWatermarks("limits", "wide")).toEqual(before);
  });

  it(`rows per write: ${requestLimits.rowsPerWriteMax}`, async () => {
    const max = requestLimits.rowsPerWriteMax;
    const rows = (count: number) => `[${'{"id":1},'.repeat(count - 1)}{"id":1}]`;
    expect((await api("POST", `${wide}/rows`, rows(max), json)).status).toBe(200);
    const before = await highWatermarks("limits", "wide");
    expectError(await api("POST", `${wide}/rows`, rows(max + 1), json), 413, "payload_too_large", new RegExp(`at most ${max} rows`));
    expect(await highWatermarks("limits", "wide")).toEqual(before);
  });

  it("counts rows before parsing without being fooled by commas and brackets inside strings", async () => {
    const max = requestLimits.rowsPerWriteMax;
    // A brace, a comma and an escaped quote inside a string: counted as structure, each row would count as several.
    const tricky = JSON.stringify('}, {"}, {');
    const rows = (count: number) => `[${`{"id":1,"s":${tricky}},`.repeat(count - 1)}{"id":1,"s":${tricky}}]`;
    expect((await api("POST", `${wide}/rows`, rows(max), json)).status).toBe(200);
    expectError(await api("POST", `${wide}/rows`, rows(max + 1), json), 413, "payload_too_large", new RegExp(`got ${max + 1}`));
    const lines = (count: number) => `{"id":1,"s":${tricky}}\n\n`.repeat(count);
    expect((await api("POST", `${wide}/rows`, lines(max), ndjson)).status).toBe(200);
    expectError(await api("POST", `${wide}/rows`, lines(max + 1), ndjson), 413, "payload_too_large", new RegExp(`at most ${max} rows`));
  });

  it(`one row: ${requestLimits.rowBytesMax} bytes, Arrow-encoded`, async () => {
    const max = requestLimits.rowBytesMax;
    // The encoding adds a fixed overhead to the string's bytes; the refusal of a row of `max` characters names it.
    const probe = await api("POST", `${wide}/rows`, [{ id: 1, s: "x".repeat(max) }]);
    expectError(probe, 413, "payload_too_large", /a row encodes to \d+ bytes/);
    const overhead = Number(/encodes to (\d+) bytes/.exec(probe.body.error.message)![1]) - max;
    expect((await api("POST", `${wide}/rows`, [{ id: 1, s: "x".repeat(max - overhead) }])).status).toBe(200);
    const before = await highWatermarks("limits", "wide");
    const past = await api("POST", `${wide}/rows`, [{ id: 1, s: "x".repeat(max - overhead + 1) }]);
    expectError(past, 413, "payload_too_large", new RegExp(`the limit is ${max}`));
    expect(await highWatermarks("limits", "wide")).toEqual(before);
  });

  it(`rows per log read: ${requestLimits.logReadRowsMax}`, async () => {
    const max = requestLimits.logReadRowsMax;
    const log = "/databases/limits/tables/logged";
    await ok("PUT", log, { columns: columns(1), bucket: { num: 1 } });
    await ok("POST", `${log}/rows`, Array.from({ length: max + 1 }, () => ({ c0000000: 1 })));
    const page = await ok("GET", `${log}/log?bucket=0&limit=${max}`);
    expect(page.rows).toHaveLength(max);
    expectError(await api("GET", `${log}/log?bucket=0&limit=${max + 1}`), 400, "bad_request", new RegExp(`limit must be 1..${max}`));
  });

  it(`keys per lookup: ${requestLimits.lookupKeysMax}`, async () => {
    const max = requestLimits.lookupKeysMax;
    const keys = (count: number) => Array.from({ length: count }, (_, id) => ({ k: 1, id }));
    expect((await ok("POST", `${keyed}/lookup`, { keys: keys(max) })).rows).toHaveLength(max);
    expectError(await api("POST", `${keyed}/lookup`, { keys: keys(max + 1) }), 413, "payload_too_large", new RegExp(`at most ${max} keys`));
  });

  it(`rows per prefix lookup: ${requestLimits.prefixRowsMax}`, async () => {
    const max = requestLimits.prefixRowsMax;
    const answer = await ok("POST", `${keyed}/lookup`, { prefix: { k: 1 }, limit: max });
    expect(answer.rows).toHaveLength(max);
    expect(answer.truncated).toBe(true);
    expectError(await api("POST", `${keyed}/lookup`, { prefix: { k: 1 }, limit: max + 1 }), 400, "bad_request", /limit must be an integer/);
  });

  it("a JSON body for a definition or lookup: 1 MiB", async () => {
    const max = 1024 * 1024;
    const body = JSON.stringify({ keys: [{ k: 1, id: 1 }] });
    expect((await api("POST", `${keyed}/lookup`, padTo(body, max), json)).status).toBe(200);
    expectError(await api("POST", `${keyed}/lookup`, padTo(body, max + 1), json), 413, "payload_too_large");
  });

  it(`writer id: ${requestLimits.writerIdLengthMax} characters`, async () => {
    const max = requestLimits.writerIdLengthMax;
    const write = (id: string) => api("POST", `${wide}/rows`, [{ id: 1 }], { "Floe-Writer-Id": id, "Floe-Writer-Seq": "1" });
    expect((await write("w".repeat(max))).status).toBe(200);
    expectError(await write("w".repeat(max + 1)), 400, "bad_request", new RegExp(`1..${max} characters`));
  });

  it("names: 128 characters, for databases, tables and columns", async () => {
    const name = (length: number) => `n${"x".repeat(length - 1)}`;
    expect((await api("PUT", `/databases/${name(128)}`)).status).toBe(201);
    expectError(await api("PUT", `/databases/${name(129)}`), 400, "bad_request", /longer than 128/);
    const table = (tableName: string, columnName = "id") => ({ columns: [{ name: columnName, type: "INT" }], bucket: { num: 1 } });
    expect((await api("PUT", `/databases/limits/tables/${name(128)}`, table("t"))).status).toBe(201);
    expectError(await api("PUT", `/databases/limits/tables/${name(129)}`, table("t")), 400, "bad_request", /longer than 128/);
    expect((await api("PUT", "/databases/limits/tables/long_column", table("t", name(128)))).status).toBe(201);
    expectError(await api("PUT", "/databases/limits/tables/longer_column", table("t", name(129))), 400, "bad_request", /longer than 128/);
  });

  it("columns per table: 256", async () => {
    expect((await api("PUT", "/databases/limits/tables/c256", { columns: columns(256), bucket: { num: 1 } })).status).toBe(201);
    expectError(
      await api("PUT", "/databases/limits/tables/c257", { columns: columns(257), bucket: { num: 1 } }),
      400,
      "bad_request",
      /at most 256 columns, got 257/,
    );
  });

  it(`custom metadata entries of an Arrow schema: ${keyValuesMax}`, async () => {
    const stream = (entries: number) => {
      const table = new arrow.Table({ id: arrow.vectorFromArray([1], new arrow.Int32()) });
      for (let i = 0; i < entries; i++) table.schema.metadata.set(`key${i}`, "v");
      return arrow.tableToIPC(table, "stream");
    };
    const arrowType = { "content-type": "application/vnd.apache.arrow.stream" };
    expect((await api("POST", `${wide}/rows`, stream(keyValuesMax), arrowType)).status).toBe(200);
    const before = await highWatermarks("limits", "wide");
    expectError(await api("POST", `${wide}/rows`, stream(keyValuesMax + 1), arrowType), 400, "bad_request", new RegExp(`${keyValuesMax + 1} custom metadata entries of the schema, more than ${keyValuesMax}`));
    expect(await highWatermarks("limits", "wide")).toEqual(before);
  });

  it("buckets per table: 1024", async () => {
    const definition = (num: number) => ({ columns: columns(1), bucket: { num } });
    expect((await api("PUT", "/databases/limits/tables/b1024", definition(1024))).status).toBe(201);
    expectError(await api("PUT", "/databases/limits/tables/b1025", definition(1025)), 400, "bad_request", /1\.\.1024/);
  });
});

describe("hostile requests", () => {
  const hostile: [string, string, string, string, number][] = [
    ["deep nesting in rows", "POST", `${wide}/rows`, "[".repeat(8_000_000), 400],
    ["deep balanced nesting in rows", "POST", `${wide}/rows`, `${"[".repeat(2_000_000)}${"]".repeat(2_000_000)}`, 400],
    ["deep nesting in a definition", "PUT", "/databases/limits/tables/deep", `{"columns":${"[".repeat(1_000_000)}`, 400],
    ["deep nesting in a lookup", "POST", `${keyed}/lookup`, `{"keys":${"[".repeat(500_000)}${"]".repeat(500_000)}}`, 400],
    ["a giant string in a row", "POST", `${wide}/rows`, JSON.stringify([{ id: 1, s: "x".repeat(15 * 1024 * 1024) }]), 413],
    ["millions of tiny rows", "POST", `${wide}/rows`, `[${"{},".repeat(5_500_000)}{}]`, 413],
    ["millions of numbers", "POST", `${wide}/rows`, `[${"0,".repeat(8_000_000)}0]`, 413],
    ["millions of objects nested in one row", "POST", `${wide}/rows`, `[{"id":1,"s":[${"{},".repeat(5_000_000)}{}]}]`, 400],
    ["deep nesting inside a row", "POST", `${wide}/rows`, `[{"id":1,"s":${"[".repeat(4_000_000)}${"]".repeat(4_000_000)}}]`, 400],
  ];

  it.each(hostile)("refuses %s", async (_what, method, path, body, status) => {
    const before = [await highWatermarks("limits", "wide"), await highWatermarks("limits", "keyed")];
    const answer = await api(method, path, body, json);
    expect(answer.status, JSON.stringify(answer.body).slice(0, 300)).toBe(status);
    expect(typeof answer.body.error.message).toBe("string");
    expect([await highWatermarks("limits", "wide"), await highWatermarks("limits", "keyed")]).toEqual(before);
    expect((await api("GET", "/health")).status).toBe(200);
  });

  it("refuses millions of tiny NDJSON rows and a giant header", async () => {
    const before = await highWatermarks("limits", "wide");
    const manyLines = await api("POST", `${wide}/rows`, '{"id":1}\n'.repeat(1_800_000), ndjson);
    expectError(manyLines, 413, "payload_too_large", /at most 100000 rows/);
    expectError(await api("POST", `${wide}/rows`, "\n".repeat(16 * 1024 * 1024 - 1), ndjson), 400, "bad_request", /no rows/);
    expectError(await api("POST", `${wide}/rows`, `{"id":1,"s":${"[".repeat(300_000)}}\n`, ndjson), 400, "bad_request", /nests an array or object/);
    const header = await api("POST", `${wide}/rows`, [{ id: 1 }], { "Floe-Writer-Id": "w".repeat(60_000), "Floe-Writer-Seq": "1" });
    expectError(header, 400, "bad_request");
    expectError(await api("GET", `/databases/${"d".repeat(60_000)}/tables`), 400, "bad_request", /longer than 128/);
    expect(await highWatermarks("limits", "wide")).toEqual(before);
  });
});
