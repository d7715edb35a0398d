import * as arrow from "apache-arrow";
import { env } from "cloudflare:workers";
import { evictDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { tabletName } from "../../src/vocabulary.ts";
import { api, createTable, expectError, highWatermarks, ok, readAllBuckets } from "./helpers.ts";

const users = {
  columns: [
    { name: "id", type: "BIGINT" },
    { name: "name", type: "STRING", nullable: false },
    { name: "balance", type: "DECIMAL(12,2)" },
    { name: "city", type: "STRING" },
  ],
  primaryKey: ["id"],
  bucket: { num: 4 },
};

const rowsPath = (t: string) => `/databases/pk/tables/${t}/rows`;
const lookup = async (t: string, keys: object[]) => (await ok("POST", `/databases/pk/tables/${t}/lookup`, { keys })).rows;
const changes = async (t: string, buckets = 4) =>
  (await readAllBuckets("pk", t, buckets)).flat().map(({ _offset, _timestamp, ...rest }) => rest);

describe("primary-key tables", () => {
  it("upserts, updates, deletes, and keeps a changelog of it", async () => {
    await createTable("pk", "users", users);
    await ok("POST", rowsPath("users"), [
      { id: 1, name: "ann", balance: "10.00", city: "Oslo" },
      { id: 2, name: "bob", balance: null, city: null },
    ]);
    expect(await lookup("users", [{ id: 2 }, { id: 1 }, { id: 3 }])).toEqual([
      { id: 2, name: "bob", balance: null, city: null },
      { id: 1, name: "ann", balance: "10.00", city: "Oslo" },
      null,
    ]);
    const unchanged = await ok("POST", rowsPath("users"), [{ id: 1, name: "ann", balance: "10", city: "Oslo" }]);
    expect(unchanged.buckets.map((b: { count: number }) => b.count)).toEqual([0]);
    await ok("POST", rowsPath("users"), [{ id: 1, name: "ann", balance: "12.50", city: "Oslo" }]);
    await ok("POST", `${rowsPath("users")}?op=delete`, [{ id: 2 }, { id: 99 }]);
    expect(await lookup("users", [{ id: 1 }, { id: 2 }])).toEqual([{ id: 1, name: "ann", balance: "12.50", city: "Oslo" }, null]);
    const log = await changes("users");
    expect(log.filter((r) => r.id === 1)).toEqual([
      { id: 1, name: "ann", balance: "10.00", city: "Oslo", _change: "+I" },
      { id: 1, name: "ann", balance: "10.00", city: "Oslo", _change: "-U" },
      { id: 1, name: "ann", balance: "12.50", city: "Oslo", _change: "+U" },
    ]);
    expect(log.filter((r) => r.id === 2)).toEqual([
      { id: 2, name: "bob", balance: null, city: null, _change: "+I" },
      { id: 2, name: "bob", balance: null, city: null, _change: "-D" },
    ]);
    expect(log.some((r) => r.id === 99)).toBe(false);
  });

  it("applies a key written several times in one batch in order", async () => {
    await createTable("pk", "order", users);
    await ok("POST", rowsPath("order"), [
      { id: 7, name: "a", balance: "1" },
      { id: 7, name: "b", balance: "2" },
    ]);
    await ok("POST", `${rowsPath("order")}?op=delete`, [{ id: 7 }, { id: 7 }]);
    await ok("POST", rowsPath("order"), [{ id: 7, name: "c" }]);
    expect((await changes("order")).map((r) => `${r._change}${r.name}`)).toEqual(["+Ia", "-Ua", "+Ub", "-Db", "+Ic"]);
    expect(await lookup("order", [{ id: 7 }])).toEqual([{ id: 7, name: "c", balance: null, city: null }]);
  });

  it("updates only the named columns with ?columns=", async () => {
    await createTable("pk", "partial", users);
    await ok("POST", rowsPath("partial"), [{ id: 1, name: "ann", balance: "1.00", city: "Oslo" }]);
    await ok("POST", `${rowsPath("partial")}?columns=balance,name`, [{ id: 1, name: "ann", balance: "5.00" }]);
    expect(await lookup("partial", [{ id: 1 }])).toEqual([{ id: 1, name: "ann", balance: "5.00", city: "Oslo" }]);
    await ok("POST", `${rowsPath("partial")}?columns=name,city`, [{ id: 2, name: "new", city: "Rome" }]);
    expect(await lookup("partial", [{ id: 2 }])).toEqual([{ id: 2, name: "new", balance: null, city: "Rome" }]);
    const before = await highWatermarks("pk", "partial");
    expectError(await api("POST", `${rowsPath("partial")}?columns=balance`, [{ id: 3, balance: "1" }]), 400, "bad_request",
      /'name' \(STRING NOT NULL\) is missing from \?columns=/);
    expectError(await api("POST", `${rowsPath("partial")}?columns=name`, [{ id: 1, name: "x", city: "y" }]), 400, "bad_request",
      /row 0 has column 'city', which this request does not take/);
    expect(await highWatermarks("pk", "partial")).toEqual(before);
  });

  it("looks up by bucket-key prefix on a composite key", async () => {
    await createTable("pk", "regional", {
      columns: [{ name: "region", type: "STRING" }, { name: "id", type: "INT" }, { name: "v", type: "STRING" }],
      primaryKey: ["region", "id"],
      bucket: { num: 3, key: ["region"] },
    });
    const rows = ["eu", "us", "eu\u0000x", "e"].flatMap((region) => [3, -1, 20, 2].map((id) => ({ region, id, v: `${region}${id}` })));
    await ok("POST", rowsPath("regional"), rows);
    const eu = await ok("POST", "/databases/pk/tables/regional/lookup", { prefix: { region: "eu" } });
    expect(eu.rows.map((r: { id: number }) => r.id)).toEqual([-1, 2, 3, 20]);
    expect(eu.rows.every((r: { region: string }) => r.region === "eu")).toBe(true);
    expect(eu.truncated).toBe(false);
    const limited = await ok("POST", "/databases/pk/tables/regional/lookup", { prefix: { region: "eu" }, limit: 2 });
    expect(limited).toEqual({ rows: eu.rows.slice(0, 2), truncated: true });
    expect(await lookup("regional", [{ region: "us", id: 20 }, { id: 3, region: "e" }])).toEqual([
      { region: "us", id: 20, v: "us20" },
      { region: "e", id: 3, v: "e3" },
    ]);
    expectError(await api("POST", "/databases/pk/tables/regional/lookup", { prefix: { id: 3 } }), 400, "bad_request");
  });

  it("keeps the first row with the first_row engine", async () => {
    await createTable("pk", "first", { ...users, properties: { "table.merge-engine": "first_row" } });
    await ok("POST", rowsPath("first"), [{ id: 1, name: "first" }, { id: 1, name: "second" }]);
    await ok("POST", rowsPath("first"), [{ id: 1, name: "third" }]);
    await ok("POST", `${rowsPath("first")}?op=delete`, [{ id: 1 }]);
    expect(await lookup("first", [{ id: 1 }])).toEqual([{ id: 1, name: "first", balance: null, city: null }]);
    expect((await changes("first")).map((r) => r._change)).toEqual(["+I"]);
    expectError(await api("POST", `${rowsPath("first")}?columns=city`, [{ id: 1, city: "x" }]), 400, "bad_request", /first_row/);
  });

  it("keeps the highest version with the versioned engine", async () => {
    await createTable("pk", "versioned", {
      columns: [{ name: "id", type: "INT" }, { name: "ver", type: "BIGINT" }, { name: "v", type: "STRING" }],
      primaryKey: ["id"],
      bucket: { num: 2 },
      properties: { "table.merge-engine": "versioned", "table.merge-engine.versioned.ver-column": "ver" },
    });
    await ok("POST", rowsPath("versioned"), [{ id: 1, ver: 5, v: "five" }]);
    await ok("POST", rowsPath("versioned"), [{ id: 1, ver: 3, v: "three" }, { id: 1, ver: null, v: "null" }]);
    expect(await lookup("versioned", [{ id: 1 }])).toEqual([{ id: 1, ver: 5, v: "five" }]);
    await ok("POST", rowsPath("versioned"), [{ id: 1, ver: 5, v: "five again" }, { id: 1, ver: 9, v: "nine" }]);
    expect(await lookup("versioned", [{ id: 1 }])).toEqual([{ id: 1, ver: 9, v: "nine" }]);
    expect((await changes("versioned", 2)).map((r) => `${r._change}${r.v}`)).toEqual(
      ["+Ifive", "-Ufive", "+Ufive again", "-Ufive again", "+Unine"],
    );
    expectError(await api("PUT", "/databases/pk/tables/badver", {
      columns: [{ name: "id", type: "INT" }, { name: "ver", type: "STRING" }], primaryKey: ["id"], bucket: { num: 1 },
      properties: { "table.merge-engine": "versioned", "table.merge-engine.versioned.ver-column": "ver" },
    }), 400, "bad_request", /must be INT, BIGINT, TIMESTAMP or TIMESTAMP_LTZ/);
  });

  it("writes only +I, +U and -D with table.changelog.image=wal", async () => {
    await createTable("pk", "wal", { ...users, properties: { "table.changelog.image": "wal" } });
    await ok("POST", rowsPath("wal"), [{ id: 1, name: "a" }, { id: 1, name: "b" }]);
    await ok("POST", `${rowsPath("wal")}?op=delete`, [{ id: 1 }]);
    expect((await changes("wal")).map((r) => `${r._change}${r.name}`)).toEqual(["+Ia", "+Ub", "-Db"]);
  });

  it("sees every acknowledged write in the next lookup", async () => {
    await createTable("pk", "ryw", users);
    for (let i = 0; i < 30; i++) {
      const name = `v${i}`;
      await ok("POST", rowsPath("ryw"), [{ id: i % 4, name }]);
      expect((await lookup("ryw", [{ id: i % 4 }]))[0].name).toBe(name);
    }
  });

  it("scans the current state with the offset of every bucket", async () => {
    await createTable("pk", "scan", users);
    await ok("POST", rowsPath("scan"), Array.from({ length: 20 }, (_, id) => ({ id, name: `n${id}` })));
    await ok("POST", `${rowsPath("scan")}?op=delete`, [{ id: 0 }, { id: 1 }]);
    const scan = await ok("GET", "/databases/pk/tables/scan/scan?source=hot&columns=id,name");
    expect(scan.rows.map((r: { id: number }) => r.id).sort((a: number, b: number) => a - b)).toEqual(
      Array.from({ length: 18 }, (_, i) => i + 2),
    );
    expect(Object.keys(scan.rows[0])).toEqual(["id", "name"]);
    expect(Object.values(scan.offsets)).toEqual(await highWatermarks("pk", "scan"));
    const union = await ok("GET", "/databases/pk/tables/scan/scan");
    expect(union.rows).toHaveLength(18);
    const ndjson = await api("GET", "/databases/pk/tables/scan/scan?format=ndjson&columns=id");
    const lines = new TextDecoder().decode(ndjson.body as Uint8Array).trim().split("\n").map((l) => JSON.parse(l));
    expect(lines.map((r: { id: number }) => r.id).sort((a: number, b: number) => a - b)).toEqual(Array.from({ length: 18 }, (_, i) => i + 2));
    expect(JSON.parse(ndjson.headers.get("floe-scan-offsets")!)).toEqual(scan.offsets);
    const asArrow = await api("GET", "/databases/pk/tables/scan/scan?format=arrow&columns=id,name");
    const table = arrow.tableFromIPC(asArrow.body as Uint8Array);
    expect(table.numRows).toBe(18);
    expect(table.schema.fields.map((f) => `${f.name}:${f.type}`)).toEqual(["id:Int64", "name:Utf8"]);
    // Nothing is tiered, so the lake alone holds no rows yet.
    const lakeScan = await ok("GET", "/databases/pk/tables/scan/scan?source=lake");
    expect(lakeScan).toMatchObject({ snapshotId: null, rows: [] });
  });

  it("keeps kv and changelog across a Tablet restart", async () => {
    await createTable("pk", "durable", users);
    await ok("POST", rowsPath("durable"), [{ id: 1, name: "a" }, { id: 2, name: "b" }]);
    const { tableId } = await ok("GET", "/databases/pk/tables/durable");
    for (let bucket = 0; bucket < 4; bucket++) {
      const stub = env.TABLET.get(env.TABLET.idFromName(tabletName(tableId, bucket)));
      await stub.status();
      await evictDurableObject(stub);
    }
    expect(await lookup("durable", [{ id: 1 }, { id: 2 }])).toEqual([
      { id: 1, name: "a", balance: null, city: null },
      { id: 2, name: "b", balance: null, city: null },
    ]);
    await ok("POST", rowsPath("durable"), [{ id: 1, name: "c" }]);
    expect((await changes("durable")).filter((r) => r.id === 1).map((r) => r._change)).toEqual(["+I", "-U", "+U"]);
  });

  it("answers a retried writer sequence once", async () => {
    await createTable("pk", "retry", users);
    const headers = { "Floe-Writer-Id": "w", "Floe-Writer-Seq": "1" };
    const first = await ok("POST", rowsPath("retry"), [{ id: 1, name: "a" }], headers);
    const again = await ok("POST", rowsPath("retry"), [{ id: 1, name: "a" }], headers);
    expect(again.buckets).toEqual(first.buckets.map((b: object) => ({ ...b, duplicate: true })));
    expect(await changes("retry")).toHaveLength(1);
  });

  describe("refuses bad input and writes nothing", () => {
    const cases: [string, string, unknown, RegExp][] = [
      ["missing key column", "", [{ id: 1, name: "a" }, { name: "b" }], /row 1, column 'id'/],
      ["null key", "", [{ id: null, name: "a" }], /row 0, column 'id'/],
      ["wrong key type", "", [{ id: "abc", name: "a" }], /row 0, column 'id': expected BIGINT/],
      ["unknown ?columns=", "?columns=nope", [{ id: 1 }], /unknown column 'nope'/],
      ["key in ?columns=", "?columns=id,name", [{ id: 1, name: "a" }], /key column 'id'/],
      ["delete with other columns", "?op=delete", [{ id: 1, name: "a" }], /row 0 has column 'name'/],
      ["unknown op", "?op=merge", [{ id: 1, name: "a" }], /must be upsert or delete/],
    ];
    it.each(cases)("%s", async (_, query, body, message) => {
      await createTable("pk", "bad", users);
      await ok("POST", rowsPath("bad"), [{ id: 42, name: "kept" }]);
      const before = await highWatermarks("pk", "bad");
      expectError(await api("POST", `${rowsPath("bad")}${query}`, body), 400, "bad_request", message);
      expect(await highWatermarks("pk", "bad")).toEqual(before);
    });

    it("refuses lookups on log tables and malformed lookups", async () => {
      await createTable("pk", "events");
      expectError(await api("POST", "/databases/pk/tables/events/lookup", { keys: [{ id: 1 }] }), 400, "bad_request", /log table/);
      await createTable("pk", "bad", users);
      const path = "/databases/pk/tables/bad/lookup";
      expectError(await api("POST", path, { keys: [{ id: "x" }] }), 400, "bad_request", /key 0, column 'id'/);
      expectError(await api("POST", path, { keys: [{ id: 1, name: "a" }] }), 400, "bad_request", /key 0 has column 'name'/);
      expectError(await api("POST", path, { keys: [] }), 400, "bad_request", /non-empty/);
      expectError(await api("POST", path, { keys: [{ id: 1 }], prefix: { id: 1 } }), 400, "bad_request", /either/);
      expectError(await api("POST", path, { keys: Array.from({ length: 1001 }, (_, id) => ({ id })) }), 413, "payload_too_large");
    });
  });
});
