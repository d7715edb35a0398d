/**
 * The Iceberg REST catalog against the spec: configuration, namespaces
 * (Floe databases), paging, and loading tiered Floe tables (exact metadata,
 * ETag and 304, snapshots=refs). Every answer, success or error, is checked
 * against the spec's response shapes (iceberg-spec.ts).
 */
import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { lakeKey } from "../../src/lake/objects.ts";
import { ok } from "./helpers.ts";
import { iceberg, icebergOk, lakeTableDefinition, tieredTable } from "./iceberg-helpers.ts";
import { expectIcebergError, expectLoadTableResult, expectShape } from "./iceberg-spec.ts";

const p = "/v1/floe";

describe("configuration", () => {
  it("hands out the prefix and the endpoints served, for no warehouse, floe or the lake's URI", async () => {
    for (const query of ["", "?warehouse=floe", `?warehouse=${encodeURIComponent("s3://floe-lake")}`]) {
      const answer = await iceberg("GET", `/v1/config${query}`);
      expect(answer.status).toBe(200);
      expectShape(answer.body, "CatalogConfig");
      expect(answer.body.overrides.prefix).toBe("floe");
      expect(answer.body.endpoints).toContain("POST /v1/{prefix}/transactions/commit");
      expect(answer.body.endpoints).toContain("HEAD /v1/{prefix}/namespaces/{namespace}/tables/{table}");
      expect(answer.body.endpoints.some((e: string) => e.includes("/views"))).toBe(false);
    }
  });

  it("refuses an unknown warehouse naming the one it serves", async () => {
    expectIcebergError(await iceberg("GET", "/v1/config?warehouse=other"), 400, "BadRequestException", /one warehouse, 'floe'/);
  });

  it("answers the deprecated OAuth2 token endpoint 400 in the OAuth error shape", async () => {
    const answer = await iceberg("POST", "/v1/oauth/tokens", "grant_type=client_credentials&client_id=a&client_secret=b", {
      "content-type": "application/x-www-form-urlencoded",
    });
    expect(answer.status).toBe(400);
    expectShape(answer.body, "OAuthError");
    expect(answer.body.error_description).toMatch(/token=<token>/);
  });

  it("serves the catalog routes both under the prefix and without one", async () => {
    await ok("PUT", "/databases/both");
    for (const base of ["/v1", p]) expectShape(await icebergOk("GET", `${base}/namespaces/both`), "GetNamespaceResponse");
  });

  it("answers a path no route takes 404 in the spec's shape", async () => {
    expectIcebergError(await iceberg("GET", "/v1/other/namespaces"), 404, "NotFoundException", /prefix is 'floe'/);
  });
});

