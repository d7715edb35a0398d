import { runDurableObjectAlarm } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { lakeSchedulerStub } from "../../src/lake/scheduler.ts";
import { createTable, ok } from "./helpers.ts";

const fresh = {
  columns: [{ name: "id", type: "BIGINT" }],
  bucket: { num: 2 },
  properties: { "table.datalake.enabled": "true", "table.datalake.freshness": "10s" },
};

describe("the lake coordinator's alarm", () => {
  it("tiers a table with its own alarm every freshness interval, and stops once the table is dropped", async () => {
    await createTable("sched", "fast", fresh);
    const { tableId } = await ok("GET", "/databases/sched/tables/fast");
    const scheduler = lakeSchedulerStub(env, tableId);
    await ok("POST", "/databases/sched/tables/fast/rows", Array.from({ length: 12 }, (_, id) => ({ id })));
    expect(await runDurableObjectAlarm(scheduler)).toBe(true);
    const described = await ok("GET", "/databases/sched/tables/fast");
    expect(described.buckets.reduce((n: number, b: { tieredOffset: number }) => n + b.tieredOffset, 0)).toBe(12);
    // The round set the next alarm; after the drop, that alarm runs once and sets no other.
    await ok("DELETE", "/databases/sched/tables/fast");
    expect(await runDurableObjectAlarm(scheduler)).toBe(true);
    expect(await runDurableObjectAlarm(scheduler)).toBe(false);
  });

  it("gives every lake table an alarm, whatever its freshness, since the cron never fires under wrangler dev", async () => {
    await createTable("sched", "slow", { ...fresh, properties: { ...fresh.properties, "table.datalake.freshness": "3min" } });
    const { tableId } = await ok("GET", "/databases/sched/tables/slow");
    await ok("POST", "/databases/sched/tables/slow/rows", [{ id: 1 }]);
    expect(await runDurableObjectAlarm(lakeSchedulerStub(env, tableId))).toBe(true);
    expect((await ok("GET", "/databases/sched/tables/slow")).buckets.map((b: { tieredOffset: number }) => b.tieredOffset).reduce((a: number, b: number) => a + b)).toBe(1);
  });

  it("gives no alarm to a table without a lake", async () => {
    await createTable("sched", "plain", { ...fresh, properties: {} });
    const { tableId } = await ok("GET", "/databases/sched/tables/plain");
    expect(await runDurableObjectAlarm(lakeSchedulerStub(env, tableId))).toBe(false);
  });

  it("records a failed scheduled round for metrics and clears it when a round succeeds", async () => {
    await createTable("sched", "flaky", fresh);
    const { tableId } = await ok("GET", "/databases/sched/tables/flaky");
    const scheduler = lakeSchedulerStub(env, tableId);
    await ok("POST", "/databases/sched/tables/flaky/rows", [{ id: 1 }]);
    expect(await runDurableObjectAlarm(scheduler)).toBe(true);
    // Hide the current metadata file, so the next round cannot read the table's lake.
    const { metadata_location: location } = (await env.CATALOG.prepare("SELECT metadata_location FROM lake_tables WHERE table_id = ?").bind(tableId).first<{ metadata_location: string }>())!;
    const key = location.slice(env.LAKE_URI_PREFIX.length + 1);
    const saved = await (await env.LAKE.get(key))!.arrayBuffer();
    await env.LAKE.delete(key);
    await ok("POST", "/databases/sched/tables/flaky/rows", [{ id: 2 }]);
    expect(await runDurableObjectAlarm(scheduler)).toBe(true);
    const lastError = async () => (await ok("GET", "/metrics?database=sched")).tables.find((t: { table: string }) => t.table === "flaky").lastTieringError;
    expect(await lastError()).toEqual({ message: expect.stringMatching(/metadata\.json was removed/), at: expect.any(String) });
    await env.LAKE.put(key, saved);
    expect(await runDurableObjectAlarm(scheduler)).toBe(true);
    expect(await lastError()).toBeNull();
    await ok("DELETE", "/databases/sched/tables/flaky");
  });
});
