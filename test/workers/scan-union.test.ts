/**
 * Union scans try to break "no gap, no overlap": random interleavings of
 * log appends, primary-key upserts, partial updates and deletes, and
 * tiering passes, with a union scan after every step compared to an
 * in-memory model; the lake-only scan compared to the model as of the last
 * tiering commit; scans racing tiering commits; time travel.
 */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { resolveTable } from "../../src/catalog/cache.ts";
import { openScan } from "../../src/read/scan.ts";
import { api, createTable, expectError, ok } from "./helpers.ts";
import { random } from "../fixtures.ts";

type LogRow = { id: number; v: string; n: number | null };
type KeyRow = { region: string; id: number; name: string; score: number | null };
const keyOf = (r: { region: string; id: number }) => `${r.region}/${r.id}`;
const byId = (a: { id: number }, b: { id: number }) => a.id - b.id;
const byKey = (a: KeyRow, b: KeyRow) => keyOf(a).localeCompare(keyOf(b));

const logTable = {
  columns: [
    { name: "id", type: "BIGINT", nullable: false },
    { name: "v", type: "STRING", nullable: false },
    { name: "n", type: "INT" },
  ],
  bucket: { num: 3, key: ["id"] },
  properties: { "table.datalake.enabled": "true" },
};
const keyTable = {
  columns: [
    { name: "region", type: "STRING" },
    { name: "id", type: "INT" },
    { name: "name", type: "STRING", nullable: false },
    { name: "score", type: "BIGINT" },
  ],
  primaryKey: ["region", "id"],
  bucket: { num: 2, key: ["region"] },
  properties: { "table.datalake.enabled": "true" },
};

const scan = (table: string, query = "") => ok("GET", `/databases/u/tables/${table}/scan${query}`);