describe("namespaces", () => {
  it("creates a namespace as a Floe database, with properties, once", async () => {
    const created = await iceberg("POST", `${p}/namespaces`, { namespace: ["ns_create"], properties: { owner: "ann" } });
    expect(created.status).toBe(200);
    expectShape(created.body, "CreateNamespaceResponse");
    expect(created.body).toEqual({ namespace: ["ns_create"], properties: { owner: "ann" } });
    expect((await ok("GET", "/databases")).databases.map((d: { name: string }) => d.name)).toContain("ns_create");
    expectIcebergError(await iceberg("POST", `${p}/namespaces`, { namespace: ["ns_create"] }), 409, "AlreadyExistsException");
  });

  it.each([
    ["two levels", { namespace: ["a", "b"] }, /exactly one level/],
    ["a bad name", { namespace: ["bad-name"] }, /namespace name must match/],
    ["no namespace", { properties: {} }, /namespace must be an array/],
    ["a property that is not a string", { namespace: ["ns_x"], properties: { a: 1 } }, /properties.a must be a string/],
  ])("refuses a create with %s", async (_what, body, message) => {
    expectIcebergError(await iceberg("POST", `${p}/namespaces`, body), 400, "BadRequestException", message);
    expect((await icebergOk("GET", `${p}/namespaces`)).namespaces).not.toContainEqual(["ns_x"]);
  });

  it("refuses malformed JSON and other content types", async () => {
    expectIcebergError(await iceberg("POST", `${p}/namespaces`, "{nope", { "content-type": "application/json" }), 400, "BadRequestException", /malformed JSON/);
    const answer = await iceberg("POST", `${p}/namespaces`, "x", { "content-type": "text/plain" });
    expect(answer.status).toBe(415);
    expectShape(answer.body, "IcebergErrorResponse");
  });

  it("loads a namespace and its properties, and answers HEAD 204 or 404", async () => {
    await icebergOk("POST", `${p}/namespaces`, { namespace: ["ns_load"], properties: { a: "1" } });
    const loaded = await iceberg("GET", `${p}/namespaces/ns_load`);
    expectShape(loaded.body, "GetNamespaceResponse");
    expect(loaded.body).toEqual({ namespace: ["ns_load"], properties: { a: "1" } });
    expect((await iceberg("HEAD", `${p}/namespaces/ns_load`)).status).toBe(204);
    expect((await iceberg("HEAD", `${p}/namespaces/ns_none`)).status).toBe(404);
    expectIcebergError(await iceberg("GET", `${p}/namespaces/ns_none`), 404, "NoSuchNamespaceException");
    expectIcebergError(await iceberg("GET", `${p}/namespaces/ns_load%1Fchild`), 404, "NoSuchNamespaceException");
    expectIcebergError(await iceberg("GET", `${p}/namespaces/bad-name`), 400, "BadRequestException");
  });

  it("updates and removes properties, saying which were missing, and refuses a key in both", async () => {
    await icebergOk("POST", `${p}/namespaces`, { namespace: ["ns_props"], properties: { keep: "1", drop: "2" } });
    const answer = await iceberg("POST", `${p}/namespaces/ns_props/properties`, { updates: { keep: "3", add: "4" }, removals: ["drop", "absent"] });
    expectShape(answer.body, "UpdateNamespacePropertiesResponse");
    expect(answer.body).toEqual({ updated: ["keep", "add"], removed: ["drop"], missing: ["absent"] });
    expect((await icebergOk("GET", `${p}/namespaces/ns_props`)).properties).toEqual({ add: "4", keep: "3" });
    expectIcebergError(await iceberg("POST", `${p}/namespaces/ns_props/properties`, { updates: { a: "1" }, removals: ["a"] }), 422, "UnprocessableEntityException");
    expectIcebergError(await iceberg("POST", `${p}/namespaces/ns_nothing/properties`, { updates: { a: "1" } }), 404, "NoSuchNamespaceException");
    expect((await icebergOk("GET", `${p}/namespaces/ns_props`)).properties).toEqual({ add: "4", keep: "3" });
  });

  it("drops only an empty namespace, and its properties go with it", async () => {
    await icebergOk("POST", `${p}/namespaces`, { namespace: ["ns_drop"], properties: { a: "1" } });
    await ok("PUT", "/databases/ns_drop/tables/t", lakeTableDefinition);
    expectIcebergError(await iceberg("DELETE", `${p}/namespaces/ns_drop`), 409, "NamespaceNotEmptyException");
    await ok("DELETE", "/databases/ns_drop/tables/t");
    expect((await iceberg("DELETE", `${p}/namespaces/ns_drop`)).status).toBe(204);
    expectIcebergError(await iceberg("DELETE", `${p}/namespaces/ns_drop`), 404, "NoSuchNamespaceException");
    await icebergOk("POST", `${p}/namespaces`, { namespace: ["ns_drop"] });
    expect((await icebergOk("GET", `${p}/namespaces/ns_drop`)).properties).toEqual({});
  });

  it("lists children of a namespace as none, and 404 for a parent that does not exist", async () => {
    await ok("PUT", "/databases/ns_parent");
    expect(await icebergOk("GET", `${p}/namespaces?parent=ns_parent`)).toEqual({ namespaces: [], "next-page-token": null });
    expectIcebergError(await iceberg("GET", `${p}/namespaces?parent=ns_nowhere`), 404, "NoSuchNamespaceException");
    expectIcebergError(await iceberg("GET", `${p}/namespaces?parent=ns_parent%1Fx`), 404, "NoSuchNamespaceException");
  });
});

