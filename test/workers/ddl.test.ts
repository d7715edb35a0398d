import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import * as catalog from "../../src/catalog/catalog.ts";
import { tabletName } from "../../src/vocabulary.ts";
import { api, eventsDefinition, expectError, ok } from "./helpers.ts";

describe("databases", () => {
  it("creates idempotently, lists and drops", async () => {
    expect((await api("PUT", "/databases/ddl_a")).status).toBe(201);
    expect((await api("PUT", "/databases/ddl_a")).status).toBe(200);
    const listed = await ok("GET", "/databases");
    expect(listed.databases.map((d: { name: string }) => d.name)).toContain("ddl_a");
    expect((await api("DELETE", "/databases/ddl_a")).status).toBe(200);
    expectError(await api("DELETE", "/databases/ddl_a"), 404, "not_found");
  });

  it("refuses bad names and dropping a database with tables", async () => {
    expectError(await api("PUT", "/databases/9lives"), 400, "bad_request", /name must match/);
    expectError(await api("PUT", `/databases/${"x".repeat(129)}`), 400, "bad_request", /longer than 128/);
    await ok("PUT", "/databases/ddl_b");
    await ok("PUT", "/databases/ddl_b/tables/t", eventsDefinition);
    expectError(await api("DELETE", "/databases/ddl_b"), 409, "conflict", /still has tables/);
  });
});

