/**
 * Tiering primary-key tables: each round writes the final image of every
 * changed key and a position-delete file naming the previous lake rows of
 * the keys it changed or deleted. Reading the lake by Iceberg's rules (a
 * position delete removes the row at that position of that file, for data
 * files of a sequence number at most its own) must give exactly the current
 * state after every round.
 */
import { env } from "cloudflare:workers";
import { parquetMetadata, parquetReadObjects } from "hyparquet";
import { describe, expect, it } from "vitest";
import { fileContent } from "../../src/iceberg/manifest-read.ts";
import { createTable, ok } from "./helpers.ts";
import { liveFiles, regionUsersTable } from "./lake-files.ts";
import { random } from "../fixtures.ts";

type Row = Record<string, unknown>;
const keyOf = (r: Row) => `${r.region}/${r.id}`;

async function parquetRows(key: string): Promise<{ rows: Row[]; metadata: Record<string, string | undefined> }> {
  const file = await (await env.LAKE.get(key))!.arrayBuffer();
  const metadata = Object.fromEntries(parquetMetadata(file).key_value_metadata!.map((kv) => [kv.key, kv.value]));
  return { rows: (await parquetReadObjects({ file, utf8: false })) as Row[], metadata };
}

/** The lake's current rows, read from the current snapshot's files by Iceberg's delete rules. */
async function lakeState(tableId: string): Promise<Row[]> {
  const files = await liveFiles(tableId);
  const deleted = new Map<string, { seq: number; positions: Set<number> }[]>();
  for (const file of files.filter((f) => f.content === fileContent.positionDeletes)) {
    const { rows, metadata } = await parquetRows(file.key);
    expect(metadata["delete-type"]).toBe("position");
    const paths = rows.map((r) => String(r.file_path));
    expect(paths).toEqual([...paths].sort());
    for (const row of rows) {
      const list = deleted.get(String(row.file_path)) ?? deleted.set(String(row.file_path), []).get(String(row.file_path))!;
      list.push({ seq: file.dataSequenceNumber, positions: new Set([Number(row.pos)]) });
    }
  }
  expect(files.filter((f) => f.content === fileContent.equalityDeletes)).toEqual([]);
  const live: Row[] = [];
  for (const file of files.filter((f) => f.content === fileContent.data)) {
    const { rows } = await parquetRows(file.key);
    const removed = (deleted.get(file.path) ?? []).filter((d) => d.seq >= file.dataSequenceNumber);
    rows.forEach((row, pos) => {
      if (!removed.some((d) => d.positions.has(pos))) live.push(row);
    });
  }
  return live;
}

const plain = (r: Row) => ({ region: r.region, id: Number(r.id), name: r.name ?? null, score: r.score === null || r.score === undefined ? null : Number(r.score) });
const byKey = (a: Row, b: Row) => keyOf(a).localeCompare(keyOf(b));

describe("tiering primary-key tables", () => {
  it("leaves the lake equal to the current state after every round of random upserts, partial updates and deletes", async () => {
    const next = random(5);
    await createTable("lakepk", "users", regionUsersTable({}));
    const keys = ["eu", "us", "ap"].flatMap((region) => Array.from({ length: 8 }, (_, id) => ({ region, id })));
    const { tableId } = await ok("GET", "/databases/lakepk/tables/users");
    const rows = "/databases/lakepk/tables/users/rows";
    for (let round = 0; round < 8; round++) {
      for (let batch = 0; batch < 5; batch++) {
        const chosen = Array.from({ length: 1 + Math.floor(next() * 10) }, () => keys[Math.floor(next() * keys.length)]!);
        const kind = next();
        if (kind < 0.25) await ok("POST", `${rows}?op=delete`, chosen);
        else if (kind < 0.45) await ok("POST", `${rows}?columns=score`, chosen.map((k) => ({ ...k, score: Math.floor(next() * 5) })));
        else await ok("POST", rows, chosen.map((k) => ({ ...k, name: `n${Math.floor(next() * 3)}`, score: Math.floor(next() * 5) })));
      }
      // Every round also inserts and deletes a key the lake never sees, and re-inserts a key it deleted.
      await ok("POST", rows, [{ region: "eu", id: 100 + round, name: "brief", score: 1 }]);
      await ok("POST", `${rows}?op=delete`, [{ region: "eu", id: 100 + round }]);
      await ok("POST", `${rows}?op=delete`, [{ region: "us", id: 0 }]);
      await ok("POST", rows, [{ region: "us", id: 0, name: `again${round}`, score: round }]);
      const tiered = await ok("POST", "/tiering/run");
      expect(tiered.tables.find((t: { table: string }) => t.table === "lakepk.users").kind).toBe("committed");
      const hot = (await ok("GET", "/databases/lakepk/tables/users/scan?source=hot")).rows as Row[];
      expect((await lakeState(tableId)).map(plain).sort(byKey)).toEqual(hot.map(plain).sort(byKey));
      expect((await ok("GET", "/databases/lakepk/tables/users/scan?source=lake")).rows.map(plain).sort(byKey)).toEqual(hot.map(plain).sort(byKey));
    }
    const { snapshots } = await ok("GET", "/databases/lakepk/tables/users/snapshots");
    // The first round only inserts keys the lake never had, so it deletes nothing: a plain append.
    expect(snapshots[0].operation).toBe("append");
    expect(snapshots.slice(1).every((s: { operation: string }) => s.operation === "overwrite")).toBe(true);
  });
});
