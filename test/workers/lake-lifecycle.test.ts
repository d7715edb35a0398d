/**
 * The lake's lifecycle: compaction bin-packs small files and folds delete
 * files in (after it no delete file applies to live rows, and the lake
 * reads the same by Iceberg's rules, by Floe's lake scan and against a
 * model); manifests stay few; snapshots expire with the files only they
 * referenced; time travel past the retention answers 410; the catalog row
 * does not grow with the number of rounds.
 */
import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { parquetReadObjects } from "hyparquet";
import { describe, expect, it } from "vitest";
import { selectLake } from "../../src/catalog/queries.ts";
import { fileContent } from "../../src/iceberg/manifest-read.ts";
import { lakeWriterStub } from "../../src/lake/writer.ts";
import { orphanGraceMs, sweepOrphans } from "../../src/lake/orphans.ts";
import { getTable } from "../../src/catalog/catalog.ts";
import { getLakeState } from "../../src/catalog/lake.ts";
import { api, createTable, expectError, ok } from "./helpers.ts";
import { currentMetadata, keptFileKeys, liveFiles, regionUsersTable } from "./lake-files.ts";
import { random } from "../fixtures.ts";

type Row = Record<string, unknown>;
const keyOf = (r: Row) => `${r.region}/${r.id}`;
const plain = (r: Row) => ({ region: r.region, id: Number(r.id), name: r.name ?? null, score: r.score === null || r.score === undefined ? null : Number(r.score) });
const byKey = (a: Row, b: Row) => keyOf(a).localeCompare(keyOf(b));

async function parquetRows(key: string): Promise<Row[]> {
  const file = await (await env.LAKE.get(key))!.arrayBuffer();
  return (await parquetReadObjects({ file, utf8: false })) as Row[];
}

/** The lake's live rows by Iceberg's rules: position deletes by file and position, equality deletes by key and sequence number. */
async function lakeRowsByRule(tableId: string, keyNames: string[]): Promise<Row[]> {
  const files = await liveFiles(tableId);
  const positions = new Map<string, { seq: number; pos: Set<number> }[]>();
  const equality: { seq: number; partition: string; keys: Set<string> }[] = [];
  const keyText = (r: Row) => keyNames.map((k) => String(r[k])).join("/");
  for (const file of files.filter((f) => f.content !== fileContent.data)) {
    const rows = await parquetRows(file.key);
    if (file.content === fileContent.positionDeletes) {
      for (const row of rows) {
        const list = positions.get(String(row.file_path)) ?? positions.set(String(row.file_path), []).get(String(row.file_path))!;
        list.push({ seq: file.dataSequenceNumber, pos: new Set([Number(row.pos)]) });
      }
    } else {
      equality.push({ seq: file.dataSequenceNumber, partition: JSON.stringify(file.partition), keys: new Set(rows.map(keyText)) });
    }
  }
  const live: Row[] = [];
  for (const file of files.filter((f) => f.content === fileContent.data)) {
    const rows = await parquetRows(file.key);
    rows.forEach((row, pos) => {
      const byPosition = (positions.get(file.path) ?? []).some((d) => d.seq >= file.dataSequenceNumber && d.pos.has(pos));
      const byKey = equality.some((d) => d.seq > file.dataSequenceNumber && d.partition === JSON.stringify(file.partition) && d.keys.has(keyText(row)));
      if (!byPosition && !byKey) live.push(row);
    });
  }
  return live;
}


const tier = async (db: string, table: string) => (await ok("POST", "/tiering/run")).tables.find((t: { table: string }) => t.table === `${db}.${table}`);

/** Random upserts, partial updates and deletes of a primary-key table's keys. */
async function randomWrites(path: string, next: () => number, keys: { region: string; id: number }[]): Promise<void> {
  for (let batch = 0; batch < 4; batch++) {
    const chosen = Array.from({ length: 1 + Math.floor(next() * 8) }, () => keys[Math.floor(next() * keys.length)]!);
    const kind = next();
    if (kind < 0.25) await ok("POST", `${path}?op=delete`, chosen);
    else if (kind < 0.45) await ok("POST", `${path}?columns=score`, chosen.map((k) => ({ ...k, score: Math.floor(next() * 5) })));
    else await ok("POST", path, chosen.map((k) => ({ ...k, name: `n${Math.floor(next() * 3)}`, score: Math.floor(next() * 5) })));
  }
}

