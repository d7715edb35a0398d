/** Calling the Iceberg REST catalog (`/iceberg`) as an engine would, and making tiered Floe tables to load. */
import { exports } from "cloudflare:workers";
import { fetchWithEnv, ok } from "./helpers.ts";

export const icebergBase = "http://floe.test/iceberg";

export interface IcebergAnswer {
  status: number;
  /** Parsed JSON (64-bit ids above 2^53 lose precision here: check `text` for them). */
  body: any;
  text: string;
  headers: Headers;
}

/** JSON text of `body`, BigInts written as exact digits (as engines send snapshot ids). */
export function jsonWithLongs(body: unknown): string {
  return JSON.stringify(body, (_k, v) => (typeof v === "bigint" ? `__long:${v}__` : v)).replace(/"__long:(-?\d+)__"/g, "$1");
}

export function icebergRequest(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Request {
  const init: RequestInit = { method, headers: { ...headers } };
  if (typeof body === "string") init.body = body;
  else if (body !== undefined) {
    init.body = jsonWithLongs(body);
    (init.headers as Record<string, string>)["content-type"] ??= "application/json";
  }
  return new Request(`${icebergBase}${path}`, init);
}

/** Calls the catalog; `env` replaces bindings (to turn access control on). */
export async function iceberg(method: string, path: string, body?: unknown, headers: Record<string, string> = {}, env?: Record<string, string>): Promise<IcebergAnswer> {
  const request = icebergRequest(method, path, body, headers);
  const response = env ? await fetchWithEnv(env, request) : await exports.default.fetch(request);
  const text = await response.text();
  const json = (response.headers.get("content-type") ?? "").startsWith("application/json") && text !== "";
  return { status: response.status, body: json ? JSON.parse(text) : undefined, text, headers: response.headers };
}

export async function icebergOk(method: string, path: string, body?: unknown, headers?: Record<string, string>): Promise<any> {
  const answer = await iceberg(method, path, body, headers);
  if (answer.status >= 300) throw new Error(`${method} ${path} answered ${answer.status}: ${answer.text}`);
  return answer.body;
}

export const lakeTableDefinition = {
  columns: [{ name: "id", type: "BIGINT" }, { name: "user", type: "STRING" }],
  bucket: { num: 2, key: ["user"] },
  properties: { "table.datalake.enabled": "true" },
};

/** A lake-enabled Floe table with rows, tiered once: it has Iceberg metadata. */
export async function tieredTable(db: string, table: string, rows = [{ id: 1, user: "ann" }, { id: 2, user: "bob" }]): Promise<void> {
  await ok("PUT", `/databases/${db}`);
  await ok("PUT", `/databases/${db}/tables/${table}`, lakeTableDefinition);
  await ok("POST", `/databases/${db}/tables/${table}/rows`, rows);
  await ok("POST", "/tiering/run");
}

/** A schema as engines send it in a create. */
export const eventSchema = {
  type: "struct",
  "schema-id": 0,
  fields: [
    { id: 1, name: "id", type: "long", required: true },
    { id: 2, name: "payload", type: "string", required: false },
    { id: 3, name: "tags", type: { type: "list", "element-id": 4, element: "string", "element-required": false }, required: false },
  ],
  "identifier-field-ids": [1],
};

/** An append snapshot as an engine commits it (its manifest list need not exist for the catalog). */
export function appendSnapshot(id: bigint | number, sequenceNumber: number, parent?: bigint | number): Record<string, unknown> {
  return {
    "snapshot-id": id,
    ...(parent === undefined ? {} : { "parent-snapshot-id": parent }),
    "sequence-number": sequenceNumber,
    "timestamp-ms": Date.now(),
    "manifest-list": `s3://floe-lake/manifests/snap-${id}.avro`,
    summary: { operation: "append", "added-data-files": "1", "added-records": "10" },
    "schema-id": 0,
  };
}

/** The updates that append `snapshot` to main, with the requirement that main is still at `parent` (null: no main yet). */
export function appendCommit(snapshot: Record<string, unknown>, parent: bigint | number | null): Record<string, unknown> {
  return {
    requirements: [{ type: "assert-ref-snapshot-id", ref: "main", "snapshot-id": parent }],
    updates: [
      { action: "add-snapshot", snapshot },
      { action: "set-snapshot-ref", "ref-name": "main", type: "branch", "snapshot-id": snapshot["snapshot-id"] },
    ],
  };
}
