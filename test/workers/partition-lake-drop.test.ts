/**
 * Dropping a partition from the lake (`DELETE .../partitions/{spec}?lake=`):
 * after the hot drop (`only`) or with it (`true`), every reading gone from
 * union, lake and `partition=` scans while earlier snapshots still show
 * them; other partitions untouched; one `delete` snapshot whose manifests
 * carry the files as DELETED; a primary-key partition created again keeps
 * only its live incarnation's key; a drop racing a tiering round loses no
 * tiered row and brings no dropped one back; expiry deletes the files once
 * no kept snapshot references them; the errors and the access it needs.
 */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { getLakeState } from "../../src/catalog/lake.ts";
import { readManifestList } from "../../src/iceberg/manifest-read.ts";
import { parseTabletOffsetKey } from "../../src/lake/tablet-offsets.ts";
import { api, apiWithEnv, createTable, expectError, ok } from "./helpers.ts";
import { currentMetadata, keptFileKeys, keyOf, liveFiles } from "./lake-files.ts";
import { eventsByDay, usersByRegionAndDay } from "./partition-fixtures.ts";

const path = (table: string, rest = "") => `/databases/pld/tables/${table}${rest}`;
const lake = { "table.datalake.enabled": "true" };
const rows = (dt: string, from: number, n: number) => Array.from({ length: n }, (_, i) => ({ dt, id: from + i, user: `u${(from + i) % 5}` }));
const tier = async (table: string) => (await ok("POST", "/tiering/run")).tables.find((t: { table: string }) => t.table === `pld.${table}`);
const daysOf = (scanned: { rows: { dt: string }[] }) => [...new Set(scanned.rows.map((r) => r.dt))].sort();
const idsOf = (scanned: { rows: { id: number }[] }) => scanned.rows.map((r) => r.id).sort((a, b) => a - b);