describe("compaction", () => {
  it("keeps a primary-key table's lake equal to its state, and leaves no delete file on compacted buckets", async () => {
    const next = random(21);
    await createTable("life", "pk", regionUsersTable({ "table.datalake.auto-compaction": "true", "table.datalake.compaction.min-input-files": "3" }));
    const { tableId } = await ok("GET", "/databases/life/tables/pk");
    const keys = ["eu", "us", "ap"].flatMap((region) => Array.from({ length: 8 }, (_, id) => ({ region, id })));
    let compactions = 0;
    for (let round = 0; round < 10; round++) {
      await randomWrites("/databases/life/tables/pk/rows", next, keys);
      const result = await tier("life", "pk");
      expect(["committed", "up_to_date"]).toContain(result.kind);
      if (result.compaction) {
        expect(result.compaction.kind).toBe("compacted");
        compactions++;
        const files = await liveFiles(tableId);
        const compacted = new Set(files.filter((f) => f.content === fileContent.data).map((f) => JSON.stringify(f.partition)));
        // Every bucket due was compacted: none holds delete files any more once compaction ran over it.
        expect(files.filter((f) => f.content !== fileContent.data && !compacted.has(JSON.stringify(f.partition)))).toEqual([]);
      }
      const hot = (await ok("GET", "/databases/life/tables/pk/scan?source=hot")).rows as Row[];
      expect((await lakeRowsByRule(tableId, ["region", "id"])).map(plain).sort(byKey)).toEqual(hot.map(plain).sort(byKey));
      expect((await ok("GET", "/databases/life/tables/pk/scan?source=lake")).rows.map(plain).sort(byKey)).toEqual(hot.map(plain).sort(byKey));
      expect((await ok("GET", "/databases/life/tables/pk/scan")).rows.map(plain).sort(byKey)).toEqual(hot.map(plain).sort(byKey));
    }
    expect(compactions).toBeGreaterThan(0);
  });

  it("bin-packs a log table's small files and keeps every row once, in offset order", async () => {
    await createTable("life", "log", {
      columns: [{ name: "id", type: "BIGINT" }],
      bucket: { num: 1 },
      properties: { "table.datalake.enabled": "true", "table.datalake.auto-compaction": "true", "table.datalake.compaction.min-input-files": "4" },
    });
    const { tableId } = await ok("GET", "/databases/life/tables/log");
    for (let round = 0; round < 9; round++) {
      await ok("POST", "/databases/life/tables/log/rows", Array.from({ length: 10 }, (_, i) => ({ id: round * 10 + i })));
      await tier("life", "log");
    }
    const files = (await liveFiles(tableId)).filter((f) => f.content === fileContent.data);
    expect(files.length).toBeLessThan(4);
    const lake = await ok("GET", "/databases/life/tables/log/scan?source=lake");
    expect(lake.rows.map((r: { id: number }) => r.id)).toEqual(Array.from({ length: 90 }, (_, i) => i));
    const offsets = (await Promise.all(files.map((f) => parquetRows(f.key)))).flat().map((r) => Number(r.__offset)).sort((a, b) => a - b);
    expect(offsets).toEqual(Array.from({ length: 90 }, (_, i) => i));
  });

  it("folds the equality deletes of a bucket tiered before the position index, and completes the index", async () => {
    await createTable("life", "legacy", regionUsersTable({ "table.datalake.auto-compaction": "true", "table.datalake.compaction.min-input-files": "4" }));
    const { tableId } = await ok("GET", "/databases/life/tables/legacy");
    const rows = "/databases/life/tables/legacy/rows";
    await ok("POST", rows, [0, 1, 2].map((id) => ({ region: "eu", id, name: "first", score: 1 })));
    await tier("life", "legacy");
    const [euFile] = await liveFiles(tableId);
    const euBucket = Number(Object.values(euFile!.partition)[0]);
    // Forget the writer's index, as if an older Floe had tiered the bucket (it kept none, writing equality deletes).
    await runInDurableObject(lakeWriterStub(env, tableId, euBucket), (_, state) => {
      state.storage.sql.exec("DELETE FROM key_position");
      state.storage.sql.exec("UPDATE writer_state SET index_complete = 0");
    });
    const expectLakeEqualsState = async () => {
      const hot = (await ok("GET", "/databases/life/tables/legacy/scan?source=hot")).rows.map(plain).sort(byKey);
      expect((await lakeRowsByRule(tableId, ["region", "id"])).map(plain).sort(byKey)).toEqual(hot);
      expect((await ok("GET", "/databases/life/tables/legacy/scan?source=lake")).rows.map(plain).sort(byKey)).toEqual(hot);
    };
    await ok("POST", rows, [{ region: "eu", id: 0, name: "second", score: 2 }]);
    await ok("POST", `${rows}?op=delete`, [{ region: "eu", id: 2 }]);
    await tier("life", "legacy");
    expect((await liveFiles(tableId)).filter((f) => f.content === fileContent.equalityDeletes).length).toBe(1);
    await expectLakeEqualsState();
    await ok("POST", rows, [{ region: "eu", id: 1, name: "third", score: 3 }]);
    const compacted = await tier("life", "legacy");
    expect(compacted.compaction).toMatchObject({ kind: "compacted", buckets: 1 });
    expect((await liveFiles(tableId)).filter((f) => f.content !== fileContent.data)).toEqual([]);
    await expectLakeEqualsState();
    const complete = await runInDurableObject(lakeWriterStub(env, tableId, euBucket), (_, state) =>
      state.storage.sql.exec<{ complete: number }>("SELECT index_complete AS complete FROM writer_state").one().complete);
    expect(complete).toBe(1);
    // From here on the bucket's rounds delete by position again.
    await ok("POST", rows, [{ region: "eu", id: 0, name: "fourth", score: 4 }]);
    await tier("life", "legacy");
    expect((await liveFiles(tableId)).map((f) => f.content).sort()).toEqual([fileContent.data, fileContent.data, fileContent.positionDeletes]);
    await expectLakeEqualsState();
  });
});

