/**
 * A randomised model test of partitioned lake tables: a seeded interleaving
 * of writes into several partitions (creating them as they go), hand
 * creations, drops (the lake keeps what it tiered), drops from the lake
 * (`?lake=only`, `?lake=true`), re-creations, upserts and deletes, and
 * tiering rounds, checked after every step against an
 * in-memory model through union and lake-only scans, with and without a
 * partition filter; at the end, time travel to every snapshot taken.
 */
import { describe, expect, it } from "vitest";
import { api, createTable, ok } from "./helpers.ts";
import { random } from "../fixtures.ts";

type Row = { dt: string; id: number; v: string };
const path = (table: string, rest = "") => `/databases/plake/tables/${table}${rest}`;
const sorted = (rows: Row[]) => rows.slice().sort((a, b) => a.id - b.id || a.dt.localeCompare(b.dt) || a.v.localeCompare(b.v));
/** Compaction after a round once a Tablet has two files to fold, so it runs often, with partitions dropped and created again. */
const lakeProperties = {
  "table.datalake.enabled": "true",
  "table.datalake.freshness": "30s",
  "table.datalake.auto-compaction": "true",
  "table.datalake.compaction.min-input-files": "3",
};
const days = ["d0", "d1", "d2", "d3"];

/** One incarnation of a partition: created, written, tiered, perhaps dropped. */
interface Incarnation {
  /** Its partition's day. */
  day: string;
  /** Log table: every row written, in order; how many of them the lake holds. */
  rows: Row[];
  tiered: number;
  /** Changes written (rows, and a primary-key table's deletes), and how many of them the lake holds. */
  changes: number;
  tieredChanges: number;
  /** Primary-key table: the current row per id, and the rows the lake holds. */
  state: Map<number, Row>;
  lake: Map<number, Row>;
}

const incarnation = (day: string): Incarnation => ({ day, rows: [], tiered: 0, changes: 0, tieredChanges: 0, state: new Map(), lake: new Map() });

/** What the lake holds of an incarnation, and what a union read gives of it while it is live. */
function lakeOf(keyed: boolean, p: Incarnation): Row[] {
  return keyed ? [...p.lake.values()] : p.rows.slice(0, p.tiered);
}
function currentOf(keyed: boolean, p: Incarnation): Row[] {
  return keyed ? [...p.state.values()] : p.rows;
}

async function scan(table: string, query: string): Promise<{ rows: Row[]; stats: Record<string, number>; snapshotId: number | null }> {
  return ok("GET", path(table, `/scan?${query}`));
}