describe("union scan", () => {
  it("equals the model after every step of random writes and tiering passes", async () => {
    const next = random(11);
    const pick = <T>(items: readonly T[]): T => items[Math.floor(next() * items.length)]!;
    await createTable("u", "events", logTable);
    await ok("PUT", "/databases/u/tables/users", keyTable);
    const keys = ["eu", "us", "ap"].flatMap((region) => Array.from({ length: 10 }, (_, id) => ({ region, id })));
    const events: LogRow[] = [];
    const users = new Map<string, KeyRow>();
    let tieredEvents: LogRow[] = [];
    let tieredUsers: KeyRow[] = [];
    let nextId = 0;
    for (let step = 0; step < 30; step++) {
      const action = pick(["log", "log", "pk", "pk", "pk", "tier"] as const);
      if (action === "log") {
        const rows = Array.from({ length: 1 + Math.floor(next() * 30) }, () => ({ id: nextId++, v: pick(["a", "b", "c"]), n: next() < 0.2 ? null : Math.floor(next() * 100) }));
        await ok("POST", "/databases/u/tables/events/rows", rows);
        events.push(...rows);
      } else if (action === "pk") {
        const chosen = Array.from({ length: 1 + Math.floor(next() * 8) }, () => pick(keys));
        const kind = next();
        if (kind < 0.3) {
          await ok("POST", "/databases/u/tables/users/rows?op=delete", chosen);
          for (const k of chosen) users.delete(keyOf(k));
        } else if (kind < 0.5) {
          const rows = chosen.map((k) => ({ ...k, name: `p${Math.floor(next() * 4)}` }));
          await ok("POST", "/databases/u/tables/users/rows?columns=name", rows);
          for (const row of rows) users.set(keyOf(row), { score: null, ...users.get(keyOf(row)), ...row });
        } else {
          const rows = chosen.map((k) => ({ ...k, name: `n${Math.floor(next() * 4)}`, score: next() < 0.2 ? null : Math.floor(next() * 1000) }));
          await ok("POST", "/databases/u/tables/users/rows", rows);
          for (const row of rows) users.set(keyOf(row), row);
        }
      } else {
        await ok("POST", "/tiering/run");
        tieredEvents = [...events];
        tieredUsers = [...users.values()];
      }
      const union = await scan("events");
      expect(union.rows.sort(byId)).toEqual(events);
      const [described, unionUsers] = await Promise.all([ok("GET", "/databases/u/tables/events"), scan("users")]);
      expect(Object.values(union.offsets)).toEqual(described.buckets.map((b: { highWatermark: number }) => b.highWatermark));
      expect(unionUsers.rows.sort(byKey)).toEqual([...users.values()].sort(byKey));
      expect((await scan("events", "?source=lake")).rows.sort(byId)).toEqual(tieredEvents);
      expect((await scan("users", "?source=lake")).rows.sort(byKey)).toEqual([...tieredUsers].sort(byKey));
    }
    expect(tieredEvents.length).toBeGreaterThan(0);
    expect(tieredEvents.length).toBeLessThan(events.length + 1);
  });

  it("stays exact while tiering passes commit during the scans", async () => {
    await createTable("u", "racing", logTable);
    const written: LogRow[] = [];
    for (let round = 0; round < 6; round++) {
      const rows = Array.from({ length: 200 }, (_, i) => ({ id: round * 200 + i, v: "x", n: i }));
      await ok("POST", "/databases/u/tables/racing/rows", rows);
      written.push(...rows);
      const [scanned, , ndjson] = await Promise.all([
        scan("racing"),
        ok("POST", "/tiering/run"),
        api("GET", "/databases/u/tables/racing/scan?format=ndjson"),
      ]);
      expect(scanned.rows.sort(byId)).toEqual(written);
      const lines = new TextDecoder().decode(ndjson.body).trim().split("\n").map((line) => JSON.parse(line));
      expect(lines.sort(byId)).toEqual(written);
    }
    const snapshots = (await ok("GET", "/databases/u/tables/racing/snapshots")).snapshots;
    expect(snapshots.length).toBeGreaterThanOrEqual(5);
  });

  it("travels to older snapshots, continuing from their offsets with the hot log", async () => {
    await createTable("u", "travel", logTable);
    await ok("PUT", "/databases/u/tables/travel_pk", keyTable);
    const first = Array.from({ length: 50 }, (_, id) => ({ id, v: "first", n: null }));
    await ok("POST", "/databases/u/tables/travel/rows", first);
    await ok("POST", "/databases/u/tables/travel_pk/rows", [{ region: "eu", id: 1, name: "old", score: 1 }]);
    await ok("POST", "/tiering/run");
    const second = Array.from({ length: 50 }, (_, i) => ({ id: 50 + i, v: "second", n: i }));
    await ok("POST", "/databases/u/tables/travel/rows", second);
    await ok("POST", "/databases/u/tables/travel_pk/rows", [{ region: "eu", id: 1, name: "new", score: 2 }, { region: "us", id: 2, name: "b", score: null }]);
    await ok("POST", "/tiering/run");
    const snapshots = (await ok("GET", "/databases/u/tables/travel/snapshots")).snapshots;
    const [older, newer] = snapshots.map((s: { snapshotId: number }) => s.snapshotId);
    expect((await scan("travel", `?source=lake&snapshot=${older}`)).rows.sort(byId)).toEqual(first);
    const travelled = await scan("travel", `?snapshot=${older}`);
    expect(travelled.snapshotId).toBe(older);
    expect(travelled.rows.sort(byId)).toEqual([...first, ...second]);
    expect((await scan("travel", `?snapshot=${newer}`)).rows.sort(byId)).toEqual([...first, ...second]);

    const pkOlder = (await ok("GET", "/databases/u/tables/travel_pk/snapshots")).snapshots[0].snapshotId;
    expect((await scan("travel_pk", `?source=lake&snapshot=${pkOlder}`)).rows).toEqual([{ region: "eu", id: 1, name: "old", score: 1 }]);
    expect((await scan("travel_pk", `?snapshot=${pkOlder}`)).rows.sort(byKey)).toEqual([
      { region: "eu", id: 1, name: "new", score: 2 },
      { region: "us", id: 2, name: "b", score: null },
    ]);
    expectError(await api("GET", "/databases/u/tables/travel/scan?snapshot=12345"), 404, "not_found", /no lake snapshot 12345/);
  });

  it("refuses to continue an old snapshot whose hot log was dropped after tiering", async () => {
    await createTable("u", "expired", { ...logTable, properties: { "table.datalake.enabled": "true", "table.log.ttl": "0s" } });
    await ok("POST", "/databases/u/tables/expired/rows", [{ id: 1, v: "a", n: 1 }]);
    await ok("POST", "/tiering/run");
    await ok("POST", "/databases/u/tables/expired/rows", [{ id: 2, v: "b", n: 2 }, { id: 3, v: "c", n: 3 }, { id: 4, v: "d", n: 4 }]);
    await ok("POST", "/tiering/run");
    await ok("POST", "/tiering/run");
    const [older] = (await ok("GET", "/databases/u/tables/expired/snapshots")).snapshots;
    const answer = await api("GET", `/databases/u/tables/expired/scan?snapshot=${older.snapshotId}`);
    expectError(answer, 410, "gone", /dropped after tiering/);
    expect((await scan("expired")).rows.map((r: LogRow) => r.id).sort()).toEqual([1, 2, 3, 4]);
    expect((await scan("expired", "?source=hot")).rows).toEqual([]);
  });

  it("reads after a round that wrote no files (every key it touched was inserted and deleted)", async () => {
    await ok("PUT", "/databases/u/tables/empty_round", keyTable);
    const path = "/databases/u/tables/empty_round/rows";
    const newest = async () => (await ok("GET", "/databases/u/tables/empty_round/snapshots")).snapshots.at(-1).snapshotId;
    await ok("POST", path, [{ region: "eu", id: 1, name: "a", score: 1 }]);
    await ok("POST", `${path}?op=delete`, [{ region: "eu", id: 1 }]);
    await ok("POST", "/tiering/run");
    const first = await scan("empty_round");
    expect(first).toMatchObject({ snapshotId: await newest(), rows: [] });
    await ok("POST", path, [{ region: "us", id: 2, name: "b", score: null }]);
    await ok("POST", "/tiering/run");
    await ok("POST", path, [{ region: "us", id: 3, name: "c", score: 3 }]);
    await ok("POST", `${path}?op=delete`, [{ region: "us", id: 3 }]);
    await ok("POST", "/tiering/run");
    const last = await scan("empty_round");
    expect(last.snapshotId).toBe(await newest());
    expect(last.rows).toEqual([{ region: "us", id: 2, name: "b", score: null }]);
    const lake = await scan("empty_round", `?source=lake&snapshot=${last.snapshotId}`);
    expect(lake.offsets).toEqual(last.offsets);
  });

  it("fails with 410, never a partial table, when retention drops the log a running scan still needs", async () => {
    await createTable("u", "dropping", { ...logTable, bucket: { num: 1 }, properties: { "table.datalake.enabled": "true", "table.log.ttl": "0s" } });
    const rows = (from: number) => Array.from({ length: 10 }, (_, i) => ({ id: from + i, v: "x", n: null }));
    await ok("POST", "/databases/u/tables/dropping/rows", rows(0));
    await ok("POST", "/tiering/run");
    await ok("POST", "/databases/u/tables/dropping/rows", rows(10));
    const table = await resolveTable(env.CATALOG, "u", "dropping");
    const opened = await openScan(env, table, { source: "union" });
    await ok("POST", "/tiering/run");
    const read = async () => {
      for await (const chunk of opened.rows) void chunk;
    };
    await expect(read()).rejects.toMatchObject({ kind: "gone" });
    // A scan opened now reads the newer snapshot and gets every row.
    expect((await scan("dropping")).rows.sort(byId)).toEqual([...rows(0), ...rows(10)]);
  });
});
