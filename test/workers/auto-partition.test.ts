/**
 * Automatic partitions: the `table.auto-partition.*` options checked at
 * creation, the pass run at instants the test chooses (pre-creation in
 * every unit and across clock changes, retention, partitions whose value
 * is not a time left alone, several partition keys, the partition cap),
 * and the scheduler's alarm running the pass at the real time.
 *
 * The pass tests hand the pass a table entry with the options while the
 * catalog's table has none, so no scheduler runs the pass at the real time
 * beside them (alarms fire by themselves in the test runtime).
 */
import { createScheduledController, runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { autoPartitionPass } from "../../src/auto-partition/pass.ts";
import { checkIntervalMs, nextPassMs, partitionSchedulerStub } from "../../src/auto-partition/scheduler.ts";
import { getTable } from "../../src/catalog/catalog.ts";
import type { TableEntry } from "../../src/catalog/catalog.ts";
import worker from "../../src/index.ts";
import { formatValue, ordinalAt } from "../../src/table/time-units.ts";
import { api, createTable, expectError, ok } from "./helpers.ts";
import { eventsByDay, usersByRegionAndDay } from "./partition-fixtures.ts";

const path = (table: string, rest = "") => `/databases/auto/tables/${table}${rest}`;
const at = (iso: string) => Date.parse(iso);
/** A table's partitions, from describe (the partition list pages by buckets). */
const partitionsOf = async (table: string): Promise<string[]> => (await ok("GET", path(table))).partitions.map((p: { partition: string }) => p.partition);

/** A table created without automatic partitioning, as an entry that has it with `options`: the pass sees the options, no scheduler runs. */
async function tableWith(name: string, options: Record<string, string>, definition: object = eventsByDay): Promise<TableEntry> {
  await createTable("auto", name, definition);
  const entry = await getTable(env.CATALOG, "auto", name);
  return { ...entry, definition: { ...entry.definition, properties: { "table.auto-partition.enabled": "true", ...options } } };
}

describe("the table.auto-partition options", () => {
  const refused: [string, Record<string, string>, RegExp, object?][] = [
    ["an unknown time unit", { "table.auto-partition.time-unit": "WEEK" }, /time-unit' must be one of HOUR, DAY, MONTH, QUARTER, YEAR/],
    ["an unknown time zone", { "table.auto-partition.time-zone": "Mars/Olympus_Mons" }, /time-zone' must be an IANA time zone/],
    ["a negative num-precreate", { "table.auto-partition.num-precreate": "-1" }, /num-precreate' must be an integer from 0 to 1000/],
    ["a fractional num-retention", { "table.auto-partition.num-retention": "1.5" }, /num-retention' must be an integer from 0 to 1000/],
    ["a key that is no partition key", { "table.auto-partition.key": "user" }, /table.auto-partition.key 'user' must be one of the partition keys: dt/],
    ["several partition keys and no auto-partition key", { "table.auto-partition.enabled": "true" }, /needs table.auto-partition.key/, usersByRegionAndDay],
    ["num-precreate with several partition keys", { "table.auto-partition.key": "dt", "table.auto-partition.num-precreate": "2" }, /num-precreate must be 0 for a table partitioned by several keys/, usersByRegionAndDay],
    ["an option on an unpartitioned table", { "table.auto-partition.time-unit": "DAY" }, /applies to partitioned tables only/, { columns: [{ name: "a", type: "STRING" }], bucket: { num: 1 } }],
  ];
  it.each(refused)("refuses %s with a 400 naming it, and creates nothing", async (_, properties, message, definition = eventsByDay) => {
    await ok("PUT", "/databases/auto");
    expectError(await api("PUT", path("refused"), { ...definition, properties }), 400, "bad_request", message);
    expectError(await api("GET", path("refused")), 404, "not_found");
  });

  it("accepts a unit in any case, and a multi-key table naming its time key", async () => {
    await createTable("auto", "lower", { ...eventsByDay, properties: { "table.auto-partition.time-unit": "hour", "table.auto-partition.num-precreate": "0" } });
    await createTable("auto", "multi", { ...usersByRegionAndDay, properties: { "table.auto-partition.enabled": "true", "table.auto-partition.key": "dt", "table.auto-partition.num-precreate": "0" } });
  });
});

describe("the automatic-partitioning pass", () => {
  it("creates num-precreate partitions from the current one on, in every unit, and again creates nothing", async () => {
    const cases: [string, string, string[]][] = [
      ["HOUR", "3", ["dt=2026123122", "dt=2026123123", "dt=2027010100"]],
      ["DAY", "2", ["dt=20261231", "dt=20270101"]],
      ["MONTH", "2", ["dt=202612", "dt=202701"]],
      ["QUARTER", "3", ["dt=20264", "dt=20271", "dt=20272"]],
      ["YEAR", "2", ["dt=2026", "dt=2027"]],
    ];
    for (const [unit, precreate, expected] of cases) {
      const table = await tableWith(`pre_${unit.toLowerCase()}`, { "table.auto-partition.time-unit": unit, "table.auto-partition.num-precreate": precreate });
      const nowMs = at("2026-12-31T22:30:00Z");
      expect((await autoPartitionPass(env, table, nowMs)).created, unit).toEqual(expected);
      expect(await partitionsOf(table.name)).toEqual(expected);
      expect((await autoPartitionPass(env, table, nowMs)).created).toEqual([]);
    }
  });

  it("names partitions by the table's time zone, and follows its clock changes", async () => {
    const kolkata = await tableWith("kolkata", { "table.auto-partition.time-zone": "Asia/Kolkata", "table.auto-partition.num-precreate": "3" });
    expect((await autoPartitionPass(env, kolkata, at("2026-11-30T18:30:00Z"))).created).toEqual(["dt=20261201", "dt=20261202", "dt=20261203"]);
    const newYork = await tableWith("new_york", { "table.auto-partition.time-zone": "America/New_York", "table.auto-partition.time-unit": "HOUR", "table.auto-partition.num-precreate": "3" });
    // 2026-03-08 02:00 EST never happens: no partition for it.
    expect((await autoPartitionPass(env, newYork, at("2026-03-08T06:30:00Z"))).created).toEqual(["dt=2026030801", "dt=2026030803", "dt=2026030804"]);
    const lordHowe = await tableWith("lord_howe", { "table.auto-partition.time-zone": "Australia/Lord_Howe", "table.auto-partition.time-unit": "HOUR", "table.auto-partition.num-precreate": "2" });
    // 2026-04-05 01:00–02:00 lasts ninety minutes there; it is one partition.
    expect((await autoPartitionPass(env, lordHowe, at("2026-04-04T14:45:00Z"))).created).toEqual(["dt=2026040501", "dt=2026040502"]);
    expect((await autoPartitionPass(env, lordHowe, at("2026-04-04T15:10:00Z"))).created).toEqual([]);
  });

  it("drops from the hot tier partitions older than num-retention units, with their rows, and leaves values that are no time", async () => {
    const table = await tableWith("retained", { "table.auto-partition.num-retention": "3", "table.auto-partition.num-precreate": "0" });
    const days = ["20261125", "20261126", "20261127", "20261128", "20261129", "20261130", "20261201"];
    const rows = [...days, "manual", "2026112", "20261199"].map((dt, id) => ({ dt, id, user: `u${id}` }));
    await ok("POST", path(table.name, "/rows?dynamicPartitions=true"), rows);
    const idOf = async (spec: string) => (await ok("GET", path(table.name))).partitions.find((p: { partition: string }) => p.partition === spec).partitionId;
    const oldId = await idOf("dt=20261126");
    // 2026-11-30 keeps 27, 28 and 29 (three days back) and drops the older.
    const pass = await autoPartitionPass(env, table, at("2026-11-30T12:00:00Z"));
    expect(pass).toEqual({ created: [], dropped: ["dt=20261125", "dt=20261126"], more: false });
    expect(await partitionsOf(table.name)).toEqual(["dt=2026112", "dt=20261127", "dt=20261128", "dt=20261129", "dt=20261130", "dt=20261199", "dt=20261201", "dt=manual"]);
    expectError(await api("GET", path(table.name, "/log?partition=dt=20261126&bucket=0")), 404, "not_found");
    const scanned = (await ok("GET", path(table.name, "/scan?source=hot"))).rows.map((r: { dt: string }) => r.dt).sort();
    expect(scanned).toEqual(["20261127", "20261128", "20261129", "20261130", "20261201", "2026112", "20261199", "manual"].sort());
    // The same spec again is a new partition, without the old rows.
    await ok("PUT", path(table.name, "/partitions/dt=20261126"));
    expect(await idOf("dt=20261126")).not.toBe(oldId);
    expect((await ok("GET", path(table.name, "/scan?source=hot&partition=dt=20261126"))).rows).toEqual([]);
  });

  it("on a table with several partition keys, only drops, by the time key", async () => {
    const table = await tableWith("multi_keys", { "table.auto-partition.key": "dt", "table.auto-partition.time-unit": "MONTH", "table.auto-partition.num-retention": "1" }, usersByRegionAndDay);
    const rows = [["eu", "202609"], ["us", "202609"], ["eu", "202610"], ["us", "202611"], ["eu", "late"]].map(([region, dt], id) => ({ region, dt, id, name: "n" }));
    await ok("POST", path(table.name, "/rows?dynamicPartitions=true"), rows);
    const pass = await autoPartitionPass(env, table, at("2026-11-30T12:00:00Z"));
    expect(pass).toEqual({ created: [], dropped: ["region=eu/dt=202609", "region=us/dt=202609"], more: false });
    expect(await partitionsOf(table.name)).toEqual(["region=eu/dt=202610", "region=eu/dt=late", "region=us/dt=202611"]);
  });

  it("creates no more than the partition cap holds, says so, and fails nothing", async () => {
    // 1,024 buckets: 4 partitions fill the table's 4,096 Tablets.
    const table = await tableWith("capped", { "table.auto-partition.num-precreate": "12" }, { ...eventsByDay, bucket: { num: 1024, key: ["user"] } });
    await ok("PUT", path(table.name, "/partitions/dt=manual"));
    const first = await autoPartitionPass(env, table, at("2026-11-30T12:00:00Z"));
    expect(first.created).toEqual(["20261130", "20261201", "20261202"].map((d) => `dt=${d}`));
    expect(await autoPartitionPass(env, table, at("2026-12-01T12:00:00Z"))).toEqual({ created: [], dropped: [], more: false });
    expect(await partitionsOf(table.name)).toHaveLength(4);
  });
});

describe("the automatic-partitioning pass at its drop bound", () => {
  it("drops at most its bound of Tablets a pass, oldest first, and says more are due", async () => {
    // The bound is 4,096 Tablets (four partitions of 1,024 buckets); the test lowers it to 8: four partitions of 2 buckets.
    const table = await tableWith("many_expired", { "table.auto-partition.num-retention": "0", "table.auto-partition.num-precreate": "0" });
    for (const day of ["05", "04", "03", "02", "01"]) await ok("PUT", path(table.name, `/partitions/dt=202611${day}`));
    const first = await autoPartitionPass(env, table, at("2026-11-30T12:00:00Z"), 8);
    expect(first).toEqual({ created: [], dropped: ["dt=20261101", "dt=20261102", "dt=20261103", "dt=20261104"], more: true });
    expect(await autoPartitionPass(env, table, at("2026-11-30T12:00:01Z"), 8)).toEqual({ created: [], dropped: ["dt=20261105"], more: false });
  });
});

describe("the partition scheduler", () => {
  it("runs the pass on its alarm at the real time once the table is created, and stops once it is dropped", async () => {
    await createTable("auto", "live", { ...eventsByDay, properties: { "table.auto-partition.enabled": "true", "table.auto-partition.time-unit": "YEAR" } });
    const { tableId } = await ok("GET", path("live"));
    const scheduler = partitionSchedulerStub(env, tableId);
    expect(await runDurableObjectAlarm(scheduler)).toBe(true);
    const year = formatValue(ordinalAt(Date.now(), "YEAR", "UTC"), "YEAR");
    expect(await partitionsOf("live")).toEqual([`dt=${year}`, `dt=${Number(year) + 1}`]);
    // The pass set the next alarm; the drop removes it.
    await ok("DELETE", path("live"));
    expect(await runDurableObjectAlarm(scheduler)).toBe(false);
    // Started again for the dropped table (a cron that listed it just before the drop), its alarm finds no table and sets no other.
    await scheduler.start(tableId);
    expect(await runDurableObjectAlarm(scheduler)).toBe(true);
    expect(await runDurableObjectAlarm(scheduler)).toBe(false);
  });

  it("sets its next alarm at the next unit boundary in the table's zone, or after the check interval if sooner", () => {
    const daily = { key: "dt", unit: "DAY", timeZone: "Asia/Kolkata", precreateCount: 2, retentionCount: 7 } as const;
    expect(nextPassMs(at("2026-11-30T18:25:00Z"), daily)).toBe(at("2026-11-30T18:30:00Z"));
    expect(nextPassMs(at("2026-11-30T12:00:00Z"), daily)).toBe(at("2026-11-30T12:00:00Z") + checkIntervalMs);
  });

  it("has a lost alarm restarted by the cron", async () => {
    await createTable("auto", "lost", { ...eventsByDay, properties: { "table.auto-partition.enabled": "true" } });
    const { tableId } = await ok("GET", path("lost"));
    const scheduler = partitionSchedulerStub(env, tableId);
    await runInDurableObject(scheduler, (_, state) => state.storage.deleteAlarm());
    expect(await runDurableObjectAlarm(scheduler)).toBe(false);
    await worker.scheduled(createScheduledController(), env);
    expect(await runDurableObjectAlarm(scheduler)).toBe(true);
    await ok("DELETE", path("lost"));
  });

  it("gives no alarm to a partitioned table without automatic partitioning", async () => {
    await createTable("auto", "by_hand", eventsByDay);
    const { tableId } = await ok("GET", path("by_hand"));
    expect(await runDurableObjectAlarm(partitionSchedulerStub(env, tableId))).toBe(false);
  });
});
