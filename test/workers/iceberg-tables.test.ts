/**
 * Writing through the Iceberg REST catalog: Floe's own tables refuse every
 * write and stay unchanged; external Iceberg tables are created (directly
 * and staged, as DuckDB does), committed with requirements and updates,
 * committed together in a transaction, registered, renamed and dropped.
 * A failed requirement is a 409 CommitFailedException and changes nothing;
 * 64-bit snapshot ids stay exact. Every answer is checked against the spec.
 */
import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { lakeKey } from "../../src/lake/objects.ts";
import { getIcebergTable, swapIcebergTables } from "../../src/catalog/iceberg.ts";
import { ok } from "./helpers.ts";
import { appendCommit, appendSnapshot, eventSchema, iceberg, icebergOk, tieredTable } from "./iceberg-helpers.ts";
import { expectIcebergError, expectLoadTableResult, expectShape, tableMetadataV2, violations } from "./iceberg-spec.ts";

const p = "/v1/floe";
const ns = "ext";
const tables = `${p}/namespaces/${ns}/tables`;
/** Above 2^53, as Java and PyIceberg draw snapshot ids. */
const bigId = 8_765_432_109_876_543_210n;

async function createTable(name: string, extra: Record<string, unknown> = {}): Promise<any> {
  const answer = await iceberg("POST", tables, { name, schema: eventSchema, ...extra });
  expect(answer.status, answer.text).toBe(200);
  expectLoadTableResult(answer.body);
  return answer.body;
}

async function metadataLocation(name: string): Promise<string> {
  return (await icebergOk("GET", `${tables}/${name}`))["metadata-location"];
}

beforeAll(async () => {
  await tieredTable(ns, "floe_events");
});

