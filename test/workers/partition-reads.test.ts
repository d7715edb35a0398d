/**
 * Reads of partitioned tables: a bucket's log of one partition, lookups
 * whose keys name their partitions, prefix lookups within one, and scans of
 * one partition or all of them, where a filter on the partition keys prunes
 * partitions before any of their Tablets is asked (shown by Tablets that
 * would fail the scan if it asked them).
 */
import { describe, expect, it } from "vitest";
import { api, createTable, expectError, ok, tabletOf } from "./helpers.ts";
import { eventsByDay, usersByRegionAndDay } from "./partition-fixtures.ts";

const path = (table: string, rest = "") => `/databases/reads/tables/${table}${rest}`;

const users = Array.from({ length: 36 }, (_, id) => ({ region: ["eu", "us"][id % 2]!, dt: `d${id % 3}`, id, name: `n${id}` }));
const events = Array.from({ length: 45 }, (_, id) => ({ dt: `d${id % 3}`, id, user: `u${id % 4}` }));
const ids = (rows: { id: number }[]) => rows.map((r) => r.id).sort((a, b) => a - b);

describe("a partition's log", () => {
  it("is read with partition=, which a partitioned table needs", async () => {
    await createTable("reads", "log", eventsByDay);
    await ok("POST", path("log", "/rows?dynamicPartitions=true"), events);
    const page = await ok("GET", path("log", "/log?partition=dt=d1&bucket=0&offset=0"));
    expect(page.partition).toBe("dt=d1");
    expect(page.rows.every((r: { dt: string }) => r.dt === "d1")).toBe(true);
    expectError(await api("GET", path("log", "/log?bucket=0")), 400, "bad_request", /is partitioned by dt: name a partition, e.g. partition=dt=<value>/);
    expectError(await api("GET", path("log", "/log?partition=dt=d9&bucket=0")), 404, "not_found", /partition dt=d9 of reads.log does not exist/);
    expectError(await api("GET", path("log", "/log?partition=dt=d1&bucket=2")), 400, "bad_request", /bucket 2 does not exist; the table has 2 per partition/);
    expectError(await api("GET", path("log", "/log?partition=dt=d1&bucket=0&offset=999")), 400, "bad_request", /outside bucket 0 of partition dt=d1's log/);
    const arrow = await api("GET", path("log", "/log?partition=dt=d1&bucket=0&format=arrow"));
    expect(arrow.headers.get("Floe-High-Watermark")).toBe(String(page.highWatermark));
  });
});

describe("lookups", () => {
  it("find each key in the partition its key names, in key order; a key of a missing partition has no row", async () => {
    await createTable("reads", "users", usersByRegionAndDay);
    await ok("POST", path("users", "/rows?dynamicPartitions=true"), users);
    const keys = [users[5]!, { region: "eu", dt: "d9", id: 1 }, users[0]!, { region: "us", dt: "d0", id: 0 }, users[35]!].map(({ region, dt, id }) => ({ region, dt, id }));
    const { rows } = await ok("POST", path("users", "/lookup"), { keys });
    expect(rows).toEqual([users[5], null, users[0], null, users[35]]);
    // An upsert lands in its own partition only.
    await ok("POST", path("users", "/rows?dynamicPartitions=true"), [{ region: "us", dt: "d0", id: 0, name: "other" }]);
    const after = await ok("POST", path("users", "/lookup"), { keys: [{ region: "eu", dt: "d0", id: 0 }, { region: "us", dt: "d0", id: 0 }] });
    expect(after.rows.map((r: { name: string }) => r.name)).toEqual(["n0", "other"]);
  });

  it("by prefix name the partition besides the bucket key", async () => {
    await createTable("reads", "prefixed", { ...usersByRegionAndDay, primaryKey: ["region", "dt", "id", "name"], bucket: { num: 2, key: ["id"] } });
    await ok("POST", path("prefixed", "/rows?dynamicPartitions=true"), users);
    const found = await ok("POST", path("prefixed", "/lookup"), { prefix: { region: "eu", dt: "d0", id: 6 } });
    expect(found).toEqual({ rows: [users[6]], truncated: false });
    expect(await ok("POST", path("prefixed", "/lookup"), { prefix: { region: "eu", dt: "d7", id: 6 } })).toEqual({ rows: [], truncated: false });
    expectError(await api("POST", path("prefixed", "/lookup"), { prefix: { id: 6 } }), 400, "bad_request", /column 'region': STRING NOT NULL needs a value/);
  });
});

describe("scans", () => {
  it("cover every partition, or the one partition= names, hot or union, with per-partition offsets", async () => {
    await createTable("reads", "events", eventsByDay);
    await createTable("reads", "state", usersByRegionAndDay);
    await ok("POST", path("events", "/rows?dynamicPartitions=true"), events);
    await ok("POST", path("state", "/rows?dynamicPartitions=true"), users);
    for (const source of ["hot", "union"]) {
      const all = await api("GET", path("events", `/scan?source=${source}`));
      expect(ids(all.body.rows)).toEqual(ids(events));
      expect(Object.keys(all.body.offsets)).toEqual(["dt=d0", "dt=d1", "dt=d2"]);
      expect(JSON.parse(all.headers.get("Floe-Scan-Offsets")!)).toEqual(all.body.offsets);
      expect(all.body.stats).toMatchObject({ partitionsRead: 3, partitionsSkipped: 0 });
      const one = await ok("GET", path("events", `/scan?source=${source}&partition=dt=d2`));
      expect(ids(one.rows)).toEqual(ids(events.filter((e) => e.dt === "d2")));
      expect(Object.keys(one.offsets)).toEqual(["dt=d2"]);
      const state = await ok("GET", path("state", `/scan?source=${source}&partition=dt=d1/region=us`));
      expect(ids(state.rows)).toEqual(ids(users.filter((u) => u.dt === "d1" && u.region === "us")));
      expect(ids((await ok("GET", path("state", `/scan?source=${source}`))).rows)).toEqual(ids(users));
    }
    const ndjson = await api("GET", path("events", "/scan?format=ndjson&filter=id < 3"));
    expect(new TextDecoder().decode(ndjson.body).trim().split("\n").length).toBe(3);
    expectError(await api("GET", path("events", "/scan?source=lake")), 400, "bad_request", /has no lake/);
    expectError(await api("GET", path("events$lake", "/scan")), 400, "bad_request", /has no lake/);
    expectError(await api("GET", path("events", "/scan?snapshot=1")), 400, "bad_request", /without snapshot=/);
    expectError(await api("GET", path("events", "/scan?partition=dt=zz")), 404, "not_found", /partition dt=zz/);
  });

  it("prune partitions a filter on partition keys rules out before asking any of their Tablets", async () => {
    await createTable("reads", "pruned", eventsByDay);
    await ok("POST", path("pruned", "/rows?dynamicPartitions=true"), events);
    const { tableId } = await ok("GET", path("pruned"));
    const { partitions } = await ok("GET", path("pruned", "/partitions"));
    const d1 = partitions.find((p: { partition: string }) => p.partition === "dt=d1");
    // Drop d1's Tablets behind the catalog's back: any scan that asks one of them fails.
    for (const bucket of [0, 1]) await tabletOf(tableId, bucket, d1.partitionId).drop("a test");
    expectError(await api("GET", path("pruned", "/scan")), 404, "not_found");
    const cases: [string, string[]][] = [
      ["dt = 'd0'", ["d0"]],
      ["dt IN ('d0', 'd2')", ["d0", "d2"]],
      ["dt >= 'd2'", ["d2"]],
      ["dt < 'd1' AND id >= 30", ["d0"]],
    ];
    for (const [filter, days] of cases) {
      const answer = await ok("GET", path("pruned", `/scan?filter=${encodeURIComponent(filter)}`));
      const minId = filter.includes("id >= 30") ? 30 : 0;
      expect(ids(answer.rows), filter).toEqual(ids(events.filter((e) => days.includes(e.dt) && e.id >= minId)));
      expect(answer.stats, filter).toMatchObject({ partitionsRead: days.length, partitionsSkipped: 3 - days.length });
    }
    // A filter matching no partition reads nothing and answers no rows.
    expect(await ok("GET", path("pruned", `/scan?filter=${encodeURIComponent("dt = 'zz'")}`))).toMatchObject({ rows: [], offsets: {} });
  });
});
