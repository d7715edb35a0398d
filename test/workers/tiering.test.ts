/**
 * Tiering log tables into Iceberg on R2: snapshots carry each bucket's end
 * offset, data files hold every row once with its stream position, a run
 * with nothing new commits nothing, and racing runs commit each range once.
 */
import { runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { parquetReadObjects } from "hyparquet";
import { describe, expect, it } from "vitest";
import { getTable } from "../../src/catalog/catalog.ts";
import { tierTable } from "../../src/lake/tiering.ts";
import { lakeSchedulerStub } from "../../src/lake/scheduler.ts";
import { tabletName } from "../../src/vocabulary.ts";
import { api, createTable, highWatermarks, ok } from "./helpers.ts";

const lakeTable = {
  columns: [
    { name: "id", type: "BIGINT", nullable: false },
    { name: "user", type: "STRING" },
    { name: "amount", type: "DECIMAL(10,2)" },
  ],
  bucket: { num: 4, key: ["user"] },
  properties: { "table.datalake.enabled": "true", "table.datalake.freshness": "30s" },
};

const rows = (from: number, n: number) => Array.from({ length: n }, (_, i) => ({ id: from + i, user: `u${(from + i) % 7}`, amount: `${from + i}.25` }));

/** Every row of every Parquet data file under a table's lake folder. */
async function lakeRows(prefix: string): Promise<Record<string, unknown>[]> {
  const out: Record<string, unknown>[] = [];
  const listed = await env.LAKE.list({ prefix });
  for (const object of listed.objects.filter((o) => o.key.endsWith(".parquet"))) {
    const file = await (await env.LAKE.get(object.key))!.arrayBuffer();
    out.push(...((await parquetReadObjects({ file, utf8: false })) as Record<string, unknown>[]));
  }
  return out;
}

describe("tiering log tables", () => {
  it("commits snapshots whose offsets reach the high watermarks, and nothing when there is nothing new", async () => {
    await createTable("lake", "events", lakeTable);
    await ok("POST", "/databases/lake/tables/events/rows", rows(0, 50));
    const first = await ok("POST", "/tiering/run");
    expect(first.tables).toEqual([expect.objectContaining({ table: "lake.events", kind: "committed", records: 50 })]);
    const hw = await highWatermarks("lake", "events");
    const described = await ok("GET", "/databases/lake/tables/events");
    expect(described.buckets.map((b: { tieredOffset: number }) => b.tieredOffset)).toEqual(hw);
    expect(described.lakeSnapshot.version).toBe(1);

    await ok("POST", "/databases/lake/tables/events/rows", rows(50, 20));
    const second = await ok("POST", "/tiering/run");
    expect(second.tables[0]).toMatchObject({ kind: "committed", records: 20 });
    expect((await ok("POST", "/tiering/run")).tables[0]).toMatchObject({ kind: "up_to_date" });

    const { snapshots } = await ok("GET", "/databases/lake/tables/events/snapshots");
    expect(snapshots.map((s: { addedRecords: number; totalRecords: number }) => [s.addedRecords, s.totalRecords])).toEqual([[50, 50], [20, 70]]);
    expect(snapshots[1].bucketOffsets).toEqual(Object.fromEntries((await highWatermarks("lake", "events")).map((h, b) => [String(b), h]).filter(([, h]) => (h as number) > 0)));

    const { tableId } = described;
    const stored = await lakeRows(`lake/events-${tableId}/`);
    expect(stored.map((r) => Number(r.id)).sort((a, b) => a - b)).toEqual(Array.from({ length: 70 }, (_, i) => i));
    const log = await ok("GET", "/databases/lake/tables/events/log?bucket=0&limit=1000");
    const inBucket0 = stored.filter((r) => r.__bucket === 0).sort((a, b) => Number(a.__offset) - Number(b.__offset));
    expect(inBucket0.map((r) => [Number(r.__offset), Number(r.id)])).toEqual(log.rows.map((r: { _offset: number; id: number }) => [r._offset, r.id]));

    const hint = await (await env.LAKE.get(`lake/events-${tableId}/metadata/version-hint.text`))!.text();
    expect(hint).toBe("2");
    const metadata = (await (await env.LAKE.get(`lake/events-${tableId}/metadata/v2.metadata.json`))!.json()) as any;
    expect(metadata["format-version"]).toBe(2);
    expect(metadata["partition-specs"][0].fields).toEqual([{ name: "user_bucket", transform: "bucket[4]", "source-id": 2, "field-id": 1000 }]);
    expect(metadata.snapshots[1]["parent-snapshot-id"]).toBe(metadata.snapshots[0]["snapshot-id"]);
    expect(metadata.snapshots[1].summary["commit-user"]).toBe("floe");
  });

  it("commits each offset range once when two coordinators race, and the loser leaves no file", async () => {
    await createTable("lake", "raced", lakeTable);
    await ok("POST", "/databases/lake/tables/raced/rows", rows(0, 30));
    const table = await getTable(env.CATALOG, "lake", "raced");
    // Two coordinators of one table cannot exist by design (one object per table); two others stand in for a split brain.
    const racer = (name: string) => runInDurableObject(lakeSchedulerStub(env, name), (_, state) => tierTable(env, state.storage.sql, table, Date.now()));
    const results = await Promise.all([racer("racer-a"), racer("racer-b")]);
    expect(results.map((r) => r.kind).sort()).toEqual(["committed", "lost_race"]);
    expect((await ok("POST", "/tiering/run")).tables.find((t: { table: string }) => t.table === "lake.raced").kind).toBe("up_to_date");
    const { snapshots } = await ok("GET", "/databases/lake/tables/raced/snapshots");
    expect(snapshots.map((s: { totalRecords: number }) => s.totalRecords)).toEqual([30]);
    const parquet = (await env.LAKE.list({ prefix: `lake/raced-${table.tableId}/` })).objects.filter((o) => o.key.endsWith(".parquet"));
    expect(parquet.length).toBe((await ok("GET", "/databases/lake/tables/raced/snapshots")).snapshots[0].totalDataFiles);
  });

  it("tiers a table on its coordinator's alarm every freshness interval, whatever the freshness", async () => {
    await createTable("lake", "fresh", { ...lakeTable, properties: { ...lakeTable.properties, "table.datalake.freshness": "3min" } });
    await ok("POST", "/databases/lake/tables/fresh/rows", rows(0, 5));
    const { tableId } = await ok("GET", "/databases/lake/tables/fresh");
    const scheduler = lakeSchedulerStub(env, tableId);
    const before = Date.now();
    expect(await runDurableObjectAlarm(scheduler)).toBe(true);
    expect((await ok("GET", "/databases/lake/tables/fresh/snapshots")).snapshots).toHaveLength(1);
    const next = await runInDurableObject(scheduler, (_, state) => state.storage.getAlarm());
    expect(next! - before).toBeGreaterThanOrEqual(180_000);
  });
});

describe("log retention after tiering", () => {
  it("drops only log data that is tiered and older than table.log.ttl", async () => {
    await createTable("lake", "retained", { ...lakeTable, bucket: { num: 1 }, properties: { ...lakeTable.properties, "table.log.ttl": "0ms" } });
    await ok("POST", "/databases/lake/tables/retained/rows", rows(0, 10));
    await ok("POST", "/tiering/run");
    await ok("POST", "/databases/lake/tables/retained/rows", rows(10, 5));
    const described = await ok("GET", "/databases/lake/tables/retained");
    expect(described.buckets[0]).toMatchObject({ logStartOffset: 10, tieredOffset: 10, highWatermark: 15 });
    const { tableId } = described;
    // A Tablet told more than the lake holds still keeps its untiered rows.
    const status = await env.TABLET.get(env.TABLET.idFromName(tabletName(tableId, 0))).markTiered(10);
    expect(status).toEqual({ kind: "status", logStartOffset: 10, highWatermark: 15, tieredOffset: 10 });
    const log = await ok("GET", "/databases/lake/tables/retained/log?bucket=0");
    expect(log.rows.map((r: { id: number }) => r.id)).toEqual([10, 11, 12, 13, 14]);
    const old = await api("GET", "/databases/lake/tables/retained/log?bucket=0&offset=0");
    expect(old.status).toBe(400);
    expect((await lakeRows(`lake/retained-${tableId}/`)).length).toBe(10);
  });

  it("keeps log data younger than the ttl even when tiered", async () => {
    await createTable("lake", "young", { ...lakeTable, bucket: { num: 1 } });
    await ok("POST", "/databases/lake/tables/young/rows", rows(0, 10));
    await ok("POST", "/tiering/run");
    expect((await ok("GET", "/databases/lake/tables/young")).buckets[0]).toMatchObject({ logStartOffset: 0, tieredOffset: 10 });
  });
});
