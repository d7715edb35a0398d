/**
 * The lake of a partitioned table: its partition spec (identity fields of
 * the partition keys, then the bucket field), the files' partition tuples
 * and paths, the manifest list's partition summaries, pruning by them
 * (pruned files are never fetched), compaction that never mixes
 * partitions, expiry that keeps a dropped partition's live files, and the
 * catalog's per-Tablet offsets at the Tablet cap.
 */
import { env } from "cloudflare:workers";
import { parquetReadObjects } from "hyparquet";
import { describe, expect, it } from "vitest";
import { commitLakeState, getLakeState } from "../../src/catalog/lake.ts";
import { readManifestList } from "../../src/iceberg/manifest-read.ts";
import { partitionLimits } from "../../src/table/partitioning.ts";
import { tabletOffsetKey } from "../../src/lake/tablet-offsets.ts";
import { api, createTable, expectError, ok } from "./helpers.ts";
import { currentMetadata, keptFileKeys, keyOf, liveFiles } from "./lake-files.ts";

const path = (table: string, rest = "") => `/databases/plk/tables/${table}${rest}`;
const lake = { "table.datalake.enabled": "true" };
const events = {
  columns: [{ name: "dt", type: "STRING" }, { name: "id", type: "BIGINT" }, { name: "user", type: "STRING" }],
  partitionKeys: ["dt"],
  bucket: { num: 2, key: ["user"] },
  properties: lake,
};
const rows = (dt: string, from: number, n: number) => Array.from({ length: n }, (_, i) => ({ dt, id: from + i, user: `u${(from + i) % 5}` }));
const tier = async (table: string) => (await ok("POST", "/tiering/run")).tables.find((t: { table: string }) => t.table === `plk.${table}`);