describe("paging", () => {
  beforeAll(async () => {
    for (const name of ["pg_a", "pg_b", "pg_c", "pg_d", "pg_e"]) await ok("PUT", `/databases/${name}`);
  });

  it("lists every namespace once across pages, and all at once without paging", async () => {
    const everything = await icebergOk("GET", `${p}/namespaces`);
    expectShape(everything, "ListNamespacesResponse");
    expect(everything["next-page-token"]).toBeNull();
    const seen: string[][] = [];
    let query = "pageToken=&pageSize=2";
    for (let pages = 0; ; pages++) {
      const page = await icebergOk("GET", `${p}/namespaces?${query}`);
      expectShape(page, "ListNamespacesResponse");
      expect(page.namespaces.length).toBeLessThanOrEqual(2);
      seen.push(...page.namespaces);
      if (page["next-page-token"] === null) break;
      query = `pageToken=${encodeURIComponent(page["next-page-token"])}&pageSize=2`;
      expect(pages).toBeLessThan(100);
    }
    expect(seen).toEqual(everything.namespaces);
    expect(seen).toContainEqual(["pg_c"]);
  });

  it("pages tables the same way", async () => {
    for (const name of ["t1", "t2", "t3"]) await tieredTable("pg_tables", name, [{ id: 1, user: "ann" }]);
    const first = await icebergOk("GET", `${p}/namespaces/pg_tables/tables?pageSize=2`);
    expectShape(first, "ListTablesResponse");
    expect(first.identifiers.map((i: { name: string }) => i.name)).toEqual(["t1", "t2"]);
    const second = await icebergOk("GET", `${p}/namespaces/pg_tables/tables?pageSize=2&pageToken=${first["next-page-token"]}`);
    expect(second).toEqual({ identifiers: [{ namespace: ["pg_tables"], name: "t3" }], "next-page-token": null });
  });

  it.each([
    ["a token it never gave out", "pageToken=bm9wZQ"],
    ["a page size of 0", "pageSize=0"],
    ["a page size that is not a number", "pageSize=ten"],
  ])("refuses %s", async (_what, query) => {
    expectIcebergError(await iceberg("GET", `${p}/namespaces?${query}`), 400, "BadRequestException");
  });
});

