/**
 * iceberg-js, an independent Iceberg REST client, drives the catalog: with
 * a warehouse (it reads /v1/config and uses the prefix) and without one (it
 * uses /v1/namespaces directly). It lists and loads namespaces and tables,
 * loads a tiered Floe table and finds the metadata Floe wrote, creates an
 * external table and commits a snapshot to it, loses a conflicting commit
 * with 409, and is refused commits to Floe's tables. Its requests go to the
 * Worker's fetch handler (the `fetch` option), so it runs in workerd.
 */
import { env, exports } from "cloudflare:workers";
import { IcebergError, IcebergRestCatalog } from "iceberg-js";
import { beforeAll, describe, expect, it } from "vitest";
import { lakeKey } from "../../src/lake/objects.ts";
import { ok } from "./helpers.ts";
import { appendSnapshot, eventSchema, icebergBase, jsonWithLongs, tieredTable } from "./iceberg-helpers.ts";

/** The Worker as iceberg-js's fetch: its requests go straight to the fetch handler. */
const workerFetch: typeof fetch = async (input, init) => {
  const body = typeof init?.body === "string" ? init.body : undefined;
  return exports.default.fetch(new Request(input as string, { ...init, body }));
};

const calls: string[] = [];
const recordingFetch: typeof fetch = async (input, init) => {
  calls.push(`${init?.method ?? "GET"} ${new URL(input as string).pathname}`);
  return workerFetch(input, init);
};

const withWarehouse = new IcebergRestCatalog({ baseUrl: icebergBase, warehouse: "floe", auth: { type: "none" }, fetch: recordingFetch });
const withoutWarehouse = new IcebergRestCatalog({ baseUrl: icebergBase, auth: { type: "none" }, fetch: workerFetch });

beforeAll(async () => {
  await tieredTable("js_shop", "clicks");
});

async function refusal(promise: Promise<unknown>): Promise<IcebergError> {
  const error = await promise.then(() => null, (e: unknown) => e);
  expect(error).toBeInstanceOf(IcebergError);
  return error as IcebergError;
}