describe("the lake of a partitioned table", () => {
  it("has identity fields of the partition keys before the bucket field, and files partitioned and placed by both", async () => {
    await createTable("plk", "layout", events);
    await ok("POST", path("layout", "/rows?dynamicPartitions=true"), [...rows("d1", 0, 20), ...rows("d2", 20, 20)]);
    expect(await tier("layout")).toMatchObject({ kind: "committed", records: 40 });
    const { tableId, columns } = await ok("GET", path("layout"));
    const metadata = await currentMetadata(tableId);
    const dtId = columns.find((c: { name: string }) => c.name === "dt").id;
    const userId = columns.find((c: { name: string }) => c.name === "user").id;
    expect(metadata["partition-specs"]).toEqual([{ "spec-id": 0, fields: [
      { name: "dt", transform: "identity", "source-id": dtId, "field-id": 1000 },
      { name: "user_bucket", transform: "bucket[2]", "source-id": userId, "field-id": 1001 },
    ] }]);
    expect(metadata["last-partition-id"]).toBe(1001);
    const { partitions } = await ok("GET", path("layout", "/partitions"));
    const idOf = Object.fromEntries(partitions.map((p: { values: { dt: string }; partitionId: number }) => [p.values.dt, p.partitionId]));
    const files = await liveFiles(tableId);
    expect(files.length).toBe(4);
    for (const file of files) {
      const { dt, user_bucket: bucket } = file.partition as { dt: string; user_bucket: number };
      expect(file.key).toMatch(new RegExp(`^plk/layout-${tableId}/data/dt=${dt}/user_bucket=${bucket}/\\d+-p${idOf[dt]}-[0-9a-f-]+\\.parquet$`));
      const stored = (await parquetReadObjects({ file: await (await env.LAKE.get(file.key))!.arrayBuffer() })) as { dt: string; __bucket: number }[];
      expect(new Set(stored.map((r) => r.dt))).toEqual(new Set([dt]));
      expect(new Set(stored.map((r) => r.__bucket))).toEqual(new Set([bucket]));
    }
    // The snapshot's offsets, in the catalog and the summary, are per partition id and bucket.
    const state = await getLakeState(env.CATALOG, tableId);
    expect(Object.keys(state!.bucketOffsets).sort()).toEqual(files.map((f) => tabletOffsetKey((f.partition as { user_bucket: number }).user_bucket, idOf[(f.partition as { dt: string }).dt])).sort());
    expect(JSON.parse(metadata.snapshots.at(-1)!.summary["floe.bucket-offsets"]!)).toEqual(state!.bucketOffsets);
    // The partition list shows how far the lake holds each bucket; describe shows the lake of a partitioned table too.
    const listed = await ok("GET", path("layout", "/partitions"));
    for (const p of listed.partitions) for (const b of p.buckets) expect(b.tieredOffset, `${p.partition} ${b.bucket}`).toBe(b.highWatermark);
    expect((await ok("GET", path("layout"))).lakeSnapshot).toMatchObject({ version: 1, records: 40 });
  });

  it("prunes manifests by their partition summaries and files by their tuples, fetching none of the others", async () => {
    await createTable("plk", "pruned", events);
    for (const [i, dt] of ["d1", "d2", "d3"].entries()) {
      await ok("POST", path("pruned", "/rows?dynamicPartitions=true"), rows(dt, i * 100, 30));
      expect(await tier("pruned")).toMatchObject({ kind: "committed" });
    }
    const { tableId } = await ok("GET", path("pruned"));
    const metadata = await currentMetadata(tableId);
    const list = await env.LAKE.get(keyOf(metadata.snapshots.at(-1)!["manifest-list"]));
    const manifests = readManifestList(new Uint8Array(await list!.arrayBuffer()));
    const utf8 = new TextDecoder();
    // One manifest per round, each summarising the one day it holds: bounds in Iceberg's single-value form.
    expect(manifests.map((m) => [utf8.decode(m.partitions[0]!.lowerBound), utf8.decode(m.partitions[0]!.upperBound)]).sort()).toEqual([["d1", "d1"], ["d2", "d2"], ["d3", "d3"]]);
    for (const m of manifests) {
      const buckets = [m.partitions[1]!.lowerBound!, m.partitions[1]!.upperBound!].map((b) => new DataView(b.buffer, b.byteOffset).getInt32(0, true));
      expect(buckets[0]).toBeLessThanOrEqual(buckets[1]!);
      expect(buckets[1]).toBeLessThan(2);
    }

    // The files of d1 and d3 leave R2: a read that fetched any of them would fail.
    const files = await liveFiles(tableId);
    await env.LAKE.delete(files.filter((f) => (f.partition as { dt: string }).dt !== "d2").map((f) => f.key));
    for (const source of ["lake", "union"]) {
      const answer = await ok("GET", path("pruned", `/scan?source=${source}&filter=${encodeURIComponent("dt = 'd2'")}`));
      expect(answer.rows.map((r: { id: number }) => r.id).sort((a: number, b: number) => a - b)).toEqual(rows("d2", 100, 30).map((r) => r.id));
      expect(answer.stats).toMatchObject({ manifestsSkipped: 2, filesRead: 2 });
      const named = await ok("GET", path("pruned", `/scan?source=${source}&partition=dt=d2`));
      expect(named.rows).toHaveLength(30);
    }
    const all = await ok("GET", path("pruned", `/scan?source=lake&filter=${encodeURIComponent("dt >= 'd2' AND id < 150")}`));
    expect(all.stats).toMatchObject({ manifestsSkipped: 1 });
  });

  it("compacts each partition's files apart from every other's, dropped partitions included", async () => {
    await createTable("plk", "compacted", {
      columns: [{ name: "dt", type: "STRING" }, { name: "id", type: "BIGINT" }, { name: "v", type: "INT" }],
      primaryKey: ["dt", "id"],
      partitionKeys: ["dt"],
      bucket: { num: 1 },
      properties: { ...lake, "table.datalake.auto-compaction": "true", "table.datalake.compaction.min-input-files": "3" },
    });
    let compacted = 0;
    for (let round = 0; round < 4; round++) {
      await ok("POST", path("compacted", "/rows?dynamicPartitions=true"), ["d1", "d2"].flatMap((dt) => [0, 1, 2].map((id) => ({ dt, id, v: round }))));
      if (round === 2) await ok("DELETE", path("compacted", "/partitions/dt=d1"));
      const result = await tier("compacted");
      if (result.compaction?.kind === "compacted") compacted++;
    }
    expect(compacted).toBeGreaterThan(0);
    const { tableId } = await ok("GET", path("compacted"));
    const files = await liveFiles(tableId);
    for (const file of files.filter((f) => f.content === 0)) {
      const stored = (await parquetReadObjects({ file: await (await env.LAKE.get(file.key))!.arrayBuffer() })) as { dt: string }[];
      expect(new Set(stored.map((r) => r.dt)), file.key).toEqual(new Set([(file.partition as { dt: string }).dt]));
    }
    // d1 as it was when dropped (round 1), twice over: its first incarnation and the one round 3 created.
    const scanned = await ok("GET", path("compacted", "/scan?source=lake"));
    const byDay = (dt: string) => scanned.rows.filter((r: { dt: string }) => r.dt === dt).map((r: { id: number; v: number }) => [r.id, r.v]).sort();
    expect(byDay("d1")).toEqual([[0, 1], [0, 3], [1, 1], [1, 3], [2, 1], [2, 3]]);
    expect(byDay("d2")).toEqual([[0, 3], [1, 3], [2, 3]]);
  });

  it("reads a dropped partition's lake rows by name, except in a hot scan, which has none to read", async () => {
    await createTable("plk", "gone", events);
    await ok("POST", path("gone", "/rows?dynamicPartitions=true"), rows("x", 0, 4));
    expect(await tier("gone")).toMatchObject({ kind: "committed", records: 4 });
    await ok("DELETE", path("gone", "/partitions/dt=x"));
    for (const source of ["lake", "union"]) {
      expect((await ok("GET", path("gone", `/scan?source=${source}&partition=dt=x`))).rows).toHaveLength(4);
    }
    expectError(await api("GET", path("gone", "/scan?source=hot&partition=dt=x")), 404, "not_found", /partition dt=x/);
  });

  it("expires snapshots as an unpartitioned table does, keeping a dropped partition's files while they are live", async () => {
    await createTable("plk", "expiring", {
      columns: [{ name: "dt", type: "STRING" }, { name: "id", type: "BIGINT" }, { name: "v", type: "INT" }],
      primaryKey: ["dt", "id"],
      partitionKeys: ["dt"],
      bucket: { num: 2 },
      properties: { ...lake, "table.datalake.auto-maintenance": "true", "table.datalake.snapshot.retention": "1s", "table.datalake.compaction.min-input-files": "3" },
    });
    for (let round = 0; round < 8; round++) {
      const days = round < 2 ? ["d1", "d2"] : ["d2"];
      await ok("POST", path("expiring", "/rows?dynamicPartitions=true"), days.flatMap((dt) => [0, 1, 2, 3].map((id) => ({ dt, id, v: round }))));
      expect(await tier("expiring")).toMatchObject({ kind: "committed" });
      if (round === 1) await ok("DELETE", path("expiring", "/partitions/dt=d1"));
      await new Promise((r) => setTimeout(r, 300));
    }
    const { tableId } = await ok("GET", path("expiring"));
    const metadata = await currentMetadata(tableId);
    expect(metadata.snapshots.length).toBeLessThan(8);
    // The data folder holds exactly what the kept snapshots reference: d1's files among them, the expired ones' gone.
    const objects = (await env.LAKE.list({ prefix: `plk/expiring-${tableId}/data/` })).objects.map((o) => o.key);
    expect(new Set(objects)).toEqual(await keptFileKeys(tableId));
    expect(objects.some((key) => key.includes("/dt=d1/"))).toBe(true);
    const scanned = await ok("GET", path("expiring", "/scan?source=lake"));
    const rows = scanned.rows.map((r: { dt: string; id: number; v: number }) => `${r.dt}/${r.id}=${r.v}`).sort();
    expect(rows).toEqual(["d1/0=1", "d1/1=1", "d1/2=1", "d1/3=1", "d2/0=7", "d2/1=7", "d2/2=7", "d2/3=7"]);
    expect((await ok("GET", path("expiring", "/scan"))).rows.map((r: { dt: string; id: number; v: number }) => `${r.dt}/${r.id}=${r.v}`).sort()).toEqual(rows);
  });

  it("keeps the catalog's offsets of a table at the Tablet cap far inside D1's row limit", async () => {
    // The cap's Tablets, with partition ids and offsets as large as a long-lived deployment reaches.
    const bucketOffsets: Record<string, number> = {};
    const partitions = partitionLimits.tabletsPerTableMax / 8;
    for (let p = 0; p < partitions; p++) for (let b = 0; b < 8; b++) bucketOffsets[tabletOffsetKey(b, 9_999_000 + p)] = Number.MAX_SAFE_INTEGER - p;
    const bytes = JSON.stringify(bucketOffsets).length;
    expect(Object.keys(bucketOffsets)).toHaveLength(partitionLimits.tabletsPerTableMax);
    expect(bytes).toBeLessThan(partitionLimits.tabletsPerTableMax * 32);
    const tableId = "offsets-at-the-cap";
    const state = { metadataLocation: "s3://floe-lake/x/metadata/00001-a.metadata.json", snapshotId: 1, version: 1, bucketOffsets };
    expect(await commitLakeState(env.CATALOG, tableId, 0, state)).toBe(true);
    expect((await getLakeState(env.CATALOG, tableId))!.bucketOffsets).toEqual(bucketOffsets);
  });
});
