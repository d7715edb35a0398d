/**
 * Names in the lake's layout that users choose: a bucket field never
 * shares its name with a column (Iceberg refuses such a spec, and a
 * partition tuple keyed by name would lose a value), and the longest names
 * Floe accepts (database, table, columns, a partition spec of the most
 * characters) still give every file an R2 key within 1,024 bytes.
 */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { partitionLimits } from "../../src/table/partitioning.ts";
import { createTable, ok } from "./helpers.ts";
import { currentMetadata, liveFiles } from "./lake-files.ts";

const lake = { "table.datalake.enabled": "true" };
const tier = async (database: string, table: string) =>
  (await ok("POST", "/tiering/run")).tables.find((t: { table: string }) => t.table === `${database}.${table}`);
const fieldNames = async (database: string, table: string) => {
  const { tableId } = await ok("GET", `/databases/${database}/tables/${table}`);
  return (await currentMetadata(tableId))["partition-specs"][0]!.fields.map((f: { name: string }) => f.name);
};

describe("the bucket field's name", () => {
  it("moves aside for a partition key named like it, and the table tiers", async () => {
    await createTable("names", "clash", {
      columns: [{ name: "id", type: "BIGINT" }, { name: "id_bucket", type: "STRING" }],
      partitionKeys: ["id_bucket"],
      bucket: { num: 2, key: ["id"] },
      properties: lake,
    });
    await ok("POST", "/databases/names/tables/clash/rows?dynamicPartitions=true", [{ id: 1, id_bucket: "a" }, { id: 2, id_bucket: "b" }]);
    expect(await tier("names", "clash")).toMatchObject({ kind: "committed", records: 2 });
    expect(await fieldNames("names", "clash")).toEqual(["id_bucket", "id_bucket_"]);
    const lakeRows = (await ok("GET", "/databases/names/tables/clash/scan?source=lake")).rows;
    expect(lakeRows.map((r: { id: number; id_bucket: string }) => `${r.id}${r.id_bucket}`).sort()).toEqual(["1a", "2b"]);
  });

  it("moves aside for any column named like it, in an unpartitioned table too", async () => {
    await createTable("names", "plain", {
      columns: [{ name: "id", type: "BIGINT" }, { name: "id_bucket", type: "STRING" }, { name: "id_bucket_", type: "INT" }],
      primaryKey: ["id"],
      bucket: { num: 2 },
      properties: lake,
    });
    await ok("POST", "/databases/names/tables/plain/rows", [{ id: 1, id_bucket: "x", id_bucket_: 3 }]);
    expect(await tier("names", "plain")).toMatchObject({ kind: "committed" });
    expect(await fieldNames("names", "plain")).toEqual(["id_bucket__"]);
  });

  it("stays <key>_bucket when nothing has that name", async () => {
    await createTable("names", "usual", { columns: [{ name: "id", type: "BIGINT" }], primaryKey: ["id"], bucket: { num: 2 }, properties: lake });
    await ok("POST", "/databases/names/tables/usual/rows", [{ id: 1 }]);
    expect(await tier("names", "usual")).toMatchObject({ kind: "committed" });
    expect(await fieldNames("names", "usual")).toEqual(["id_bucket"]);
  });
});

describe("R2 keys of the longest names", () => {
  it("stay within 1,024 bytes, and the table tiers", async () => {
    const name = (c: string) => c.repeat(128);
    const database = name("d");
    const table = name("t");
    const keys = [`${"k".repeat(127)}1`, `${"k".repeat(127)}2`];
    const bucketKey = name("b");
    await createTable(database, table, {
      columns: [...keys.map((k) => ({ name: k, type: "STRING" })), { name: bucketKey, type: "BIGINT" }],
      partitionKeys: keys,
      bucket: { num: 16, key: [bucketKey] },
      properties: lake,
    });
    // Two pairs `<key>=` and a `/`: 259 characters besides the values, which take the rest of the spec's bound.
    const valueLength = partitionLimits.specLengthMax - 259;
    const row = (id: number) => ({ [keys[0]!]: "v".repeat(valueLength - Math.floor(valueLength / 2)), [keys[1]!]: "w".repeat(Math.floor(valueLength / 2)), [bucketKey]: 1_000_000 + id });
    const rowsPath = `/databases/${database}/tables/${table}/rows?dynamicPartitions=true`;
    for (let round = 0; round < 3; round++) {
      await ok("POST", rowsPath, [row(round)]);
      expect(await tier(database, table)).toMatchObject({ kind: "committed" });
    }
    const { tableId } = await ok("GET", `/databases/${database}/tables/${table}`);
    const files = await liveFiles(tableId);
    expect(files.length).toBeGreaterThan(0);
    const prefix = `${database}/${table}-${tableId}/`;
    const listed = await env.LAKE.list({ prefix });
    const longest = Math.max(...listed.objects.map((o) => new TextEncoder().encode(o.key).length));
    expect(longest).toBeGreaterThan(700);
    expect(longest).toBeLessThanOrEqual(1024);
  });
});