describe("snapshot expiry and bounded metadata", () => {
  it("expires old snapshots and the files only they referenced, keeps the catalog row's size, and answers 410 past the retention", async () => {
    await createTable("life", "expiring", regionUsersTable({
      "table.datalake.auto-maintenance": "true",
      "table.datalake.snapshot.retention": "1s",
      "table.datalake.compaction.min-input-files": "3",
      "write.metadata.previous-versions-max": "3",
    }));
    const { tableId } = await ok("GET", "/databases/life/tables/expiring");
    const next = random(3);
    const keys = ["eu", "us"].flatMap((region) => Array.from({ length: 5 }, (_, id) => ({ region, id })));
    await randomWrites("/databases/life/tables/expiring/rows", next, keys);
    await tier("life", "expiring");
    const first = (await ok("GET", "/databases/life/tables/expiring/snapshots")).snapshots[0].snapshotId;
    const rowSizes: number[] = [];
    for (let round = 0; round < 8; round++) {
      await randomWrites("/databases/life/tables/expiring/rows", next, keys);
      await tier("life", "expiring");
      const row = await selectLake(env.CATALOG, tableId);
      rowSizes.push(JSON.stringify(row).length);
      await new Promise((r) => setTimeout(r, 300));
    }
    const metadata = await currentMetadata(tableId);
    expect(metadata.snapshots.length).toBeLessThan(9);
    expect(metadata["metadata-log"].length).toBeLessThanOrEqual(3);
    expect(Math.max(...rowSizes) - Math.min(...rowSizes)).toBeLessThan(20);
    expectError(await api("GET", `/databases/life/tables/expiring/scan?snapshot=${first}`), 410, "gone", /oldest still available/);
    // The data folder holds exactly the files the kept snapshots reference: those only expired ones had are gone.
    const objects = (await env.LAKE.list({ prefix: `life/expiring-${tableId}/data/` })).objects.map((o) => o.key);
    expect(new Set(objects)).toEqual(await keptFileKeys(tableId));
    const hot = (await ok("GET", "/databases/life/tables/expiring/scan?source=hot")).rows.map(plain).sort(byKey);
    expect((await ok("GET", "/databases/life/tables/expiring/scan?source=lake")).rows.map(plain).sort(byKey)).toEqual(hot);
  });
});

describe("orphan cleanup", () => {
  it("deletes objects nothing kept references once they are older than the grace period, and nothing referenced", async () => {
    await createTable("life", "orphaned", regionUsersTable({ "table.datalake.auto-maintenance": "true" }));
    const { tableId } = await ok("GET", "/databases/life/tables/orphaned");
    await ok("POST", "/databases/life/tables/orphaned/rows", [{ region: "eu", id: 1, name: "a", score: 1 }]);
    await tier("life", "orphaned");
    const prefix = `life/orphaned-${tableId}/`;
    const stray = `${prefix}data/region_bucket=0/1-left-by-a-crashed-round.parquet`;
    await env.LAKE.put(stray, "not referenced by anything");
    const before = (await env.LAKE.list({ prefix })).objects.map((o) => o.key);
    const table = await getTable(env.CATALOG, "life", "orphaned");
    const state = (await getLakeState(env.CATALOG, tableId))!;
    // Within the grace period nothing goes; after it, only the stray object.
    expect(await sweepOrphans(env, table, state, Date.now())).toBe(0);
    expect(await sweepOrphans(env, table, state, Date.now() + orphanGraceMs + 1)).toBe(1);
    const after = (await env.LAKE.list({ prefix })).objects.map((o) => o.key);
    expect(after.sort()).toEqual(before.filter((key) => key !== stray).sort());
    expect((await ok("GET", "/databases/life/tables/orphaned/scan?source=lake")).rows).toHaveLength(1);
  });
});