describe("Floe's tables", () => {
  beforeAll(async () => {
    await tieredTable("floe_shop", "events");
    await ok("PUT", "/databases/floe_shop/tables/untiered", lakeTableDefinition);
    await ok("PUT", "/databases/floe_shop/tables/hot_only", { columns: [{ name: "id", type: "BIGINT" }], bucket: { num: 1 } });
  });

  it("lists the tables that have tiered", async () => {
    const listed = await icebergOk("GET", `${p}/namespaces/floe_shop/tables`);
    expectShape(listed, "ListTablesResponse");
    expect(listed).toEqual({ identifiers: [{ namespace: ["floe_shop"], name: "events" }], "next-page-token": null });
    expectIcebergError(await iceberg("GET", `${p}/namespaces/nowhere/tables`), 404, "NoSuchNamespaceException");
  });

  it("loads a tiered table's metadata exactly as Floe wrote it, with its location", async () => {
    const described = await ok("GET", "/databases/floe_shop/tables/events");
    const location = described.lakeSnapshot.metadataLocation;
    const answer = await iceberg("GET", `${p}/namespaces/floe_shop/tables/events`);
    expect(answer.status).toBe(200);
    expectLoadTableResult(answer.body);
    expect(answer.body["metadata-location"]).toBe(location);
    const written = await (await env.LAKE.get(lakeKey(env, location)))!.text();
    expect(answer.text).toContain(`"metadata":${written}`);
    expect(answer.body.metadata).toEqual(JSON.parse(written));
    expect(answer.body.config).toEqual({});
    expect(answer.headers.get("etag")).toMatch(/^"[0-9a-f]{32}"$/);
  });

  it("answers 304 while the metadata is unchanged, and the new metadata once it changed", async () => {
    const first = await iceberg("GET", `${p}/namespaces/floe_shop/tables/events`);
    const etag = first.headers.get("etag")!;
    const unchanged = await iceberg("GET", `${p}/namespaces/floe_shop/tables/events`, undefined, { "If-None-Match": etag });
    expect(unchanged.status).toBe(304);
    expect(unchanged.text).toBe("");
    expect(unchanged.headers.get("etag")).toBe(etag);
    await ok("POST", "/databases/floe_shop/tables/events/rows", [{ id: 3, user: "cyd" }]);
    await ok("POST", "/tiering/run");
    const changed = await iceberg("GET", `${p}/namespaces/floe_shop/tables/events`, undefined, { "If-None-Match": etag });
    expect(changed.status).toBe(200);
    expect(changed.body["metadata-location"]).not.toBe(first.body["metadata-location"]);
    expect(changed.headers.get("etag")).not.toBe(etag);
    expect(changed.body.metadata.snapshots.length).toBe(first.body.metadata.snapshots.length + 1);
  });

  it("answers only the snapshots refs name for snapshots=refs, under its own ETag", async () => {
    const all = await iceberg("GET", `${p}/namespaces/floe_shop/tables/events?snapshots=all`);
    const refs = await iceberg("GET", `${p}/namespaces/floe_shop/tables/events?snapshots=refs`);
    expectLoadTableResult(refs.body);
    expect(all.body.metadata.snapshots.length).toBeGreaterThan(1);
    const main = all.body.metadata.refs.main["snapshot-id"];
    expect(refs.body.metadata.snapshots.map((s: { "snapshot-id": number }) => s["snapshot-id"])).toEqual([main]);
    expect(refs.headers.get("etag")).not.toBe(all.headers.get("etag"));
    expect((await iceberg("GET", `${p}/namespaces/floe_shop/tables/events?snapshots=refs`, undefined, { "If-None-Match": refs.headers.get("etag")! })).status).toBe(304);
    expectIcebergError(await iceberg("GET", `${p}/namespaces/floe_shop/tables/events?snapshots=some`), 400, "BadRequestException");
  });

  it("answers 404 NoSuchTableException saying why for a table without a lake", async () => {
    expectIcebergError(await iceberg("GET", `${p}/namespaces/floe_shop/tables/untiered`), 404, "NoSuchTableException", /not tiered yet/);
    expectIcebergError(await iceberg("GET", `${p}/namespaces/floe_shop/tables/hot_only`), 404, "NoSuchTableException", /table.datalake.enabled/);
    expectIcebergError(await iceberg("GET", `${p}/namespaces/floe_shop/tables/nothing`), 404, "NoSuchTableException");
    expectIcebergError(await iceberg("GET", `${p}/namespaces/nowhere/tables/events`), 404, "NoSuchNamespaceException");
    expect((await iceberg("HEAD", `${p}/namespaces/floe_shop/tables/events`)).status).toBe(204);
    for (const table of ["untiered", "hot_only", "nothing"]) expect((await iceberg("HEAD", `${p}/namespaces/floe_shop/tables/${table}`)).status).toBe(404);
  });

  it("accepts metrics reports, and answers no credentials without configured ones", async () => {
    const report = { "report-type": "scan-report", "table-name": "floe_shop.events", "snapshot-id": 1, filter: true, "schema-id": 0, "projected-field-ids": [], "projected-field-names": [], metrics: {} };
    expect((await iceberg("POST", `${p}/namespaces/floe_shop/tables/events/metrics`, report)).status).toBe(204);
    expectIcebergError(await iceberg("POST", `${p}/namespaces/floe_shop/tables/nothing/metrics`, report), 404, "NoSuchTableException");
    const credentials = await iceberg("GET", `${p}/namespaces/floe_shop/tables/events/credentials`);
    expectShape(credentials.body, "LoadCredentialsResponse");
    expect(credentials.body).toEqual({ "storage-credentials": [] });
  });

  it("hands out R2's S3 endpoint, and vends the configured key to a client that asks", async () => {
    const deployed = { FLOE_ENV: "development", R2_S3_ENDPOINT: "https://acct.r2.cloudflarestorage.com", R2_ACCESS_KEY_ID: "key-id", R2_SECRET_ACCESS_KEY: "key-secret" };
    const path = `${p}/namespaces/floe_shop/tables/events`;
    const plain = await iceberg("GET", path, undefined, {}, deployed);
    expectLoadTableResult(plain.body);
    expect(plain.body.config).toEqual({ "s3.endpoint": "https://acct.r2.cloudflarestorage.com", "s3.path-style-access": "true", "client.region": "auto", "s3.region": "auto" });
    expect(plain.body["storage-credentials"]).toBeUndefined();
    const vended = await iceberg("GET", path, undefined, { "X-Iceberg-Access-Delegation": "vended-credentials" }, deployed);
    expectLoadTableResult(vended.body);
    expect(vended.body["storage-credentials"]).toEqual([{ prefix: vended.body.metadata.location, config: expect.objectContaining({ "s3.access-key-id": "key-id", "s3.secret-access-key": "key-secret" }) }]);
    expect(vended.body.config["s3.access-key-id"]).toBe("key-id");
    const credentials = await iceberg("GET", `${path}/credentials`, undefined, {}, deployed);
    expect(credentials.body["storage-credentials"][0].prefix).toBe(vended.body.metadata.location);
  });
});