describe("dropping a partition from the lake", () => {
  it("after the hot drop: its rows leave every read of the current snapshot, one delete snapshot records it, time travel still shows them", async () => {
    await createTable("pld", "after", { ...eventsByDay, properties: lake });
    await ok("POST", path("after", "/rows?dynamicPartitions=true"), [...rows("d1", 0, 20), ...rows("d2", 20, 10)]);
    await tier("after");
    await ok("POST", path("after", "/rows"), rows("d1", 100, 5));
    const before = await tier("after");
    const { tableId } = await ok("GET", path("after"));
    const d1 = (await ok("GET", path("after", "/partitions"))).partitions.find((p: { partition: string }) => p.partition === "dt=d1").partitionId;
    await ok("DELETE", path("after", "/partitions/dt=d1"));
    expect(daysOf(await ok("GET", path("after", "/scan")))).toEqual(["d1", "d2"]);

    const dropped = await ok("DELETE", path("after", "/partitions/dt=d1?lake=only"));
    const d1Files = (await liveFiles(tableId, before.snapshotId)).filter((f) => (f.partition as { dt: string }).dt === "d1");
    expect(dropped).toEqual({
      partition: "dt=d1", partitionId: null, dropped: false,
      lake: { snapshotId: expect.any(Number), partitionIds: [d1], dataFiles: d1Files.length, deleteFiles: 0, records: 25 },
    });
    for (const query of ["", "source=lake", "partition=dt=d1", "source=lake&partition=dt=d1"]) {
      const scanned = await ok("GET", path("after", `/scan?${query}`));
      expect(daysOf(scanned), query).toEqual(query.includes("d1") ? [] : ["d2"]);
    }
    expect(idsOf(await ok("GET", path("after", "/scan?source=lake")))).toEqual(Array.from({ length: 10 }, (_, i) => 20 + i));
    // Time travel to the snapshot before still reads them.
    expect(idsOf(await ok("GET", path("after", `/scan?source=lake&partition=dt=d1&snapshot=${before.snapshotId}`))))
      .toEqual([...Array.from({ length: 20 }, (_, i) => i), 100, 101, 102, 103, 104]);

    // The snapshot: operation delete, Iceberg's summary, the files DELETED in its manifests, d1's offsets gone.
    const metadata = await currentMetadata(tableId);
    const snapshot = metadata.snapshots.at(-1)!;
    expect(snapshot["snapshot-id"]).toBe(dropped.lake.snapshotId);
    expect(snapshot["parent-snapshot-id"]).toBe(before.snapshotId);
    expect(snapshot.summary).toMatchObject({
      operation: "delete", "added-data-files": "0", "deleted-data-files": String(d1Files.length), "deleted-records": "25",
      "changed-partition-count": String(new Set(d1Files.map((f) => JSON.stringify(f.partition))).size), "total-records": "10",
    });
    const manifests = readManifestList(new Uint8Array(await (await env.LAKE.get(keyOf(snapshot["manifest-list"])))!.arrayBuffer()));
    expect(manifests.reduce((n, m) => n + m.deletedFiles, 0)).toBe(d1Files.length);
    expect(manifests.reduce((n, m) => n + m.deletedRows, 0)).toBe(25);
    expect((await liveFiles(tableId)).every((f) => (f.partition as { dt: string }).dt === "d2")).toBe(true);
    const state = await getLakeState(env.CATALOG, tableId);
    expect(Object.keys(state!.bucketOffsets).some((key) => parseTabletOffsetKey(key).partitionId === d1)).toBe(false);
    expect(JSON.parse(snapshot.summary["floe.bucket-offsets"]!)).toEqual(state!.bucketOffsets);

    // Nothing left of the spec: a second drop is a 404, as is a spec that never was.
    expectError(await api("DELETE", path("after", "/partitions/dt=d1?lake=only")), 404, "not_found", /dt=d1/);
    expectError(await api("DELETE", path("after", "/partitions/dt=never?lake=true")), 404, "not_found", /dt=never/);
    // Tiering and another read go on as before.
    await ok("POST", path("after", "/rows"), rows("d2", 200, 3));
    expect(await tier("after")).toMatchObject({ kind: "committed", records: 3 });
    expect(daysOf(await ok("GET", path("after", "/scan?source=lake")))).toEqual(["d2"]);
  });

  it("with the hot drop: the partition's hot and lake rows go at once, tiered or not", async () => {
    await createTable("pld", "together", { ...eventsByDay, properties: lake });
    await ok("POST", path("together", "/rows?dynamicPartitions=true"), [...rows("d1", 0, 10), ...rows("d2", 10, 10)]);
    await tier("together");
    await ok("POST", path("together", "/rows"), rows("d1", 50, 4));
    const d1 = (await ok("GET", path("together", "/partitions"))).partitions.find((p: { partition: string }) => p.partition === "dt=d1").partitionId;
    const dropped = await ok("DELETE", path("together", "/partitions/dt=d1?lake=true"));
    expect(dropped).toMatchObject({ partition: "dt=d1", partitionId: d1, dropped: true, lake: { partitionIds: [d1], records: 10 } });
    expect((await ok("GET", path("together", "/partitions"))).partitions.map((p: { partition: string }) => p.partition)).toEqual(["dt=d2"]);
    for (const query of ["", "source=lake", "partition=dt=d1"]) expect(daysOf(await ok("GET", path("together", `/scan?${query}`))), query).toEqual(query.includes("d1") ? [] : ["d2"]);
    expect(idsOf(await ok("GET", path("together", "/scan")))).toEqual(Array.from({ length: 10 }, (_, i) => 10 + i));
    // A partition the lake never held: the hot drop alone, and no snapshot.
    await ok("PUT", path("together", "/partitions/dt=d3"));
    expect(await ok("DELETE", path("together", "/partitions/dt=d3?lake=true"))).toMatchObject({
      dropped: true, lake: { snapshotId: null, partitionIds: [], dataFiles: 0, records: 0 },
    });
  });

  it("of a primary-key partition created again: the old incarnation's keys leave, the live one keeps its hot and lake rows", async () => {
    await createTable("pld", "users", { ...usersByRegionAndDay, properties: lake });
    const users = path("users");
    const write = (name: string, ids: number[]) => ok("POST", `${users}/rows?dynamicPartitions=true`, ids.map((id) => ({ region: "eu", dt: "d1", id, name })));
    await write("old", [1, 2, 3]);
    await write("old2", [2]);
    await tier("users");
    await write("old3", [3]);
    await tier("users");
    await ok("DELETE", `${users}/partitions/region=eu/dt=d1`);
    await write("new", [1, 4]);
    await tier("users");
    await write("newer", [4, 5]);
    const names = async (query: string) => (await ok("GET", `${users}/scan?${query}`)).rows.map((r: { id: number; name: string }) => `${r.id}=${r.name}`).sort();
    // Both incarnations' lake rows: key 1 twice.
    expect(await names("source=lake")).toEqual(["1=new", "1=old", "2=old2", "3=old3", "4=new"]);

    const { tableId } = await ok("GET", users);
    const live = (await ok("GET", `${users}/partitions`)).partitions[0].partitionId;
    const dropped = await ok("DELETE", `${users}/partitions/dt=d1/region=eu?lake=only`);
    expect(dropped.lake.partitionIds).not.toContain(live);
    expect(dropped.lake.partitionIds).toHaveLength(1);
    expect(dropped.lake.deleteFiles).toBeGreaterThan(0);
    expect(await names("source=lake")).toEqual(["1=new", "4=new"]);
    expect(await names("")).toEqual(["1=new", "4=newer", "5=newer"]);
    expect(await names("partition=region=eu/dt=d1")).toEqual(["1=new", "4=newer", "5=newer"]);
    expect((await liveFiles(tableId)).every((f) => f.path.includes(`-p${live}-`))).toBe(true);
    // The live incarnation goes on tiering, its position deletes applying to its own files.
    await write("newest", [1]);
    await tier("users");
    expect(await names("source=lake")).toEqual(["1=newest", "4=newer", "5=newer"]);
    // Only the live incarnation left: lake=only finds nothing to drop but the partition is there (200); lake=true drops it all.
    expect(await ok("DELETE", `${users}/partitions/region=eu/dt=d1?lake=only`)).toMatchObject({ dropped: false, lake: { snapshotId: null } });
    expect(await ok("DELETE", `${users}/partitions/region=eu/dt=d1?lake=true`)).toMatchObject({ dropped: true, partitionId: live, lake: { partitionIds: [live] } });
    expect(await names("")).toEqual([]);
  });

  it("racing tiering rounds: no dropped row comes back, no other row is lost", async () => {
    await createTable("pld", "race", { ...eventsByDay, properties: lake });
    await ok("POST", path("race", "/rows?dynamicPartitions=true"), [...rows("d1", 0, 10), ...rows("d2", 10, 10)]);
    await tier("race");
    for (let turn = 0; turn < 3; turn++) {
      const day = `x${turn}`;
      await ok("POST", path("race", "/rows?dynamicPartitions=true"), [...rows(day, 1000 * (turn + 1), 8), ...rows("d2", 100 + turn * 10, 5)]);
      await tier("race");
      await ok("POST", path("race", "/rows"), [...rows(day, 1000 * (turn + 1) + 8, 4), ...rows("d2", 105 + turn * 10, 5)]);
      const [, dropped] = await Promise.all([ok("POST", "/tiering/run"), ok("DELETE", path("race", `/partitions/${"dt=" + day}?lake=true`))]);
      expect(dropped).toMatchObject({ dropped: true });
      await tier("race");
      for (const query of ["", "source=lake"]) expect(daysOf(await ok("GET", path("race", `/scan?${query}`))), `${turn} ${query}`).toEqual(["d1", "d2"]);
    }
    const d2 = [...Array.from({ length: 10 }, (_, i) => 10 + i), ...Array.from({ length: 30 }, (_, i) => 100 + i)];
    expect(idsOf(await ok("GET", path("race", "/scan?source=lake&partition=dt=d2")))).toEqual(d2);
    expect(idsOf(await ok("GET", path("race", "/scan?partition=dt=d1")))).toEqual(Array.from({ length: 10 }, (_, i) => i));
  });

  it("leaves the files to expiry: deleted once no kept snapshot references them", async () => {
    await createTable("pld", "expiring", {
      ...eventsByDay, properties: { ...lake, "table.datalake.auto-expire-snapshot": "true", "table.datalake.snapshot.retention": "1s" },
    });
    await ok("POST", path("expiring", "/rows?dynamicPartitions=true"), [...rows("d1", 0, 10), ...rows("d2", 10, 10)]);
    await tier("expiring");
    const { tableId } = await ok("GET", path("expiring"));
    const d1Keys = (await liveFiles(tableId)).filter((f) => (f.partition as { dt: string }).dt === "d1").map((f) => f.key);
    await ok("DELETE", path("expiring", "/partitions/dt=d1?lake=true"));
    expect(await env.LAKE.head(d1Keys[0]!)).not.toBeNull();
    for (let round = 0; round < 3; round++) {
      await new Promise((r) => setTimeout(r, 1100));
      await ok("POST", path("expiring", "/rows"), rows("d2", 100 + round, 1));
      await tier("expiring");
    }
    await tier("expiring");
    for (const key of d1Keys) expect(await env.LAKE.head(key), key).toBeNull();
    const objects = (await env.LAKE.list({ prefix: `pld/expiring-${tableId}/data/` })).objects.map((o) => o.key);
    expect(new Set(objects)).toEqual(await keptFileKeys(tableId));
  });

  it("refuses a table without the lake, an unpartitioned table, a bad spec and a bad lake=", async () => {
    await createTable("pld", "hot_only", eventsByDay);
    await ok("PUT", path("hot_only", "/partitions/dt=d1"));
    expectError(await api("DELETE", path("hot_only", "/partitions/dt=d1?lake=true")), 400, "bad_request", /no lake/);
    expect((await ok("GET", path("hot_only", "/partitions"))).partitions).toHaveLength(1);
    await createTable("pld", "flat", { columns: [{ name: "id", type: "BIGINT" }], bucket: { num: 1 }, properties: lake });
    expectError(await api("DELETE", path("flat", "/partitions/dt=d1?lake=true")), 400, "bad_request", /not partitioned/);
    await createTable("pld", "specs", { ...eventsByDay, properties: lake });
    expectError(await api("DELETE", path("specs", "/partitions/day=d1?lake=only")), 400, "bad_request");
    expectError(await api("DELETE", path("specs", "/partitions/dt=d1?lake=yes")), 400, "bad_request", /lake/);
  });

  it("needs write on the table, as the hot drop does", async () => {
    const enforcing = { FLOE_ENV: "production", FLOE_ROOT_TOKEN: `root-${"r".repeat(40)}` };
    const token = async (scope: string) => {
      const minted = await apiWithEnv(enforcing, "POST", "/tokens", { name: scope, scopes: [scope] }, { authorization: `Bearer ${enforcing.FLOE_ROOT_TOKEN}` });
      return { authorization: `Bearer ${minted.body.token}` };
    };
    await createTable("pld", "guarded", { ...eventsByDay, properties: lake });
    await ok("POST", path("guarded", "/rows?dynamicPartitions=true"), rows("d1", 0, 4));
    await tier("guarded");
    await ok("DELETE", path("guarded", "/partitions/dt=d1"));
    const drop = path("guarded", "/partitions/dt=d1?lake=only");
    expectError(await apiWithEnv(enforcing, "DELETE", drop, undefined, await token("read:pld.guarded")), 403, "forbidden", /write:pld.guarded/);
    expect((await ok("GET", path("guarded", "/scan?source=lake"))).rows).toHaveLength(4);
    const dropped = await apiWithEnv(enforcing, "DELETE", drop, undefined, await token("write:pld.guarded"));
    expect(dropped.status).toBe(200);
    expect(dropped.body.lake.records).toBe(4);
  });
});
