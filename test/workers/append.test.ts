import * as arrow from "apache-arrow";
import { evictDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { tabletName } from "../../src/vocabulary.ts";
import { api, createTable, expectError, highWatermarks, ok, readAllBuckets } from "./helpers.ts";

const rows = [
  { id: 1, user: "ann", amount: "12.50", ts: "2026-11-24T10:00:00.123Z", tags: "a,b" },
  { id: 2, user: "bob", amount: "3.10", ts: "2026-11-24T10:00:00.456Z", tags: null },
  { id: "9007199254740993", user: "cid", amount: "-0.01", ts: "2026-11-24T10:00:01.000Z", tags: "" },
  { id: 4, user: "ann", amount: "99999999.99", ts: "1969-12-31T23:59:59.999Z", tags: "ünïcödé ✓" },
  { id: 5, user: "dan", amount: "0.00", ts: "2026-11-24T10:00:03.000Z", tags: null },
];

/** The same rows as an Arrow IPC stream, built with apache-arrow's own builders (an independent encoder). */
function rowsAsArrow(): Uint8Array {
  const table = new arrow.Table({
    id: arrow.vectorFromArray(rows.map((r) => BigInt(r.id)), new arrow.Int64()),
    user: arrow.vectorFromArray(rows.map((r) => r.user), new arrow.Utf8()),
    amount: arrow.vectorFromArray(
      rows.map((r) => {
        const unscaled = BigInt(r.amount.replace(".", ""));
        const words = new Uint32Array(4);
        const bits = BigInt.asUintN(128, unscaled);
        for (let w = 0; w < 4; w++) words[w] = Number((bits >> BigInt(32 * w)) & 0xffffffffn);
        return words;
      }),
      new arrow.Decimal(2, 10, 128),
    ),
    // apache-arrow builders take epoch milliseconds for every timestamp unit.
    ts: arrow.vectorFromArray(rows.map((r) => Date.parse(r.ts)), new arrow.TimestampMicrosecond("UTC")),
    tags: arrow.vectorFromArray(rows.map((r) => r.tags), new arrow.Utf8()),
  });
  return arrow.tableToIPC(table, "stream");
}

const strip = (buckets: any[][]) => buckets.map((b) => b.map(({ _timestamp, ...rest }) => rest));

describe("appending to a log table", () => {
  it("stores JSON, NDJSON and Arrow bodies identically", async () => {
    await createTable("app", "as_json");
    await createTable("app", "as_ndjson");
    await createTable("app", "as_arrow");
    const byJson = await ok("POST", "/databases/app/tables/as_json/rows", rows);
    const byNdjson = await ok(
      "POST",
      "/databases/app/tables/as_ndjson/rows",
      rows.map((r) => JSON.stringify(r)).join("\n"),
      { "content-type": "application/x-ndjson" },
    );
    const byArrow = await ok("POST", "/databases/app/tables/as_arrow/rows", rowsAsArrow(), {
      "content-type": "application/vnd.apache.arrow.stream",
    });
    expect(byNdjson).toEqual(byJson);
    expect(byArrow).toEqual(byJson);
    expect(byJson.buckets.reduce((n: number, b: { count: number }) => n + b.count, 0)).toBe(rows.length);
    const logs = await Promise.all(["as_json", "as_ndjson", "as_arrow"].map((t) => readAllBuckets("app", t, 4)));
    expect(strip(logs[1]!)).toEqual(strip(logs[0]!));
    expect(strip(logs[2]!)).toEqual(strip(logs[0]!));
    const all = logs[0]!.flat().map(({ _offset, _timestamp, _change, ...row }) => row);
    expect(all).toHaveLength(rows.length);
    for (const row of rows) expect(all).toContainEqual(row);
  });

  it("gives dense offsets in request order within each bucket", async () => {
    await createTable("app", "dense");
    const first = await ok("POST", "/databases/app/tables/dense/rows", rows);
    const second = await ok("POST", "/databases/app/tables/dense/rows", rows);
    for (const write of second.buckets) {
      const before = first.buckets.find((b: { bucket: number }) => b.bucket === write.bucket);
      expect(write.baseOffset).toBe(before.baseOffset + before.count);
    }
    const buckets = await readAllBuckets("app", "dense", 4);
    for (const bucketRows of buckets) {
      expect(bucketRows.map((r) => r._offset)).toEqual(bucketRows.map((_, i) => i));
      const half = bucketRows.length / 2;
      expect(bucketRows.slice(half).map((r) => r.id)).toEqual(bucketRows.slice(0, half).map((r) => r.id));
      expect(bucketRows.every((r) => r._change === "+I" && typeof r._timestamp === "string")).toBe(true);
    }
  });

  it("projects columns and pages by offset and limit", async () => {
    await createTable("app", "projected");
    const many = Array.from({ length: 50 }, (_, i) => ({ id: i, user: "same", amount: `${i}.5`, ts: i }));
    const write = await ok("POST", "/databases/app/tables/projected/rows", many);
    const bucket = write.buckets[0].bucket;
    const page = await ok("GET", `/databases/app/tables/projected/log?bucket=${bucket}&offset=10&limit=5&columns=amount,id`);
    expect(page.rows).toEqual(
      [10, 11, 12, 13, 14].map((i) => ({ amount: `${i}.50`, id: i, _offset: i, _timestamp: expect.any(String), _change: "+I" })),
    );
    expect(Object.keys(page.rows[0])).toEqual(["amount", "id", "_offset", "_timestamp", "_change"]);
    expect(page.nextOffset).toBe(15);
    expect(page.highWatermark).toBe(50);
    const end = await ok("GET", `/databases/app/tables/projected/log?bucket=${bucket}&offset=50`);
    expect(end.rows).toEqual([]);
    expect(end.nextOffset).toBe(50);
    expectError(await api("GET", `/databases/app/tables/projected/log?bucket=${bucket}&offset=51`), 400, "bad_request", /outside/);
    expectError(await api("GET", `/databases/app/tables/projected/log?bucket=${bucket}&columns=nope`), 400, "bad_request", /unknown column 'nope'/);
    expectError(await api("GET", `/databases/app/tables/projected/log?bucket=4`), 400, "bad_request", /bucket 4 does not exist/);
    expectError(await api("GET", `/databases/app/tables/projected/log?bucket=0&limit=0`), 400, "bad_request", /limit/);
  });

  it("answers the log as an Arrow IPC stream and as NDJSON", async () => {
    await createTable("app", "formats");
    await ok("POST", "/databases/app/tables/formats/rows", rows);
    const json = await ok("GET", "/databases/app/tables/formats/log?bucket=2&columns=id,amount,tags");
    const answer = await api("GET", "/databases/app/tables/formats/log?bucket=2&columns=id,amount,tags&format=arrow");
    expect(answer.headers.get("content-type")).toBe("application/vnd.apache.arrow.stream");
    expect(answer.headers.get("floe-next-offset")).toBe(String(json.nextOffset));
    const table = arrow.tableFromIPC(answer.body as Uint8Array);
    expect(table.schema.fields.map((f) => `${f.name}:${f.type}`)).toEqual([
      "id:Int64", "amount:Decimal[10e+2]", "tags:Utf8", "_offset:Int64", "_timestamp:Timestamp<MICROSECOND, UTC>", "_change:Utf8",
    ]);
    expect(table.numRows).toBe(json.rows.length);
    expect(table.getChild("tags")!.toArray()).toEqual(json.rows.map((r: { tags: string | null }) => r.tags));
    expect([...table.getChild("_offset")!].map(Number)).toEqual(json.rows.map((r: { _offset: number }) => r._offset));
    const ndjson = await api("GET", "/databases/app/tables/formats/log?bucket=2&columns=id,amount,tags&format=ndjson");
    const lines = new TextDecoder().decode(ndjson.body as Uint8Array).trim().split("\n").map((l) => JSON.parse(l));
    expect(lines).toEqual(json.rows);
  });

  it("keeps everything across a Tablet restart", async () => {
    await createTable("app", "durable");
    await ok("POST", "/databases/app/tables/durable/rows", rows);
    const before = await readAllBuckets("app", "durable", 4);
    const { tableId } = await ok("GET", "/databases/app/tables/durable");
    for (let bucket = 0; bucket < 4; bucket++) {
      const stub = env.TABLET.get(env.TABLET.idFromName(tabletName(tableId, bucket)));
      await stub.status();
      await evictDurableObject(stub);
    }
    expect(await readAllBuckets("app", "durable", 4)).toEqual(before);
    const after = await ok("POST", "/databases/app/tables/durable/rows", rows);
    const hw = await highWatermarks("app", "durable");
    for (const write of after.buckets) expect(write.baseOffset + write.count).toBe(hw[write.bucket]);
  });

  it("cuts batches larger than a SQLite row into several stored batches", async () => {
    await createTable("app", "large", {
      columns: [{ name: "k", type: "INT" }, { name: "blob", type: "STRING" }],
      bucket: { num: 1 },
    });
    const big = Array.from({ length: 3000 }, (_, k) => ({ k, blob: `${k}:`.padEnd(2000, "x") }));
    const write = await ok("POST", "/databases/app/tables/large/rows", big);
    expect(write.buckets).toEqual([{ bucket: 0, baseOffset: 0, count: 3000 }]);
    const [stored] = await readAllBuckets("app", "large", 1);
    expect(stored!.map((r) => r.k)).toEqual(big.map((r) => r.k));
    expect(stored!.every((r, i) => r.blob === big[i]!.blob)).toBe(true);
  });
});