describe("Floe's tables refuse writes", () => {
  it("refuses a commit, a drop and a rename with 403, and the table is unchanged", async () => {
    const before = await icebergOk("GET", `${tables}/floe_events`);
    const commit = { requirements: [], updates: [{ action: "set-properties", updates: { a: "b" } }] };
    expectIcebergError(await iceberg("POST", `${tables}/floe_events`, commit), 403, "ForbiddenException", /managed by Floe.*use Floe's API/);
    expectIcebergError(await iceberg("DELETE", `${tables}/floe_events`), 403, "ForbiddenException", /managed by Floe/);
    const rename = { source: { namespace: [ns], name: "floe_events" }, destination: { namespace: [ns], name: "renamed" } };
    expectIcebergError(await iceberg("POST", `${p}/tables/rename`, rename), 403, "ForbiddenException");
    const register = { name: "floe_events", "metadata-location": before["metadata-location"], overwrite: true };
    expectIcebergError(await iceberg("POST", `${p}/namespaces/${ns}/register`, register), 403, "ForbiddenException");
    expect(await icebergOk("GET", `${tables}/floe_events`)).toEqual(before);
    expect((await ok("GET", `/databases/${ns}/tables/floe_events`)).name).toBe("floe_events");
  });

  it("refuses an external table of a Floe table's name, tiered or not", async () => {
    await ok("PUT", `/databases/${ns}/tables/floe_untiered`, { columns: [{ name: "id", type: "BIGINT" }], bucket: { num: 1 } });
    for (const name of ["floe_events", "floe_untiered"]) {
      expectIcebergError(await iceberg("POST", tables, { name, schema: eventSchema }), 409, "AlreadyExistsException", /Floe table/);
    }
  });

  it("refuses a transaction that touches a Floe table, and changes none of its tables", async () => {
    await createTable("tx_partner");
    const before = await metadataLocation("tx_partner");
    const body = {
      "table-changes": [
        { identifier: { namespace: [ns], name: "tx_partner" }, requirements: [], updates: [{ action: "set-properties", updates: { a: "1" } }] },
        { identifier: { namespace: [ns], name: "floe_events" }, requirements: [], updates: [{ action: "set-properties", updates: { a: "1" } }] },
      ],
    };
    expectIcebergError(await iceberg("POST", `${p}/transactions/commit`, body), 403, "ForbiddenException");
    expect(await metadataLocation("tx_partner")).toBe(before);
  });
});

describe("external tables", () => {
  it("creates a table under its namespace's folder, metadata written to R2 and listed", async () => {
    const created = await createTable("created", { properties: { owner: "ann" } });
    expect(created["metadata-location"]).toMatch(/^s3:\/\/floe-lake\/ext\/created-[0-9a-f-]{36}\/metadata\/00001-[0-9a-f-]{36}\.metadata\.json$/);
    const metadata = created.metadata;
    expect(metadata).toMatchObject({
      "format-version": 2, "current-schema-id": 0, "last-column-id": 4, "default-spec-id": 0, "last-partition-id": 999,
      "default-sort-order-id": 0, properties: { owner: "ann" }, "last-sequence-number": 0, snapshots: [], refs: {},
    });
    expect(metadata.location).toBe(created["metadata-location"].replace(/\/metadata\/[^/]+$/, ""));
    const stored = await (await env.LAKE.get(lakeKey(env, created["metadata-location"])))!.text();
    expect(JSON.parse(stored)).toEqual(metadata);
    const listed = await icebergOk("GET", tables);
    expect(listed.identifiers).toContainEqual({ namespace: [ns], name: "created" });
    expectIcebergError(await iceberg("POST", tables, { name: "created", schema: eventSchema }), 409, "AlreadyExistsException");
    expectIcebergError(await iceberg("POST", `${p}/namespaces/nowhere/tables`, { name: "t", schema: eventSchema }), 404, "NoSuchNamespaceException");
  });

  it.each([
    ["a bad name", { name: "bad-name", schema: eventSchema }, /table name must match/],
    ["no schema", { name: "t_bad" }, /add-schema.schema must be a JSON object/],
    ["a duplicate field id", { name: "t_bad", schema: { type: "struct", fields: [{ id: 1, name: "a", type: "int", required: true }, { id: 1, name: "b", type: "int", required: true }] } }, /field id 1 is used twice/],
    ["a partition on no column", { name: "t_bad", schema: eventSchema, "partition-spec": { fields: [{ "source-id": 99, transform: "identity", name: "x" }] } }, /no column has id 99/],
    ["format-version 3", { name: "t_bad", schema: eventSchema, properties: { "format-version": "3" } }, /format-version 2/],
    ["a location outside the namespace", { name: "t_bad", schema: eventSchema, location: "s3://floe-lake/other/t" }, /lives in a folder under s3:\/\/floe-lake\/ext\//],
    ["a location in another bucket", { name: "t_bad", schema: eventSchema, location: "s3://elsewhere/ext/t" }, /lives in a folder under/],
  ])("refuses a create with %s", async (_what, body, message) => {
    expectIcebergError(await iceberg("POST", tables, body), 400, "BadRequestException", message);
    expect((await iceberg("HEAD", `${tables}/t_bad`)).status).toBe(404);
  });

  it("refuses a location inside a Floe table's folder", async () => {
    const floeFolder = (await icebergOk("GET", `${tables}/floe_events`)).metadata.location;
    expectIcebergError(await iceberg("POST", tables, { name: "t_in_floe", schema: eventSchema, location: `${floeFolder}/sub` }), 400, "BadRequestException", /folder of a Floe table/);
  });

  it("takes a partition spec and a write order, assigning partition field ids", async () => {
    const created = await createTable("partitioned", {
      "partition-spec": { fields: [{ "source-id": 1, transform: "bucket[8]", name: "id_bucket" }] },
      "write-order": { fields: [{ "source-id": 1, transform: "identity", direction: "asc", "null-order": "nulls-first" }] },
    });
    expect(created.metadata["partition-specs"]).toEqual([{ "spec-id": 0, fields: [{ "source-id": 1, "field-id": 1000, name: "id_bucket", transform: "bucket[8]" }] }]);
    expect(created.metadata["last-partition-id"]).toBe(1000);
    expect(created.metadata["default-sort-order-id"]).toBe(1);
  });

  it("commits snapshots with exact 64-bit ids, and refuses a commit whose requirement no longer holds", async () => {
    await createTable("appended");
    const first = appendSnapshot(bigId, 1);
    const committed = await iceberg("POST", `${tables}/appended`, appendCommit(first, null));
    expect(committed.status, committed.text).toBe(200);
    expectShape(committed.body, "CommitTableResponse");
    expect(violations(committed.body.metadata, tableMetadataV2)).toEqual([]);
    expect(committed.headers.get("etag")).toMatch(/^"/);
    expect(committed.text).toContain(`"snapshot-id":${bigId}`);
    expect(committed.text).toContain(`"current-snapshot-id":${bigId}`);
    const loaded = await iceberg("GET", `${tables}/appended`);
    expect(loaded.text).toContain(`"refs":{"main":{"snapshot-id":${bigId},"type":"branch"}}`);
    expect(loaded.body["metadata-location"]).toBe(committed.body["metadata-location"]);
    expect(loaded.body.metadata["metadata-log"]).toHaveLength(1);
    expect(loaded.body.metadata["snapshot-log"]).toHaveLength(1);
    expect(loaded.body.metadata["last-sequence-number"]).toBe(1);

    // A second writer that also saw no main branch loses: 409, nothing changes.
    const racing = await iceberg("POST", `${tables}/appended`, appendCommit(appendSnapshot(7n, 1), null));
    expectIcebergError(racing, 409, "CommitFailedException", /assert-ref-snapshot-id failed/);
    expect(await metadataLocation("appended")).toBe(committed.body["metadata-location"]);

    const second = await iceberg("POST", `${tables}/appended`, appendCommit(appendSnapshot(bigId + 1n, 2, bigId), bigId));
    expect(second.status, second.text).toBe(200);
    expect(second.text).toContain(`"parent-snapshot-id":${bigId}`);
    expect(second.body.metadata["last-sequence-number"]).toBe(2);
  });

  it.each([
    ["assert-create", { type: "assert-create" }],
    ["assert-table-uuid", { type: "assert-table-uuid", uuid: "00000000-0000-0000-0000-000000000000" }],
    ["assert-ref-snapshot-id", { type: "assert-ref-snapshot-id", ref: "main", "snapshot-id": 12 }],
    ["assert-last-assigned-field-id", { type: "assert-last-assigned-field-id", "last-assigned-field-id": 3 }],
    ["assert-current-schema-id", { type: "assert-current-schema-id", "current-schema-id": 5 }],
    ["assert-last-assigned-partition-id", { type: "assert-last-assigned-partition-id", "last-assigned-partition-id": 1000 }],
    ["assert-default-spec-id", { type: "assert-default-spec-id", "default-spec-id": 1 }],
    ["assert-default-sort-order-id", { type: "assert-default-sort-order-id", "default-sort-order-id": 1 }],
  ])("answers a failed %s with 409 and changes nothing", async (type, requirement) => {
    const name = `req_${type.replaceAll("-", "_")}`;
    await createTable(name);
    const before = await metadataLocation(name);
    const answer = await iceberg("POST", `${tables}/${name}`, { requirements: [requirement], updates: [{ action: "set-properties", updates: { a: "1" } }] });
    expectIcebergError(answer, 409, "CommitFailedException", new RegExp(type));
    expect(await metadataLocation(name)).toBe(before);
  });

  it("checks every requirement that holds and applies schema, spec, order and property changes", async () => {
    const created = await createTable("evolved", { properties: { gone: "x" } });
    const m = created.metadata;
    const addColumn = { ...eventSchema, "schema-id": 1, fields: [...eventSchema.fields, { id: 5, name: "added", type: "double", required: false }] };
    const answer = await iceberg("POST", `${tables}/evolved`, {
      requirements: [
        { type: "assert-table-uuid", uuid: m["table-uuid"] },
        { type: "assert-current-schema-id", "current-schema-id": 0 },
        { type: "assert-last-assigned-field-id", "last-assigned-field-id": 4 },
        { type: "assert-last-assigned-partition-id", "last-assigned-partition-id": 999 },
        { type: "assert-default-spec-id", "default-spec-id": 0 },
        { type: "assert-default-sort-order-id", "default-sort-order-id": 0 },
        { type: "assert-ref-snapshot-id", ref: "main", "snapshot-id": null },
      ],
      updates: [
        { action: "add-schema", schema: addColumn },
        { action: "set-current-schema", "schema-id": -1 },
        { action: "add-spec", spec: { fields: [{ "source-id": 5, transform: "truncate[4]", name: "added_trunc" }] } },
        { action: "set-default-spec", "spec-id": -1 },
        { action: "add-sort-order", "sort-order": { fields: [{ "source-id": 5, transform: "identity", direction: "desc", "null-order": "nulls-last" }] } },
        { action: "set-default-sort-order", "sort-order-id": -1 },
        { action: "set-properties", updates: { "write.format.default": "parquet" } },
        { action: "remove-properties", removals: ["gone"] },
        { action: "upgrade-format-version", "format-version": 2 },
      ],
    });
    expect(answer.status, answer.text).toBe(200);
    const after = answer.body.metadata;
    expect(after["current-schema-id"]).toBe(1);
    expect(after["last-column-id"]).toBe(5);
    expect(after["default-spec-id"]).toBe(1);
    expect(after["last-partition-id"]).toBe(1000);
    expect(after["default-sort-order-id"]).toBe(1);
    expect(after.properties).toEqual({ "write.format.default": "parquet" });
    expect(after["table-uuid"]).toBe(m["table-uuid"]);
  });

  it("tags, removes refs and expires snapshots, keeping the snapshot log free of gaps", async () => {
    await createTable("expiring");
    await icebergOk("POST", `${tables}/expiring`, appendCommit(appendSnapshot(11, 1), null));
    await icebergOk("POST", `${tables}/expiring`, appendCommit(appendSnapshot(12, 2, 11), 11));
    await icebergOk("POST", `${tables}/expiring`, { requirements: [], updates: [{ action: "set-snapshot-ref", "ref-name": "v1", type: "tag", "snapshot-id": 11 }] });
    const expired = await icebergOk("POST", `${tables}/expiring`, {
      requirements: [{ type: "assert-ref-snapshot-id", ref: "main", "snapshot-id": 12 }],
      updates: [{ action: "remove-snapshot-ref", "ref-name": "v1" }, { action: "remove-snapshots", "snapshot-ids": [11] }],
    });
    expect(expired.metadata.snapshots.map((s: { "snapshot-id": number }) => s["snapshot-id"])).toEqual([12]);
    expect(expired.metadata.refs).toEqual({ main: { "snapshot-id": 12, type: "branch" } });
    expect(expired.metadata["snapshot-log"].map((e: { "snapshot-id": number }) => e["snapshot-id"])).toEqual([12]);
  });

  it.each([
    ["an unknown action", { action: "make-coffee" }, /unknown update action 'make-coffee'/],
    ["an unsupported action", { action: "add-encryption-key", "encryption-key": {} }, /does not support add-encryption-key/],
    ["a snapshot of an existing id", { action: "add-snapshot", snapshot: appendSnapshot(21, 2) }, /already exists/],
    ["a ref to no snapshot", { action: "set-snapshot-ref", "ref-name": "main", type: "branch", "snapshot-id": 99 }, /does not exist/],
    ["main as a tag", { action: "set-snapshot-ref", "ref-name": "main", type: "tag", "snapshot-id": 21 }, /main must be a branch/],
    ["a new uuid", { action: "assign-uuid", uuid: "00000000-0000-0000-0000-000000000001" }, /cannot change/],
    ["format-version 3", { action: "upgrade-format-version", "format-version": 3 }, /format-version 2 tables, not 3/],
    ["a location elsewhere", { action: "set-location", location: "s3://floe-lake/other/x" }, /lives in a folder under/],
    ["-1 with nothing added", { action: "set-current-schema", "schema-id": -1 }, /added none/],
    ["removing the current schema", { action: "remove-schemas", "schema-ids": [0] }, /current schema/],
  ])("refuses %s with 400 and changes nothing", async (_what, update, message) => {
    const name = "bad_updates";
    if ((await iceberg("HEAD", `${tables}/${name}`)).status === 404) {
      await createTable(name);
      await icebergOk("POST", `${tables}/${name}`, appendCommit(appendSnapshot(21, 1), null));
    }
    const before = await metadataLocation(name);
    expectIcebergError(await iceberg("POST", `${tables}/${name}`, { requirements: [], updates: [update] }), 400, "BadRequestException", message);
    expect(await metadataLocation(name)).toBe(before);
  });

  it("refuses an unknown requirement type and a commit to no table", async () => {
    expectIcebergError(await iceberg("POST", `${tables}/created`, { requirements: [{ type: "assert-luck" }], updates: [] }), 400, "BadRequestException", /unknown requirement/);
    expectIcebergError(await iceberg("POST", `${tables}/nothing`, { requirements: [], updates: [] }), 404, "NoSuchTableException");
    expectIcebergError(await iceberg("POST", `${p}/namespaces/nowhere/tables/x`, { requirements: [], updates: [] }), 404, "NoSuchNamespaceException");
  });
});

describe("staged creates and transactions (DuckDB's way)", () => {
  it("stages a create without taking the name, then creates the table by a transaction with assert-create", async () => {
    const staged = await iceberg("POST", tables, { name: "staged", schema: eventSchema, "stage-create": true });
    expect(staged.status).toBe(200);
    expectLoadTableResult(staged.body);
    expect(staged.body["metadata-location"]).toBeNull();
    expect((await iceberg("HEAD", `${tables}/staged`)).status).toBe(404);
    const m = staged.body.metadata;
    const change = {
      identifier: { namespace: [ns], name: "staged" },
      requirements: [{ type: "assert-create" }],
      updates: [
        { action: "assign-uuid", uuid: m["table-uuid"] },
        { action: "upgrade-format-version", "format-version": 2 },
        { action: "add-schema", schema: eventSchema },
        { action: "set-current-schema", "schema-id": -1 },
        { action: "add-spec", spec: { "spec-id": 0, fields: [] } },
        { action: "set-default-spec", "spec-id": -1 },
        { action: "add-sort-order", "sort-order": { "order-id": 0, fields: [] } },
        { action: "set-default-sort-order", "sort-order-id": -1 },
        { action: "set-location", location: m.location },
        { action: "set-properties", updates: { "created-by": "duckdb" } },
        { action: "add-snapshot", snapshot: appendSnapshot(bigId, 1) },
        { action: "set-snapshot-ref", "ref-name": "main", type: "branch", "snapshot-id": bigId },
      ],
    };
    expect((await iceberg("POST", `${p}/transactions/commit`, { "table-changes": [change] })).status).toBe(204);
    const loaded = await iceberg("GET", `${tables}/staged`);
    expectLoadTableResult(loaded.body);
    expect(loaded.body.metadata["table-uuid"]).toBe(m["table-uuid"]);
    expect(loaded.body.metadata.location).toBe(m.location);
    expect(loaded.text).toContain(`"current-snapshot-id":${bigId}`);
    expectIcebergError(await iceberg("POST", `${p}/transactions/commit`, { "table-changes": [change] }), 409, "CommitFailedException", /already exists/);
  });

  it("commits several tables together, or none of them when one requirement fails", async () => {
    await createTable("tx_a");
    await createTable("tx_b");
    const change = (name: string, snapshot: number, parent: number | null) => ({ identifier: { namespace: [ns], name }, ...appendCommit(appendSnapshot(snapshot, 1), parent) });
    const before = { a: await metadataLocation("tx_a"), b: await metadataLocation("tx_b") };
    const failing = { "table-changes": [change("tx_a", 31, null), change("tx_b", 32, 999)] };
    expectIcebergError(await iceberg("POST", `${p}/transactions/commit`, failing), 409, "CommitFailedException");
    expect({ a: await metadataLocation("tx_a"), b: await metadataLocation("tx_b") }).toEqual(before);
    expect((await iceberg("POST", `${p}/transactions/commit`, { "table-changes": [change("tx_a", 31, null), change("tx_b", 32, null)] })).status).toBe(204);
    expect((await icebergOk("GET", `${tables}/tx_a`)).metadata["current-snapshot-id"]).toBe(31);
    expect((await icebergOk("GET", `${tables}/tx_b`)).metadata["current-snapshot-id"]).toBe(32);
  });

  it("lets exactly one of two racing commits on the same base win", async () => {
    await createTable("raced");
    const [a, b] = await Promise.all([
      iceberg("POST", `${tables}/raced`, appendCommit(appendSnapshot(41, 1), null)),
      iceberg("POST", `${tables}/raced`, appendCommit(appendSnapshot(42, 1), null)),
    ]);
    expect([a.status, b.status].sort()).toEqual([200, 409]);
    const loser = a.status === 409 ? a : b;
    expectIcebergError(loser, 409, "CommitFailedException");
    const winner = a.status === 200 ? a : b;
    expect(await metadataLocation("raced")).toBe(winner.body["metadata-location"]);
  });

  it("swaps every pointer of a commit in one transaction, or none when one swap does not take", async () => {
    await createTable("swap_a");
    await createTable("swap_b");
    const a = (await getIcebergTable(env.CATALOG, ns, "swap_a"))!;
    const b = (await getIcebergTable(env.CATALOG, ns, "swap_b"))!;
    const stale = await swapIcebergTables(env.CATALOG, [
      { kind: "update", databaseName: ns, tableName: "swap_a", metadataLocation: "s3://floe-lake/ext/a-new.json", expectedVersion: a.version },
      { kind: "update", databaseName: ns, tableName: "swap_b", metadataLocation: "s3://floe-lake/ext/b-new.json", expectedVersion: b.version + 1 },
    ]);
    expect(stale).toBe(false);
    expect(await getIcebergTable(env.CATALOG, ns, "swap_a")).toEqual(a);
    expect(await getIcebergTable(env.CATALOG, ns, "swap_b")).toEqual(b);
    const taken = await swapIcebergTables(env.CATALOG, [
      { kind: "update", databaseName: ns, tableName: "swap_a", metadataLocation: "s3://floe-lake/ext/a-new.json", expectedVersion: a.version },
      { kind: "create", databaseName: ns, tableName: "swap_c", metadataLocation: "s3://floe-lake/ext/c.json" },
    ]);
    expect(taken).toBe(true);
    expect((await getIcebergTable(env.CATALOG, ns, "swap_a"))!.version).toBe(a.version + 1);
    expect((await getIcebergTable(env.CATALOG, ns, "swap_c"))!.metadataLocation).toBe("s3://floe-lake/ext/c.json");
  });

  it.each([
    ["no table changes", { "table-changes": [] }, /1\.\.100/],
    ["a table twice", { "table-changes": [{ identifier: { namespace: [ns], name: "tx_a" }, requirements: [], updates: [] }, { identifier: { namespace: [ns], name: "tx_a" }, requirements: [], updates: [] }] }, /twice/],
    ["a change without identifier", { "table-changes": [{ requirements: [], updates: [] }] }, /identifier must be a JSON object/],
  ])("refuses a transaction with %s", async (_what, body, message) => {
    expectIcebergError(await iceberg("POST", `${p}/transactions/commit`, body), 400, "BadRequestException", message);
  });
});

describe("register, rename and drop", () => {
  it("registers an existing metadata file, once unless overwriting", async () => {
    const original = await createTable("original");
    const location = original["metadata-location"];
    const registered = await iceberg("POST", `${p}/namespaces/${ns}/register`, { name: "registered", "metadata-location": location });
    expect(registered.status).toBe(200);
    expectLoadTableResult(registered.body);
    expect(registered.body["metadata-location"]).toBe(location);
    expect((await icebergOk("GET", `${tables}/registered`)).metadata).toEqual(original.metadata);
    expectIcebergError(await iceberg("POST", `${p}/namespaces/${ns}/register`, { name: "registered", "metadata-location": location }), 409, "AlreadyExistsException");
    const newer = await icebergOk("POST", `${tables}/original`, { requirements: [], updates: [{ action: "set-properties", updates: { v: "2" } }] });
    const overwritten = await iceberg("POST", `${p}/namespaces/${ns}/register`, { name: "registered", "metadata-location": newer["metadata-location"], overwrite: true });
    expect(overwritten.status).toBe(200);
    expect(await metadataLocation("registered")).toBe(newer["metadata-location"]);
  });

  it.each([
    ["a file that does not exist", "s3://floe-lake/ext/x/metadata/00001-none.metadata.json", /no metadata file/],
    ["a file outside the lake", "s3://elsewhere/x.metadata.json", /not in Floe's lake bucket/],
  ])("refuses to register %s", async (_what, location, message) => {
    expectIcebergError(await iceberg("POST", `${p}/namespaces/${ns}/register`, { name: "reg_bad", "metadata-location": location }), 400, "BadRequestException", message);
  });

  it("refuses to register a file that is not table metadata", async () => {
    await env.LAKE.put("ext/junk/metadata/00001-x.metadata.json", '{"hello":"world"}');
    expectIcebergError(await iceberg("POST", `${p}/namespaces/${ns}/register`, { name: "reg_bad", "metadata-location": "s3://floe-lake/ext/junk/metadata/00001-x.metadata.json" }), 400, "BadRequestException", /not Iceberg table metadata/);
  });

  it("renames an external table, within or across namespaces", async () => {
    await createTable("to_rename");
    await ok("PUT", "/databases/ext_other");
    const rename = (from: [string, string], to: [string, string]) =>
      iceberg("POST", `${p}/tables/rename`, { source: { namespace: [from[0]], name: from[1] }, destination: { namespace: [to[0]], name: to[1] } });
    expect((await rename([ns, "to_rename"], [ns, "renamed"])).status).toBe(204);
    expect((await iceberg("HEAD", `${tables}/to_rename`)).status).toBe(404);
    expect((await rename([ns, "renamed"], ["ext_other", "moved"])).status).toBe(204);
    expect((await iceberg("HEAD", `${p}/namespaces/ext_other/tables/moved`)).status).toBe(204);
    expectIcebergError(await rename(["ext_other", "moved"], [ns, "floe_events"]), 409, "AlreadyExistsException");
    expectIcebergError(await rename(["ext_other", "moved"], ["nowhere", "x"]), 404, "NoSuchNamespaceException");
    expectIcebergError(await rename([ns, "nothing"], [ns, "x"]), 404, "NoSuchTableException");
    expect((await iceberg("HEAD", `${p}/namespaces/ext_other/tables/moved`)).status).toBe(204);
  });

  it("drops an external table (its files stay), and refuses to purge", async () => {
    const created = await createTable("dropped");
    expectIcebergError(await iceberg("DELETE", `${tables}/dropped?purgeRequested=true`), 400, "BadRequestException", /does not purge/);
    expect((await iceberg("DELETE", `${tables}/dropped?purgeRequested=false`)).status).toBe(204);
    expectIcebergError(await iceberg("GET", `${tables}/dropped`), 404, "NoSuchTableException");
    expectIcebergError(await iceberg("DELETE", `${tables}/dropped`), 404, "NoSuchTableException");
    expectIcebergError(await iceberg("DELETE", `${p}/namespaces/nowhere/tables/dropped`), 404, "NoSuchNamespaceException");
    expect(await env.LAKE.head(lakeKey(env, created["metadata-location"]))).not.toBeNull();
  });

  it("forgets a database's external tables when Floe's API drops the database", async () => {
    await icebergOk("POST", `${p}/namespaces`, { namespace: ["ext_gone"] });
    await icebergOk("POST", `${p}/namespaces/ext_gone/tables`, { name: "t", schema: eventSchema });
    expectIcebergError(await iceberg("DELETE", `${p}/namespaces/ext_gone`), 409, "NamespaceNotEmptyException");
    await ok("DELETE", "/databases/ext_gone");
    await ok("PUT", "/databases/ext_gone");
    expect((await icebergOk("GET", `${p}/namespaces/ext_gone/tables`)).identifiers).toEqual([]);
  });
});
