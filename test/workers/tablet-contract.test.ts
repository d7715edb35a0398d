/**
 * The Tablet's contract: tagged answers (a dropped table's Tablet answers
 * `dropped`, never an error to match), the binary kv row form and the JSON
 * rows Tablets stored before it, and the key-value scan of a bucket of any
 * size.
 */
import * as arrow from "apache-arrow";
import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { api, createTable, ok, readAllBuckets, tabletOf } from "./helpers.ts";

const users = {
  columns: [
    { name: "id", type: "BIGINT" },
    { name: "name", type: "STRING", nullable: false },
    { name: "balance", type: "DECIMAL(12,2)" },
    { name: "score", type: "DOUBLE" },
    { name: "seen", type: "TIMESTAMP_LTZ(3)" },
  ],
  primaryKey: ["id"],
  bucket: { num: 1 },
};

const tableId = async (table: string) => (await ok("GET", `/databases/contract/tables/${table}`)).tableId as string;

describe("the Tablet contract", () => {
  it("answers every call of a dropped table with { kind: 'dropped' }", async () => {
    await createTable("contract", "gone", users);
    await ok("POST", "/databases/contract/tables/gone/rows", [{ id: 1, name: "ann" }]);
    const stub = tabletOf(await tableId("gone"), 0);
    await ok("DELETE", "/databases/contract/tables/gone");
    const spec = { columns: [{ id: 1, name: "id", type: "BIGINT", nullable: false }], keyOrder: ["id"], mergeEngine: "last_row" as const, changelogImage: "full" as const };
    const retention = { ttlMs: 1000, keepUntiered: false };
    const answers = [
      await stub.status(),
      await stub.metrics(),
      await stub.read({ offset: 0, rowsMax: 10, bytesMax: 1000, columns: spec.columns }),
      await stub.markTiered(1),
      await stub.lookup({ table: spec, keys: [new Uint8Array([1])] }),
      await stub.scanKv({ table: spec, prefix: new Uint8Array(0), rowsMax: 10, bytesMax: 1000, isLookup: false }),
      await stub.append({ schema: new Uint8Array(0), batches: [], retention }),
    ];
    expect(answers.map((a) => a.kind)).toEqual(new Array(answers.length).fill("dropped"));
  });

  it("keeps serving rows a Tablet stored as JSON text before the binary row form", async () => {
    await createTable("contract", "legacy", users);
    await ok("POST", "/databases/contract/tables/legacy/rows", [{ id: 1, name: "ann", balance: "1.50", score: -0.0, seen: 0 }]);
    // Rewrite the stored row in the older form: a JSON array of the JSON spellings.
    const stub = tabletOf(await tableId("legacy"), 0);
    await runInDurableObject(stub, (_, state) => {
      state.storage.sql.exec("UPDATE kv SET row = ?", JSON.stringify([1, "bob", "10.00", "NaN", "2026-11-30T10:00:00.123Z"]));
    });
    const legacy = { id: 1, name: "bob", balance: "10.00", score: "NaN", seen: "2026-11-30T10:00:00.123Z" };
    expect((await ok("POST", "/databases/contract/tables/legacy/lookup", { keys: [{ id: 1 }] })).rows).toEqual([legacy]);
    expect((await ok("GET", "/databases/contract/tables/legacy/scan?source=hot")).rows).toEqual([legacy]);
    // An unchanged write of the legacy row changes nothing; a partial update rewrites it, with the old image from JSON.
    const same = await ok("POST", "/databases/contract/tables/legacy/rows", [legacy]);
    expect(same.buckets[0].count).toBe(0);
    await ok("POST", "/databases/contract/tables/legacy/rows?columns=name", [{ id: 1, name: "cy" }]);
    const log = (await readAllBuckets("contract", "legacy", 1))[0]!.map(({ _offset, _timestamp, ...row }) => row);
    expect(log.slice(1)).toEqual([{ ...legacy, _change: "-U" }, { ...legacy, name: "cy", _change: "+U" }]);
    const stored = await runInDurableObject(stub, (_, state) => state.storage.sql.exec<{ kind: string }>("SELECT typeof(row) AS kind FROM kv").one().kind);
    expect(stored).toBe("blob");
  });

  it("keeps the sign of zero in the changelog, and a change of sign is a change", async () => {
    await createTable("contract", "zero", users);
    // Written as text: JSON.stringify would turn -0 into 0 before it left the test.
    await ok("POST", "/databases/contract/tables/zero/rows", '[{"id":1,"name":"a","score":-0.0}]', { "content-type": "application/json" });
    await ok("POST", "/databases/contract/tables/zero/rows", '[{"id":1,"name":"a","score":0.0}]', { "content-type": "application/json" });
    const answer = await api("GET", "/databases/contract/tables/zero/log?bucket=0&format=arrow");
    const scores = arrow.tableFromIPC(answer.body as Uint8Array).getChild("score")!.toArray() as Float64Array;
    expect([...scores].map((v) => Object.is(v, -0))).toEqual([true, true, false]);
  });

  it("scans every row of a bucket larger than one key-value page, in key order", async () => {
    const big = { columns: [{ name: "k", type: "INT" }, { name: "v", type: "STRING" }], primaryKey: ["k"], bucket: { num: 1 } };
    await createTable("contract", "big", big);
    const keys = 100_001;
    for (let from = 0; from < keys; from += 50_000) {
      const n = Math.min(50_000, keys - from);
      const k = Int32Array.from({ length: n }, (_, i) => keys - 1 - (from + i));
      const body = arrow.tableToIPC(new arrow.Table({ k: arrow.makeVector(k), v: arrow.vectorFromArray(Array.from(k, (x) => `v${x}`), new arrow.Utf8()) }), "stream");
      await ok("POST", "/databases/contract/tables/big/rows", body, { "content-type": "application/vnd.apache.arrow.stream" });
    }
    const answer = await api("GET", "/databases/contract/tables/big/scan?source=hot&format=arrow");
    expect(answer.status).toBe(200);
    const scanned = arrow.tableFromIPC(answer.body as Uint8Array);
    expect(scanned.numRows).toBe(keys);
    const k = scanned.getChild("k")!.toArray() as Int32Array;
    expect(k.every((value, i) => value === i)).toBe(true);
    expect(scanned.getChild("v")!.get(keys - 1)).toBe(`v${keys - 1}`);
  });
});
