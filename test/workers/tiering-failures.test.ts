/**
 * Failures injected at every step of a tiering round (each R2 write, then
 * the catalog's compare-and-swap): the failed round commits nothing, and the
 * next round tiers every row exactly once.
 */
import { env } from "cloudflare:workers";
import { parquetReadObjects } from "hyparquet";
import { describe, expect, it } from "vitest";
import { getTable } from "../../src/catalog/catalog.ts";
import { getLakeState } from "../../src/catalog/lake.ts";
import { tierTable } from "../../src/lake/tiering.ts";
import { createTable, ok } from "./helpers.ts";

/** An Env whose R2 puts fail from the `failAt`-th one on, or whose catalog refuses lake commits. */
function failingEnv(failAt: number | "catalog"): Env {
  let puts = 0;
  const lake = new Proxy(env.LAKE, {
    get(target, property) {
      if (property === "put") {
        return async (...args: Parameters<R2Bucket["put"]>) => {
          if (failAt !== "catalog" && ++puts >= failAt) throw new Error(`injected R2 failure on put ${puts}`);
          return target.put(...args);
        };
      }
      const value = Reflect.get(target, property);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
  const catalog = new Proxy(env.CATALOG, {
    get(target, property) {
      if (property === "prepare") {
        return (query: string) => {
          if (failAt === "catalog" && /lake_tables/.test(query) && /INSERT|UPDATE/.test(query)) throw new Error("injected D1 failure");
          return target.prepare(query);
        };
      }
      const value = Reflect.get(target, property);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
  return { ...env, LAKE: lake, CATALOG: catalog };
}

async function lakeIds(prefix: string, referencedOnly: Set<string>): Promise<number[]> {
  const ids: number[] = [];
  for (const object of (await env.LAKE.list({ prefix })).objects.filter((o) => o.key.endsWith(".parquet"))) {
    if (!referencedOnly.has(object.key)) continue;
    const file = await (await env.LAKE.get(object.key))!.arrayBuffer();
    ids.push(...((await parquetReadObjects({ file, utf8: false })) as { id: bigint }[]).map((r) => Number(r.id)));
  }
  return ids.sort((a, b) => a - b);
}

/** The data files the committed metadata references, from the manifests' paths (read as text: paths are plain strings in Avro). */
async function referencedFiles(tableId: string): Promise<Set<string>> {
  const state = await getLakeState(env.CATALOG, tableId);
  const files = new Set<string>();
  for (const manifest of state?.manifests ?? []) {
    const key = manifest.path.slice(env.LAKE_URI_PREFIX.length + 1);
    const text = new TextDecoder("latin1").decode(await (await env.LAKE.get(key))!.arrayBuffer());
    for (const match of text.matchAll(/s3:\/\/floe-lake\/([^\s"]+?\.parquet)/g)) files.add(match[1]!);
  }
  return files;
}

describe("tiering under injected failures", () => {
  // Puts of one round with one bucket of data: data file, manifest, manifest list, metadata, then the catalog swap.
  it.each([1, 2, 3, 4, "catalog"] as const)("loses nothing and duplicates nothing when step %s fails", async (failAt) => {
    const name = `failing_${failAt}`;
    await createTable("lakefail", name, {
      columns: [{ name: "id", type: "BIGINT" }],
      bucket: { num: 1 },
      properties: { "table.datalake.enabled": "true" },
    });
    const path = `/databases/lakefail/tables/${name}/rows`;
    await ok("POST", path, Array.from({ length: 10 }, (_, id) => ({ id })));
    const table = await getTable(env.CATALOG, "lakefail", name);
    await tierTable(env, table, await getLakeState(env.CATALOG, table.tableId), Date.now());
    await ok("POST", path, Array.from({ length: 10 }, (_, i) => ({ id: 10 + i })));

    await expect(tierTable(failingEnv(failAt), table, await getLakeState(env.CATALOG, table.tableId), Date.now())).rejects.toThrow(/injected/);
    const before = await getLakeState(env.CATALOG, table.tableId);
    expect(before!.bucketOffsets).toEqual({ "0": 10 });

    expect(await tierTable(env, table, await getLakeState(env.CATALOG, table.tableId), Date.now())).toMatchObject({ kind: "committed", records: 10 });
    const prefix = `lakefail/${name}-${table.tableId}/`;
    expect(await lakeIds(prefix, await referencedFiles(table.tableId))).toEqual(Array.from({ length: 20 }, (_, i) => i));
    expect((await getLakeState(env.CATALOG, table.tableId))!.bucketOffsets).toEqual({ "0": 20 });
  });
});
