/**
 * Failures injected into a round that tiers, compacts and expires: at each
 * R2 put, at each R2 delete, and at the catalog's compare-and-swap. Whatever
 * fails, nothing a kept snapshot references is deleted, the lake still
 * reads as the table's state, and the next round finishes the job: no file
 * is left that no kept snapshot references.
 */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { createTable, ok } from "./helpers.ts";
import { withFaults } from "./lake-faults.ts";
import { keptFileKeys } from "./lake-files.ts";

const definition = {
  columns: [{ name: "id", type: "INT" }, { name: "value", type: "BIGINT" }],
  primaryKey: ["id"],
  bucket: { num: 2 },
  properties: {
    "table.datalake.enabled": "true",
    "table.datalake.auto-maintenance": "true",
    "table.datalake.snapshot.retention": "1s",
    "table.datalake.compaction.min-input-files": "3",
  },
};

const cases = [
  ...Array.from({ length: 10 }, (_, i) => ({ name: `put ${i + 1}`, faults: { putsFailFrom: i + 1 } })),
  ...Array.from({ length: 2 }, (_, i) => ({ name: `delete ${i + 1}`, faults: { deletesFailFrom: i + 1 } })),
  { name: "catalog", faults: { catalogCommits: true } },
];

describe("lake maintenance under injected failures", () => {
  it.each(cases)("keeps every referenced file and the table's state when $name fails", async ({ name, faults }) => {
    const table = `t_${name.replace(" ", "_")}`;
    await createTable("lifefail", table, definition);
    const { tableId } = await ok("GET", `/databases/lifefail/tables/${table}`);
    const rows = `/databases/lifefail/tables/${table}/rows`;
    const tier = async () => (await ok("POST", "/tiering/run")).tables.find((t: { table: string }) => t.table === `lifefail.${table}`);
    const model = new Map<number, number>();
    const write = async (round: number) => {
      const batch = Array.from({ length: 6 }, (_, i) => ({ id: (round * 7 + i * 3) % 10, value: round * 10 + i }));
      for (const row of batch) model.set(row.id, row.value);
      await ok("POST", rows, batch);
    };
    for (let round = 0; round < 2; round++) {
      await write(round);
      await tier();
    }
    // Old enough to expire, and with the next round's files, due for compaction.
    await new Promise((r) => setTimeout(r, 1_100));
    await write(2);
    const failed = await withFaults(tableId, 2, faults, tier);
    expect(["failed", "committed"]).toContain(failed.kind);

    const readsAsModel = async () => {
      for (const source of ["lake", "union"]) {
        const scan = await ok("GET", `/databases/lifefail/tables/${table}/scan?source=${source}`);
        if (source === "union") expect(new Map(scan.rows.map((r: { id: number; value: number }) => [r.id, r.value]))).toEqual(model);
        expect(scan.rows.length).toBe(source === "union" ? model.size : scan.rows.length);
      }
    };
    // Whatever failed, every file a kept snapshot references is still there, and the table reads right.
    for (const key of await keptFileKeys(tableId)) expect(await env.LAKE.head(key), key).not.toBeNull();
    await readsAsModel();

    await write(3);
    expect((await tier()).kind).toBe("committed");
    await readsAsModel();
    const lake = await ok("GET", `/databases/lifefail/tables/${table}/scan?source=lake`);
    expect(new Map(lake.rows.map((r: { id: number; value: number }) => [r.id, r.value]))).toEqual(model);
    // The next round finished the job: the data folder holds exactly what kept snapshots reference.
    const objects = (await env.LAKE.list({ prefix: `lifefail/${table}-${tableId}/data/` })).objects.map((o) => o.key);
    expect(new Set(objects)).toEqual(await keptFileKeys(tableId));
    // Both maintenance steps this test injects failures into did run.
    const { lakeSnapshot } = await ok("GET", `/databases/lifefail/tables/${table}`);
    expect(lakeSnapshot).toMatchObject({ lastCompaction: expect.any(String), lastExpiry: expect.any(String), deleteFiles: 0 });
  });
});