describe("tables", () => {
  it("round-trips a definition with stable column ids", async () => {
    await ok("PUT", "/databases/ddl_c");
    const created = await api("PUT", "/databases/ddl_c/tables/events", {
      ...eventsDefinition,
      properties: { "table.datalake.enabled": "true", "table.datalake.freshness": "30s" },
    });
    expect(created.status).toBe(201);
    const described = await ok("GET", "/databases/ddl_c/tables/events");
    expect(described.columns).toEqual([
      { id: 1, name: "id", type: "BIGINT", nullable: false },
      { id: 2, name: "user", type: "STRING", nullable: false },
      { id: 3, name: "amount", type: "DECIMAL(10,2)", nullable: false },
      { id: 4, name: "ts", type: "TIMESTAMP_LTZ(3)", nullable: false },
      { id: 5, name: "tags", type: "STRING", nullable: true },
    ]);
    expect(described.bucket).toEqual({ num: 4, key: ["user"] });
    expect(described.primaryKey).toEqual([]);
    expect(described.properties).toEqual({ "table.datalake.enabled": "true", "table.datalake.freshness": "30s" });
    expect(described.buckets).toEqual([0, 1, 2, 3].map((bucket) => ({
      bucket, logStartOffset: 0, tieredOffset: 0, highWatermark: 0,
    })));
    const listed = await ok("GET", "/databases/ddl_c/tables");
    expect(listed.tables.map((t: { name: string }) => t.name)).toEqual(["events"]);
  });

  it("answers 200 for an identical create and 409 for a different one", async () => {
    await ok("PUT", "/databases/ddl_d");
    expect((await api("PUT", "/databases/ddl_d/tables/t", eventsDefinition)).status).toBe(201);
    // Same table, spelled differently: lower-case types, defaults made explicit.
    const respelled = {
      ...eventsDefinition,
      columns: eventsDefinition.columns.map((c) => ({ ...c, type: c.type.toLowerCase() })),
      primaryKey: [],
    };
    const again = await api("PUT", "/databases/ddl_d/tables/t", respelled);
    expect(again.status).toBe(200);
    expect(again.body.created).toBe(false);
    const different = { ...eventsDefinition, bucket: { num: 8, key: ["user"] } };
    expectError(await api("PUT", "/databases/ddl_d/tables/t", different), 409, "conflict", /different definition/);
  });

  it("drops a table and its data; a re-created table starts empty", async () => {
    await ok("PUT", "/databases/ddl_e");
    await ok("PUT", "/databases/ddl_e/tables/t", eventsDefinition);
    await ok("POST", "/databases/ddl_e/tables/t/rows", [{ id: 1, user: "a", amount: "1", ts: 0 }]);
    expect((await api("DELETE", "/databases/ddl_e/tables/t")).status).toBe(200);
    expectError(await api("GET", "/databases/ddl_e/tables/t"), 404, "not_found");
    await ok("PUT", "/databases/ddl_e/tables/t", eventsDefinition);
    const described = await ok("GET", "/databases/ddl_e/tables/t");
    expect(described.buckets.every((b: { highWatermark: number }) => b.highWatermark === 0)).toBe(true);
  });

  it("finds a re-created table even when this isolate cached the dropped one", async () => {
    await ok("PUT", "/databases/ddl_h");
    await ok("PUT", "/databases/ddl_h/tables/t", eventsDefinition);
    await ok("POST", "/databases/ddl_h/tables/t/rows", [{ id: 1, user: "a", amount: "1", ts: 0 }]);
    // Drop behind this isolate's back, as another isolate would: its cache still holds the old table.
    const { table: old } = await catalog.dropTable(env.CATALOG, "ddl_h", "t");
    for (let bucket = 0; bucket < 4; bucket++) {
      await env.TABLET.get(env.TABLET.idFromName(tabletName(old.tableId, bucket))).drop("table ddl_h.t");
    }
    expectError(await api("GET", "/databases/ddl_h/tables/t/log?bucket=0"), 404, "not_found");
    await ok("PUT", "/databases/ddl_h/tables/t", eventsDefinition);
    await ok("POST", "/databases/ddl_h/tables/t/rows", [{ id: 2, user: "b", amount: "2", ts: 0 }]);
    const described = await ok("GET", "/databases/ddl_h/tables/t");
    expect(described.tableId).not.toBe(old.tableId);
    expect(described.buckets.reduce((n: number, b: { highWatermark: number }) => n + b.highWatermark, 0)).toBe(1);
  });

  it("404s for a table in a missing database", async () => {
    expectError(await api("GET", "/databases/nowhere/tables/t"), 404, "not_found", /database 'nowhere'/);
    expectError(await api("PUT", "/databases/nowhere/tables/t", eventsDefinition), 404, "not_found");
  });

  const invalid: [string, unknown, RegExp][] = [
    ["no columns", { columns: [], bucket: { num: 1 } }, /non-empty array/],
    ["unknown type", { columns: [{ name: "a", type: "VARCHAR" }], bucket: { num: 1 } }, /unknown type 'VARCHAR'/],
    ["decimal precision", { columns: [{ name: "a", type: "DECIMAL(39,2)" }], bucket: { num: 1 } }, /precision must be 1..38/],
    ["timestamp precision", { columns: [{ name: "a", type: "TIMESTAMP(9)" }], bucket: { num: 1 } }, /precision must be 0..6/],
    ["duplicate column", { columns: [{ name: "a", type: "INT" }, { name: "A", type: "INT" }], bucket: { num: 1 } }, /declared twice/],
    ["reserved column", { columns: [{ name: "_offset", type: "INT" }], bucket: { num: 1 } }, /reserved/],
    ["bad column name", { columns: [{ name: "a-b", type: "INT" }], bucket: { num: 1 } }, /column name must match/],
    ["missing bucket", { columns: [{ name: "a", type: "INT" }] }, /bucket must be an object/],
    ["zero buckets", { columns: [{ name: "a", type: "INT" }], bucket: { num: 0 } }, /bucket.num must be an integer/],
    ["unknown bucket key", { columns: [{ name: "a", type: "INT" }], bucket: { num: 2, key: ["b"] } }, /unknown column 'b'/],
    ["double bucket key", { columns: [{ name: "a", type: "DOUBLE" }], bucket: { num: 2, key: ["a"] } }, /cannot be DOUBLE/],
    ["nullable key", { columns: [{ name: "a", type: "INT", nullable: true }], bucket: { num: 2, key: ["a"] } }, /cannot be nullable/],
    ["bucket key outside pk", {
      columns: [{ name: "a", type: "INT" }, { name: "b", type: "INT" }], primaryKey: ["a"], bucket: { num: 2, key: ["b"] },
    }, /must be part of the primary key/],
    ["unknown property", { columns: [{ name: "a", type: "INT" }], bucket: { num: 1 }, properties: { "table.typo": "x" } }, /unknown property/],
    ["bad freshness", {
      columns: [{ name: "a", type: "INT" }], bucket: { num: 1 }, properties: { "table.datalake.freshness": "5s" },
    }, /at least 10s/],
    ["pk-only property on log table", {
      columns: [{ name: "a", type: "INT" }], bucket: { num: 1 }, properties: { "table.merge-engine": "first_row" },
    }, /primary-key tables only/],
    ["unknown field", { columns: [{ name: "a", type: "INT" }], bucket: { num: 1 }, colums: [] }, /unknown field 'colums'/],
  ];

  it.each(invalid)("refuses a definition with %s", async (_, definition, message) => {
    await ok("PUT", "/databases/ddl_f");
    expectError(await api("PUT", "/databases/ddl_f/tables/t", definition), 400, "bad_request", message);
    expectError(await api("GET", "/databases/ddl_f/tables/t"), 404, "not_found");
  });

  it("refuses non-JSON definitions", async () => {
    await ok("PUT", "/databases/ddl_g");
    expectError(await api("PUT", "/databases/ddl_g/tables/t", "{not json", { "content-type": "application/json" }), 400, "bad_request", /malformed JSON/);
  });
});
