/**
 * Tiering primary-key tables: each round writes final images plus an
 * equality-delete file of the keys it touched. Reading the lake by Iceberg's
 * rule (an equality delete removes matching rows of strictly lower sequence
 * numbers in its partition) must give exactly the current state.
 */
import { env } from "cloudflare:workers";
import { parquetMetadata, parquetReadObjects } from "hyparquet";
import { describe, expect, it } from "vitest";
import { createTable, ok } from "./helpers.ts";
import { random } from "../fixtures.ts";

type Row = Record<string, unknown>;
const keyOf = (r: Row) => `${r.region}/${r.id}`;

/** The lake's current rows, applying equality deletes by sequence number and partition. */
async function lakeState(prefix: string): Promise<Row[]> {
  const data: { seq: number; partition: string; rows: Row[] }[] = [];
  const deletes: { seq: number; partition: string; keys: Set<string> }[] = [];
  for (const object of (await env.LAKE.list({ prefix })).objects.filter((o) => o.key.endsWith(".parquet"))) {
    const [partition, name] = object.key.split("/data/")[1]!.split("/") as [string, string];
    const seq = Number(name.split("-")[0]);
    const file = await (await env.LAKE.get(object.key))!.arrayBuffer();
    const rows = (await parquetReadObjects({ file, utf8: false })) as Row[];
    if (name.endsWith("-eq-deletes.parquet")) {
      const meta = Object.fromEntries(parquetMetadata(file).key_value_metadata!.map((kv) => [kv.key, kv.value]));
      expect(meta["delete-type"]).toBe("equality");
      deletes.push({ seq, partition, keys: new Set(rows.map(keyOf)) });
    } else {
      data.push({ seq, partition, rows });
    }
  }
  return data.flatMap(({ seq, partition, rows }) =>
    rows.filter((r) => !deletes.some((d) => d.seq > seq && d.partition === partition && d.keys.has(keyOf(r)))),
  );
}

const plain = (r: Row) => ({ region: r.region, id: Number(r.id), name: r.name ?? null, score: r.score === null || r.score === undefined ? null : Number(r.score) });
const byKey = (a: Row, b: Row) => keyOf(a).localeCompare(keyOf(b));

describe("tiering primary-key tables", () => {
  it("leaves the lake equal to the current state after every round of random upserts, partial updates and deletes", async () => {
    const next = random(5);
    await createTable("lakepk", "users", {
      columns: [
        { name: "region", type: "STRING" },
        { name: "id", type: "BIGINT" },
        { name: "name", type: "STRING" },
        { name: "score", type: "INT" },
      ],
      primaryKey: ["region", "id"],
      bucket: { num: 3, key: ["region"] },
      properties: { "table.datalake.enabled": "true" },
    });
    const keys = ["eu", "us", "ap"].flatMap((region) => Array.from({ length: 8 }, (_, id) => ({ region, id })));
    const { tableId } = await ok("GET", "/databases/lakepk/tables/users");
    for (let round = 0; round < 6; round++) {
      for (let batch = 0; batch < 5; batch++) {
        const chosen = Array.from({ length: 1 + Math.floor(next() * 10) }, () => keys[Math.floor(next() * keys.length)]!);
        const kind = next();
        if (kind < 0.25) await ok("POST", "/databases/lakepk/tables/users/rows?op=delete", chosen);
        else if (kind < 0.45) await ok("POST", "/databases/lakepk/tables/users/rows?columns=score", chosen.map((k) => ({ ...k, score: Math.floor(next() * 5) })));
        else await ok("POST", "/databases/lakepk/tables/users/rows", chosen.map((k) => ({ ...k, name: `n${Math.floor(next() * 3)}`, score: Math.floor(next() * 5) })));
      }
      const tiered = await ok("POST", "/tiering/run");
      expect(tiered.tables.find((t: { table: string }) => t.table === "lakepk.users").kind).toBe("committed");
      const hot = (await ok("GET", "/databases/lakepk/tables/users/scan?source=hot")).rows as Row[];
      const lake = await lakeState(`lakepk/users-${tableId}/`);
      expect(lake.map(plain).sort(byKey)).toEqual(hot.map(plain).sort(byKey));
    }
    const { snapshots } = await ok("GET", "/databases/lakepk/tables/users/snapshots");
    // The first round only inserts keys the lake never had, so it needs no equality deletes: a plain append.
    expect(snapshots[0].operation).toBe("append");
    expect(snapshots.slice(1).some((s: { operation: string }) => s.operation === "overwrite")).toBe(true);
  });
});