describe("iceberg-js", () => {
  it("reads the configuration and uses the prefix it hands out", async () => {
    const { namespaces } = await withWarehouse.listNamespaces();
    expect(namespaces).toContainEqual({ namespace: ["js_shop"] });
    expect(calls.slice(0, 2)).toEqual(["GET /iceberg/v1/config", "GET /iceberg/v1/floe/namespaces"]);
    expect((await withoutWarehouse.listNamespaces()).namespaces).toContainEqual({ namespace: ["js_shop"] });
  });

  it("pages namespaces", async () => {
    for (const name of ["js_p1", "js_p2", "js_p3"]) await ok("PUT", `/databases/${name}`);
    const seen: string[][] = [];
    let pageToken: string | undefined;
    do {
      const page = await withWarehouse.listNamespaces({ pageSize: 2, pageToken });
      expect(page.namespaces.length).toBeLessThanOrEqual(2);
      seen.push(...page.namespaces.map((n) => n.namespace));
      pageToken = page.nextPageToken;
    } while (pageToken);
    expect(seen).toEqual((await withWarehouse.listNamespaces()).namespaces.map((n) => n.namespace));
  });

  it("creates, loads and checks namespaces", async () => {
    await withWarehouse.createNamespace({ namespace: ["js_new"] }, { properties: { owner: "js" } });
    expect(await withWarehouse.loadNamespaceMetadata({ namespace: ["js_new"] })).toEqual({ properties: { owner: "js" } });
    expect(await withWarehouse.namespaceExists({ namespace: ["js_new"] })).toBe(true);
    expect(await withWarehouse.namespaceExists({ namespace: ["js_none"] })).toBe(false);
    const error = await refusal(withWarehouse.createNamespace({ namespace: ["js_new"] }));
    expect([error.status, error.icebergType, error.icebergCode]).toEqual([409, "AlreadyExistsException", 409]);
    await withWarehouse.dropNamespace({ namespace: ["js_new"] });
    expect(await withWarehouse.namespaceExists({ namespace: ["js_new"] })).toBe(false);
  });

  it("lists and loads a tiered Floe table, whose metadata is what Floe wrote", async () => {
    const { identifiers } = await withWarehouse.listTables({ namespace: ["js_shop"] });
    expect(identifiers).toEqual([{ namespace: ["js_shop"], name: "clicks" }]);
    expect(await withWarehouse.tableExists({ namespace: ["js_shop"], name: "clicks" })).toBe(true);
    expect(await withWarehouse.tableExists({ namespace: ["js_shop"], name: "none" })).toBe(false);
    const result = (await withWarehouse.loadTableResult({ namespace: ["js_shop"], name: "clicks" }))!;
    const location = (await ok("GET", "/databases/js_shop/tables/clicks")).lakeSnapshot.metadataLocation;
    expect(result["metadata-location"]).toBe(location);
    const written = JSON.parse(await (await env.LAKE.get(lakeKey(env, location)))!.text());
    expect(result.metadata).toEqual(written);
    expect(await withoutWarehouse.loadTable({ namespace: ["js_shop"], name: "clicks" })).toEqual(written);
    expect(result.etag).toMatch(/^"/);
    expect(await withWarehouse.loadTableResult({ namespace: ["js_shop"], name: "clicks" }, { ifNoneMatch: result.etag! })).toBeNull();
  });

  it("is refused commits, drops and renames of Floe's tables", async () => {
    const id = { namespace: ["js_shop"], name: "clicks" };
    const commit = await refusal(withWarehouse.commitTable(id, { requirements: [], updates: [{ action: "set-properties", updates: { a: "b" } }] }));
    expect([commit.status, commit.icebergType]).toEqual([403, "ForbiddenException"]);
    expect(commit.message).toMatch(/use Floe's API/);
    expect((await refusal(withWarehouse.dropTable(id))).status).toBe(403);
    expect((await refusal(withWarehouse.renameTable({ source: id, destination: { namespace: ["js_shop"], name: "x" } }))).status).toBe(403);
  });

  it("creates an external table and commits a snapshot to it; a conflicting commit gets 409", async () => {
    const ns = { namespace: ["js_shop"] };
    const id = { ...ns, name: "external" };
    const created = await withWarehouse.createTable(ns, { name: "external", schema: eventSchema as never, properties: { owner: "js" } });
    expect(created["format-version"]).toBe(2);
    expect(created.properties).toEqual({ owner: "js" });
    const snapshot = appendSnapshot(101, 1);
    const commit = {
      requirements: [{ type: "assert-ref-snapshot-id", ref: "main", "snapshot-id": null }],
      updates: [
        { action: "add-snapshot", snapshot },
        { action: "set-snapshot-ref", "ref-name": "main", type: "branch", "snapshot-id": 101 },
      ],
    };
    const committed = await withWarehouse.commitTable(id, commit as never);
    expect(committed["metadata-location"]).toMatch(/^s3:\/\/floe-lake\/js_shop\/external-.*\/metadata\/00002-/);
    expect(committed.metadata["current-snapshot-id"]).toBe(101);
    const loaded = await withWarehouse.loadTable(id);
    expect(loaded!.snapshots).toEqual([expect.objectContaining({ "snapshot-id": 101, "sequence-number": 1 })]);
    const conflict = await refusal(withWarehouse.commitTable(id, { ...commit, updates: [{ action: "add-snapshot", snapshot: appendSnapshot(102, 1) }] } as never));
    expect([conflict.status, conflict.icebergType, conflict.icebergCode]).toEqual([409, "CommitFailedException", 409]);
    expect((await withWarehouse.loadTable(id))!["current-snapshot-id"]).toBe(101);
    expect((await withWarehouse.listTables(ns)).identifiers.map((i) => i.name)).toEqual(["clicks", "external"]);
  });

  it("registers, renames and drops an external table", async () => {
    const ns = { namespace: ["js_shop"] };
    const created = await withWarehouse.createTableResult(ns, { name: "to_register", schema: eventSchema as never });
    const registered = await withWarehouse.registerTable(ns, { name: "registered", "metadata-location": created["metadata-location"]! });
    expect(registered["table-uuid"]).toBe(created.metadata["table-uuid"]);
    await withWarehouse.renameTable({ source: { ...ns, name: "registered" }, destination: { ...ns, name: "renamed" } });
    expect(await withWarehouse.tableExists({ ...ns, name: "renamed" })).toBe(true);
    await withWarehouse.dropTable({ ...ns, name: "renamed" });
    expect(await withWarehouse.tableExists({ ...ns, name: "renamed" })).toBe(false);
    const purge = await refusal(withWarehouse.dropTable({ ...ns, name: "to_register" }, { purge: true }));
    expect([purge.status, purge.icebergType]).toEqual([400, "BadRequestException"]);
  });

  it("keeps 64-bit snapshot ids exact in what it sends (the server reads them exactly)", async () => {
    const id = { namespace: ["js_shop"], name: "wide_ids" };
    await withWarehouse.createTable({ namespace: ["js_shop"] }, { name: "wide_ids", schema: eventSchema as never });
    const big = 9_123_456_789_012_345_678n;
    const body = jsonWithLongs({ requirements: [], updates: [{ action: "add-snapshot", snapshot: appendSnapshot(big, 1) }, { action: "set-snapshot-ref", "ref-name": "main", type: "branch", "snapshot-id": big }] });
    const response = await workerFetch(`${icebergBase}/v1/floe/namespaces/js_shop/tables/wide_ids`, { method: "POST", body, headers: { "content-type": "application/json" } });
    expect(response.status).toBe(200);
    expect(await response.text()).toContain(`"current-snapshot-id":${big}`);
    // iceberg-js parses with JSON.parse, so it sees the id rounded; the catalog's own copy stays exact.
    expect(typeof (await withWarehouse.loadTable(id))!["current-snapshot-id"]).toBe("number");
  });
});