describe("partitioned lake tables against a model", () => {
  it.each([
    ["events", false],
    ["users", true],
  ])("match the model after every step: %s (primary key: %s)", async (name, keyed) => {
    const next = random(keyed ? 1818 : 1817);
    const pick = <T>(items: readonly T[]): T => items[Math.floor(next() * items.length)]!;
    await createTable("plake", name, {
      columns: [{ name: "dt", type: "STRING" }, { name: "id", type: "BIGINT" }, { name: "v", type: "STRING" }],
      ...(keyed ? { primaryKey: ["dt", "id"] } : {}),
      partitionKeys: ["dt"],
      bucket: keyed ? { num: 2 } : { num: 2, key: ["v"] },
      properties: lakeProperties,
    });
    // The model: the live incarnation of each partition, and those dropped with rows left in the lake.
    const live = new Map<string, Incarnation>();
    const dropped: Incarnation[] = [];
    /** Per snapshot, what the lake held of each incarnation then. */
    const snapshots: { snapshotId: number; lake: Map<Incarnation, Row[]> }[] = [];
    let nextId = 0;
    let version = 0;
    const lakeRows = () => [...dropped, ...live.values()].flatMap((p) => lakeOf(keyed, p));
    const unionRows = () => [...dropped.flatMap((p) => lakeOf(keyed, p)), ...[...live.values()].flatMap((p) => currentOf(keyed, p))];

    const check = async () => {
      expect(sorted((await scan(name, "source=union")).rows), "union").toEqual(sorted(unionRows()));
      expect(sorted((await scan(name, "source=lake")).rows), "lake").toEqual(sorted(lakeRows()));
      const day = pick(days);
      const filter = encodeURIComponent(`dt = '${day}'`);
      expect(sorted((await scan(name, `filter=${filter}`)).rows), `union of ${day}`).toEqual(sorted(unionRows().filter((r) => r.dt === day)));
      expect(sorted((await scan(name, `source=lake&partition=dt=${day}`)).rows), `lake of ${day}`).toEqual(sorted(lakeRows().filter((r) => r.dt === day)));
    };

    let drops = 0;
    let lakeDrops = 0;
    let rounds = 0;
    let compactions = 0;
    let recreated = 0;
    /** The partition's live incarnation, created (again, perhaps over lake rows of a dropped one) when it has none. */
    const open = (day: string): Incarnation => {
      if (!live.has(day)) {
        if (dropped.some((p) => lakeOf(keyed, p).some((r) => r.dt === day))) recreated++;
        live.set(day, incarnation(day));
      }
      return live.get(day)!;
    };
    for (let step = 0; step < 48; step++) {
      const action = pick(["write", "write", "write", "tier", "tier", "create", "drop", "dropLake"] as const);
      if (action === "write") {
        const batch: Row[] = Array.from({ length: 1 + Math.floor(next() * 8) }, () => {
          const dt = pick(days);
          // A primary-key write updates an id of the partition now and then.
          const known = keyed ? [...(live.get(dt)?.state.keys() ?? [])] : [];
          const id = known.length > 0 && next() < 0.4 ? pick(known) : nextId++;
          return { dt, id, v: `v${Math.floor(next() * 1000)}` };
        });
        await ok("POST", path(name, "/rows?dynamicPartitions=true"), batch);
        for (const row of batch) {
          const p = open(row.dt);
          p.rows.push(row);
          p.changes++;
          p.state.set(row.id, row);
        }
        if (keyed && next() < 0.5) {
          const p = pick([...live.values()]);
          const ids = [...p.state.keys()].filter(() => next() < 0.3);
          if (ids.length > 0) {
            const dt = p.state.get(ids[0]!)!.dt;
            await ok("POST", path(name, "/rows?op=delete"), ids.map((id) => ({ dt, id })));
            for (const id of ids) p.state.delete(id);
            p.changes++;
          }
        }
      } else if (action === "tier") {
        const { tables } = await ok("POST", "/tiering/run");
        const result = tables.find((t: { table: string }) => t.table === `plake.${name}`);
        const pending = [...live.values()].some((p) => p.changes > p.tieredChanges);
        expect(result.kind, JSON.stringify(result)).toBe(pending ? "committed" : "up_to_date");
        for (const p of live.values()) {
          p.tiered = p.rows.length;
          p.tieredChanges = p.changes;
          p.lake = new Map(p.state);
        }
        if (result.compaction?.kind === "compacted") {
          compactions++;
          version++;
        }
        if (result.kind === "committed") {
          rounds++;
          version++;
          snapshots.push({ snapshotId: result.snapshotId, lake: new Map([...dropped, ...live.values()].map((p) => [p, lakeOf(keyed, p)])) });
          // A Tablet's offsets are keyed by partition id and bucket, and name only partitions that exist.
          expect(Object.keys(result.bucketOffsets).every((k) => /^\d+:[01]$/.test(k))).toBe(true);
          expect(new Set(Object.keys(result.bucketOffsets).map((k) => k.split(":")[0])).size).toBeLessThanOrEqual(live.size);
        }
      } else if (action === "create") {
        const day = pick(days);
        const created = await api("PUT", path(name, `/partitions/dt=${day}`));
        expect(created.status).toBe(live.has(day) ? 200 : 201);
        open(day);
      } else if (action === "dropLake") {
        // The hot partition too (`true`), or only the incarnations the hot tier dropped.
        const day = pick([...days, "d9"]);
        const mode = pick(["only", "true"] as const);
        const answer = await api("DELETE", path(name, `/partitions/dt=${day}?lake=${mode}`));
        const hot = live.get(day);
        const gone = dropped.filter((p) => p.tieredChanges > 0 && p.day === day);
        // An incarnation whose tiered rows were all deleted may have had its files compacted away: then either answer fits.
        if (hot !== undefined || gone.some((p) => lakeOf(keyed, p).length > 0)) expect(answer.status, JSON.stringify(answer.body)).toBe(200);
        else if (gone.length === 0) expect(answer.status, JSON.stringify(answer.body)).toBe(404);
        if (mode === "true" && hot !== undefined) {
          live.delete(day);
          drops++;
        }
        dropped.splice(0, dropped.length, ...dropped.filter((p) => p.day !== day));
        if (answer.status === 200 && answer.body.lake.snapshotId !== null) {
          lakeDrops++;
          version++;
          snapshots.push({ snapshotId: answer.body.lake.snapshotId, lake: new Map([...dropped, ...live.values()].map((p) => [p, lakeOf(keyed, p)])) });
        }
      } else {
        const day = pick([...live.keys(), "d9"]);
        const answer = await api("DELETE", path(name, `/partitions/dt=${day}`));
        expect(answer.status).toBe(live.has(day) ? 200 : 404);
        if (live.has(day)) {
          dropped.push(live.get(day)!);
          live.delete(day);
          drops++;
        }
      }
      await check();
    }
    expect(rounds, "tiering rounds").toBeGreaterThan(3);
    expect(drops, "drops").toBeGreaterThan(0);
    expect(lakeDrops, "drops from the lake").toBeGreaterThan(0);
    expect(recreated, "partitions created again over their lake rows").toBeGreaterThan(0);
    expect(compactions, "compactions").toBeGreaterThan(0);
    expect(lakeRows().length, "rows in the lake").toBeGreaterThan(0);

    // Time travel: each snapshot's lake as it was (dropped partitions included); its union continues each live
    // partition from the snapshot's offsets to its current rows, and gives the others' lake rows as they were then.
    const liveNow = new Set(live.values());
    for (const { snapshotId, lake } of snapshots) {
      expect(sorted((await scan(name, `source=lake&snapshot=${snapshotId}`)).rows), `lake ${snapshotId}`).toEqual(sorted([...lake.values()].flat()));
      const union = [...[...lake].filter(([p]) => !liveNow.has(p)).flatMap(([, rows]) => rows), ...[...liveNow].flatMap((p) => currentOf(keyed, p))];
      expect(sorted((await scan(name, `snapshot=${snapshotId}`)).rows), `union ${snapshotId}`).toEqual(sorted(union));
    }
    const described = await ok("GET", path(name));
    expect(described.lakeSnapshot).toMatchObject({ version });
  });
});
