/**
 * Log retention (`table.log.ttl`) by each Tablet's alarm: a table without a
 * lake drops log older than its ttl, moving its log start forward, and
 * readers and subscribers below the new start get the documented errors; a
 * lake table keeps its untiered log whatever its age.
 */
import { runDurableObjectAlarm } from "cloudflare:test";
import { env, exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { api, base, createTable, expectError, ok, waitFor, tabletOf } from "./helpers.ts";

const logTable = (properties: Record<string, string>) => ({
  columns: [{ name: "n", type: "INT" }],
  bucket: { num: 1 },
  properties,
});
const rows = (from: number, count: number) => Array.from({ length: count }, (_, i) => ({ n: from + i }));
const describeBucket = async (table: string) => (await ok("GET", `/databases/ttl/tables/${table}`)).buckets[0];

describe("log retention", () => {
  it("drops expired log of a table without a lake, and readers below the log start are told where it starts", async () => {
    await createTable("ttl", "plain", logTable({ "table.log.ttl": "0ms" }));
    await ok("POST", "/databases/ttl/tables/plain/rows", rows(0, 10));
    const { tableId } = await ok("GET", "/databases/ttl/tables/plain");
    expect(await runDurableObjectAlarm(tabletOf(tableId, 0))).toBe(true);
    expect(await describeBucket("plain")).toMatchObject({ logStartOffset: 10, highWatermark: 10 });
    expectError(await api("GET", "/databases/ttl/tables/plain/log?bucket=0&offset=0"), 400, "bad_request", /outside bucket 0's log \[10, 10\]/);
    // Offsets go on densely after the dropped ones.
    await ok("POST", "/databases/ttl/tables/plain/rows", rows(10, 2));
    const log = await ok("GET", "/databases/ttl/tables/plain/log?bucket=0");
    expect(log.rows.map((r: { _offset: number }) => r._offset)).toEqual([10, 11]);
    // A scan (union by default, which without a lake is the Tablets' log) starts where retention left the log.
    for (const source of ["union", "hot"]) {
      const scanned = await ok("GET", `/databases/ttl/tables/plain/scan?source=${source}`);
      expect(scanned.rows.map((r: { n: number }) => r.n)).toEqual([10, 11]);
      expect(scanned.offsets).toEqual({ "0": 12 });
    }
    // A subscription asking for a dropped offset is refused with the log start.
    const response = await exports.default.fetch(`${base}/databases/ttl/tables/plain/subscribe`, { headers: { Upgrade: "websocket" } });
    const ws = response.webSocket!;
    ws.accept();
    const messages: any[] = [];
    ws.addEventListener("message", (e) => void messages.push(JSON.parse(e.data as string)));
    ws.send(JSON.stringify({ from: { offsets: { "0": 3 } } }));
    await waitFor(() => messages.length > 0, "the refusal");
    expect(messages[0]).toMatchObject({ type: "error", error: { code: "bad_request" } });
    expect(messages[0].error.message).toMatch(/outside the log \[10, 12\]/);
  });

  it("keeps log younger than the ttl", async () => {
    await createTable("ttl", "young", logTable({ "table.log.ttl": "1h" }));
    await ok("POST", "/databases/ttl/tables/young/rows", rows(0, 5));
    const { tableId } = await ok("GET", "/databases/ttl/tables/young");
    // The alarm is set for when the oldest batch expires, an hour from now; running it early drops nothing.
    expect(await runDurableObjectAlarm(tabletOf(tableId, 0))).toBe(true);
    expect(await describeBucket("young")).toMatchObject({ logStartOffset: 0, highWatermark: 5 });
  });

  it("never drops a lake table's untiered log, whatever its age", async () => {
    await createTable("ttl", "lake", logTable({ "table.log.ttl": "0ms", "table.datalake.enabled": "true" }));
    await ok("POST", "/databases/ttl/tables/lake/rows", rows(0, 5));
    const { tableId } = await ok("GET", "/databases/ttl/tables/lake");
    // No alarm: nothing may go before the lake holds it.
    expect(await runDurableObjectAlarm(tabletOf(tableId, 0))).toBe(false);
    expect(await describeBucket("lake")).toMatchObject({ logStartOffset: 0, highWatermark: 5 });
    await ok("POST", "/tiering/run");
    expect(await describeBucket("lake")).toMatchObject({ logStartOffset: 5, tieredOffset: 5, highWatermark: 5 });
  });
});
