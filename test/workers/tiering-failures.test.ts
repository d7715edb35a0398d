/**
 * Failures injected at every step of a tiering round (the writer's data
 * file, then the coordinator's manifest, manifest list and metadata, then
 * the catalog's compare-and-swap): the failed round commits nothing and
 * leaves no file behind, and the next round tiers every row exactly once.
 */
import { env } from "cloudflare:workers";
import { parquetReadObjects } from "hyparquet";
import { describe, expect, it } from "vitest";
import { getLakeState } from "../../src/catalog/lake.ts";
import { createTable, ok } from "./helpers.ts";
import { withFaults } from "./lake-faults.ts";
import { liveFiles } from "./lake-files.ts";

const tier = async (table: string) => (await ok("POST", "/tiering/run")).tables.find((t: { table: string }) => t.table === `lakefail.${table}`);

describe("tiering under injected failures", () => {
  it.each([1, 2, 3, 4, "catalog"] as const)("loses nothing, duplicates nothing and leaves no file when step %s fails", async (failAt) => {
    const name = `failing_${failAt}`;
    await createTable("lakefail", name, {
      columns: [{ name: "id", type: "BIGINT" }],
      bucket: { num: 1 },
      properties: { "table.datalake.enabled": "true" },
    });
    const path = `/databases/lakefail/tables/${name}/rows`;
    await ok("POST", path, Array.from({ length: 10 }, (_, id) => ({ id })));
    const { tableId } = await ok("GET", `/databases/lakefail/tables/${name}`);
    await tier(name);
    await ok("POST", path, Array.from({ length: 10 }, (_, i) => ({ id: 10 + i })));
    const prefix = `lakefail/${name}-${tableId}/`;
    const objectsBefore = (await env.LAKE.list({ prefix })).objects.length;

    const faults = failAt === "catalog" ? { catalogCommits: true } : { putsFailFrom: failAt };
    const failed = await withFaults(tableId, 1, faults, () => tier(name));
    expect(failed).toMatchObject({ kind: "failed", error: expect.stringMatching(/injected/) });
    expect((await getLakeState(env.CATALOG, tableId))!.bucketOffsets).toEqual({ "0": 10 });

    expect(await tier(name)).toMatchObject({ kind: "committed", records: 10 });
    const files = await liveFiles(tableId);
    const ids: number[] = [];
    for (const file of files) {
      const bytes = await (await env.LAKE.get(file.key))!.arrayBuffer();
      ids.push(...((await parquetReadObjects({ file: bytes, utf8: false })) as { id: bigint }[]).map((r) => Number(r.id)));
    }
    expect(ids.sort((a, b) => a - b)).toEqual(Array.from({ length: 20 }, (_, i) => i));
    expect((await getLakeState(env.CATALOG, tableId))!.bucketOffsets).toEqual({ "0": 20 });
    // The failed round's files were deleted: the lake grew by exactly the second round's objects.
    const objectsAfter = (await env.LAKE.list({ prefix })).objects.length;
    // The data file, its manifest, the manifest list, the metadata and its v<N> copy (the version hint is replaced).
    expect(objectsAfter - objectsBefore).toBe(5);
  });
});
