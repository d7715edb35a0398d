/**
 * A randomised model test of partitioned tables: a seeded interleaving of
 * writes into several partitions (creating them or refused without), hand
 * creations, drops under data, idempotent retries, upserts and deletes,
 * checked after every step against an in-memory model through scans (all
 * partitions, one partition, pruned by a filter) and lookups.
 */
import { describe, expect, it } from "vitest";
import { api, createTable, ok } from "./helpers.ts";
import { random } from "../fixtures.ts";
import { eventsByDay, usersByRegionAndDay } from "./partition-fixtures.ts";

type Event = { dt: string; id: number; user: string };
type User = { region: string; dt: string; id: number; name: string };
const userKey = (u: { region: string; dt: string; id: number }) => `${u.region}/${u.dt}/${u.id}`;
const path = (table: string, rest = "") => `/databases/pmodel/tables/${table}${rest}`;
const byId = (a: { id: number }, b: { id: number }) => a.id - b.id;
const byKey = (a: User, b: User) => userKey(a).localeCompare(userKey(b));

describe("partitioned tables against a model", () => {
  it("match the model after every step of a random interleaving of writes, creations, drops and scans", async () => {
    const next = random(18);
    const pick = <T>(items: readonly T[]): T => items[Math.floor(next() * items.length)]!;
    await createTable("pmodel", "events", eventsByDay);
    await createTable("pmodel", "users", usersByRegionAndDay);
    const days = ["d0", "d1", "d2", "d3", "d4"];
    const regions = ["eu", "us"];
    // The model: each table's partitions and what they hold.
    const events = new Map<string, Event[]>();
    const users = new Map<string, Map<string, User>>();
    const userPartition = (u: { region: string; dt: string }) => `region=${u.region}/dt=${u.dt}`;
    let nextId = 0;
    let seq = 0;
    let refusals = 0;
    let drops = 0;

    const checkEvents = async () => {
      const all = [...events.values()].flat().sort(byId);
      const source = pick(["hot", "union"]);
      expect((await ok("GET", path("events", `/scan?source=${source}`))).rows.sort(byId)).toEqual(all);
      const chosen = days.filter(() => next() < 0.4);
      if (chosen.length > 0) {
        const filter = encodeURIComponent(`dt IN (${chosen.map((d) => `'${d}'`).join(", ")})`);
        const answer = await ok("GET", path("events", `/scan?filter=${filter}`));
        expect(answer.rows.sort(byId)).toEqual(all.filter((e) => chosen.includes(e.dt)));
        expect(answer.stats.partitionsRead).toBe(chosen.filter((d) => events.has(`dt=${d}`)).length);
      }
      const spec = pick([...events.keys(), "dt=none"]);
      const one = await api("GET", path("events", `/scan?partition=${spec}`));
      if (events.has(spec)) expect(one.body.rows.sort(byId)).toEqual(events.get(spec)!.slice().sort(byId));
      else expect(one.status).toBe(404);
      expect((await ok("GET", path("events", "/partitions"))).partitions.map((p: { partition: string }) => p.partition)).toEqual([...events.keys()].sort());
    };

    const checkUsers = async () => {
      const all = [...users.values()].flatMap((m) => [...m.values()]).sort(byKey);
      expect((await ok("GET", path("users", `/scan?source=${pick(["hot", "union"])}`))).rows.sort(byKey)).toEqual(all);
      const keys = Array.from({ length: 6 }, () => ({ region: pick(regions), dt: pick(days), id: Math.floor(next() * 8) }));
      const { rows } = await ok("POST", path("users", "/lookup"), { keys });
      expect(rows).toEqual(keys.map((k) => users.get(userPartition(k))?.get(userKey(k)) ?? null));
    };

    for (let step = 0; step < 160; step++) {
      const action = pick(["events", "events", "users", "users", "create", "drop", "retry"] as const);
      const dynamic = next() < 0.6;
      const query = dynamic ? "?dynamicPartitions=true" : "";
      if (action === "events" || action === "retry") {
        const batch = Array.from({ length: 1 + Math.floor(next() * 12) }, (): Event => ({ dt: pick(days), id: nextId++, user: `u${Math.floor(next() * 5)}` }));
        const writer = { "Floe-Writer-Id": "model", "Floe-Writer-Seq": String(++seq) };
        const answer = await api("POST", path("events", `/rows${query}`), batch, writer);
        const missing = batch.some((e) => !events.has(`dt=${e.dt}`));
        if (missing && !dynamic) {
          expect(answer.status).toBe(404);
          refusals++;
        } else {
          expect(answer.status, JSON.stringify(answer.body)).toBe(200);
          for (const e of batch) (events.get(`dt=${e.dt}`) ?? events.set(`dt=${e.dt}`, []).get(`dt=${e.dt}`)!).push(e);
          if (action === "retry") {
            // The same sequence again: every Tablet answers from memory, nothing is written twice.
            const again = await ok("POST", path("events", `/rows${query}`), batch, writer);
            expect(again.buckets).toEqual(answer.body.buckets.map((b: object) => ({ ...b, duplicate: true })));
          }
        }
      } else if (action === "users") {
        const remove = next() < 0.3;
        const batch = Array.from({ length: 1 + Math.floor(next() * 10) }, (): User => ({ region: pick(regions), dt: pick(days), id: Math.floor(next() * 8), name: `n${step}` }));
        const body = remove ? batch.map(({ region, dt, id }) => ({ region, dt, id })) : batch;
        const answer = await api("POST", path("users", `/rows${remove ? (dynamic ? `${query}&op=delete` : "?op=delete") : query}`), body);
        const missing = batch.some((u) => !users.has(userPartition(u)));
        if (missing && !dynamic) {
          expect(answer.status).toBe(404);
          refusals++;
        } else {
          expect(answer.status, JSON.stringify(answer.body)).toBe(200);
          for (const u of batch) {
            const partition = users.get(userPartition(u)) ?? users.set(userPartition(u), new Map()).get(userPartition(u))!;
            if (remove) partition.delete(userKey(u));
            else partition.set(userKey(u), u);
          }
        }
      } else if (action === "create") {
        const dt = pick(days);
        const answer = await api("PUT", path("events", `/partitions/dt=${dt}`));
        expect(answer.status).toBe(events.has(`dt=${dt}`) ? 200 : 201);
        if (!events.has(`dt=${dt}`)) events.set(`dt=${dt}`, []);
        const spec = `region=${pick(regions)}/dt=${pick(days)}`;
        expect((await api("PUT", path("users", `/partitions/${spec}`))).status).toBe(users.has(spec) ? 200 : 201);
        if (!users.has(spec)) users.set(spec, new Map());
      } else {
        const eventSpec = `dt=${pick(days)}`;
        expect((await api("DELETE", path("events", `/partitions/${eventSpec}`))).status).toBe(events.has(eventSpec) ? 200 : 404);
        drops += events.delete(eventSpec) ? 1 : 0;
        const userSpec = pick([...users.keys(), "region=eu/dt=none"]);
        expect((await api("DELETE", path("users", `/partitions/${userSpec}`))).status).toBe(users.has(userSpec) ? 200 : 404);
        users.delete(userSpec);
      }
      await (action === "users" ? checkUsers() : checkEvents());
    }
    await checkEvents();
    await checkUsers();
    // The interleaving went through every path at least a few times.
    expect(refusals).toBeGreaterThan(3);
    expect(drops).toBeGreaterThan(3);
    expect([...events.values()].flat().length).toBeGreaterThan(50);
  });
});
