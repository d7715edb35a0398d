/**
 * Bad input to every Iceberg catalog route that takes a body or a query:
 * each answer is a 4xx in the spec's error shape, and the catalog (the
 * namespaces, the tables and every table's metadata location) is unchanged.
 */
import { beforeAll, expect, it } from "vitest";
import { appendCommit, appendSnapshot, eventSchema, iceberg, icebergOk, tieredTable } from "./iceberg-helpers.ts";
import { expectShape } from "./iceberg-spec.ts";

const p = "/v1/floe";
const ns = "bad_in";

const malformedBodies: unknown[] = [
  "{", "[]", "null", "42", '"text"', "{}", { namespace: "bad_in" }, { name: 7 }, { name: "x", schema: [] },
  { requirements: {}, updates: [] }, { requirements: [], updates: {} }, { requirements: [null], updates: [] },
  { requirements: [], updates: [null] }, { requirements: [], updates: [{}] }, { requirements: [], updates: [{ action: 7 }] },
  { requirements: [{ type: "assert-current-schema-id", "current-schema-id": "0" }], updates: [] },
  { requirements: [], updates: [{ action: "add-snapshot", snapshot: { "snapshot-id": 1.5 } }] },
  { requirements: [], updates: [{ action: "set-properties", updates: { a: 1 } }] },
  { requirements: [], updates: [{ action: "add-schema", schema: { type: "struct", fields: [{ id: "1", name: "a", type: "int", required: true }] } }] },
  { "table-changes": {} }, { "table-changes": [{ identifier: { namespace: "bad_in", name: "t" }, requirements: [], updates: [] }] },
  { source: { namespace: [ns], name: "t" } }, { updates: { a: 1 } }, { removals: "a" }, { name: "t", "metadata-location": 5 },
];

const routes: [string, string][] = [
  ["POST", `${p}/namespaces`],
  ["POST", `${p}/namespaces/${ns}/properties`],
  ["POST", `${p}/namespaces/${ns}/tables`],
  ["POST", `${p}/namespaces/${ns}/register`],
  ["POST", `${p}/namespaces/${ns}/tables/ext`],
  ["POST", `${p}/namespaces/${ns}/tables/floe_table/metrics`],
  ["POST", `${p}/tables/rename`],
  ["POST", `${p}/transactions/commit`],
];

const badQueries = [
  `${p}/namespaces?pageSize=-1`, `${p}/namespaces?pageToken=%%%`, `${p}/namespaces/${ns}/tables?pageSize=1.5`,
  `${p}/namespaces/${ns}/tables/ext?snapshots=none`, `${p}/namespaces/${ns}/tables/ext?purgeRequested=maybe`,
  `${p}/namespaces/bad-name/tables`, `${p}/namespaces/${ns}/tables/bad-name`, "/v1/config?warehouse=nope",
];

async function catalogState(): Promise<unknown> {
  const namespaces = (await icebergOk("GET", `${p}/namespaces`)).namespaces;
  const tables = (await icebergOk("GET", `${p}/namespaces/${ns}/tables`)).identifiers;
  const locations = await Promise.all(tables.map(async (t: { name: string }) => (await icebergOk("GET", `${p}/namespaces/${ns}/tables/${t.name}`))["metadata-location"]));
  const properties = (await icebergOk("GET", `${p}/namespaces/${ns}`)).properties;
  return { namespaces, tables, locations, properties };
}

beforeAll(async () => {
  await tieredTable(ns, "floe_table");
  await icebergOk("POST", `${p}/namespaces/${ns}/tables`, { name: "ext", schema: eventSchema });
  await icebergOk("POST", `${p}/namespaces/${ns}/tables/ext`, appendCommit(appendSnapshot(5, 1), null));
});

it("answers every malformed body with a 4xx in the spec's shape and changes nothing", async () => {
  const before = await catalogState();
  for (const [method, path] of routes) {
    for (const body of malformedBodies) {
      const answer = await iceberg(method, path, typeof body === "string" ? body : body, { "content-type": "application/json" });
      const what = `${method} ${path} ${JSON.stringify(body)}: ${answer.text}`;
      // Some of these are valid properties requests that change nothing (empty updates, unknown fields).
      if (path.endsWith("/properties") && answer.status === 200) continue;
      expect(answer.status, what).toBeGreaterThanOrEqual(400);
      expect(answer.status, what).toBeLessThan(500);
      expectShape(answer.body, "IcebergErrorResponse");
      expect(answer.body.error.code).toBe(answer.status);
    }
  }
  expect(await catalogState()).toEqual(before);
});

it("answers every bad query or name with a 400 in the spec's shape", async () => {
  for (const path of badQueries) {
    const method = path.includes("purgeRequested") ? "DELETE" : "GET";
    const answer = await iceberg(method, path);
    expect(answer.status, `${path}: ${answer.text}`).toBe(400);
    expectShape(answer.body, "IcebergErrorResponse");
  }
});
