/**
 * The HTTP walk-through (docs/http-api.md) against the real server, across a restart.
 * This is what catches code that only works inside the test pool (which
 * patches `new Function`): here every request runs in plain workerd.
 */
import * as arrow from "apache-arrow";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { eventsDefinition } from "../fixtures.ts";
import { freePort, startServer, type RunningServer } from "./server.ts";
import { subscribe, type SubscriptionError } from "../../src/client/subscribe.ts";
import { floe } from "./cli.ts";

async function until(check: () => boolean): Promise<void> {
  const deadline = Date.now() + 15_000;
  while (!check()) {
    if (Date.now() > deadline) throw new Error("timed out");
    await new Promise((r) => setTimeout(r, 20));
  }
}

const state = mkdtempSync(join(tmpdir(), "floe-smoke-"));
let server: RunningServer | undefined;
afterAll(async () => {
  await server?.stop();
  rmSync(state, { recursive: true, force: true });
});

async function call(method: string, path: string, body?: string | Uint8Array, type = "application/json"): Promise<{ status: number; body: any }> {
  const response = await fetch(`${server!.url}/v1${path}`, {
    method,
    body,
    headers: body === undefined ? {} : { "content-type": type },
  });
  const contentType = response.headers.get("content-type") ?? "";
  return {
    status: response.status,
    body: contentType.startsWith("application/json") ? await response.json() : new Uint8Array(await response.arrayBuffer()),
  };
}


/** Arrow input with a null, built by apache-arrow in Node (where its builders may use `new Function`). */
function arrowRows(): Uint8Array {
  const table = new arrow.Table({
    id: arrow.vectorFromArray([6n, 7n], new arrow.Int64()),
    user: arrow.vectorFromArray(["eve", "ann"], new arrow.Utf8()),
    amount: arrow.vectorFromArray([new Uint32Array([700, 0, 0, 0]), new Uint32Array([5, 0, 0, 0])], new arrow.Decimal(2, 10, 128)),
    ts: arrow.vectorFromArray([1764000000000, 1764000001000], new arrow.TimestampMicrosecond("UTC")),
    tags: arrow.vectorFromArray([null, "vip"], new arrow.Utf8()),
  });
  return arrow.tableToIPC(table, "stream");
}

/** Runs `floe tail` until it exits, or until `stop` holds of its stderr (then it gets SIGINT). */
async function runCli(url: string, table: string, stop: (stderr: string) => boolean = () => false): Promise<{ code: number | null; stderr: string }> {
  return floe(["tail", table], { FLOE_URL: url }, (run) => stop(run.stderr));
}

async function everyRow(): Promise<unknown[]> {
  const rows: unknown[] = [];
  for (let bucket = 0; bucket < 4; bucket++) {
    const page = await call("GET", `/databases/shop/tables/events/log?bucket=${bucket}&offset=0&limit=100`);
    expect(page.status).toBe(200);
    rows.push(...page.body.rows);
  }
  return rows;
}

describe("the HTTP walk-through on wrangler dev", () => {
  it("creates, writes in three encodings, reads, describes, and survives a restart", async () => {
    server = await startServer(state);
    // `npm start` runs open, and the Worker says so when it loads.
    expect(server.output()).toMatch(/"event":"access_open"/);
    expect((await call("PUT", "/databases/shop")).status).toBe(201);
    expect((await call("PUT", "/databases/shop/tables/events", JSON.stringify(eventsDefinition))).status).toBe(201);

    const json = await call("POST", "/databases/shop/tables/events/rows", JSON.stringify([
      { id: 1, user: "ann", amount: "12.50", ts: "2026-11-24T10:00:00.123Z", tags: null },
      { id: 2, user: "bob", amount: "3.10", ts: 1764000000000 },
      { id: 3, user: "cid", amount: "0.01", ts: "2026-11-24T10:00:01Z", tags: "new" },
    ]));
    expect(json.status).toBe(200);
    const ndjson = await call(
      "POST",
      "/databases/shop/tables/events/rows",
      '{"id":4,"user":"dan","amount":"1","ts":"2026-11-24T10:00:02Z"}\n{"id":5,"user":"ann","amount":"2","ts":"2026-11-24T10:00:03Z","tags":null}\n',
      "application/x-ndjson",
    );
    expect(ndjson.status).toBe(200);
    const byArrow = await call("POST", "/databases/shop/tables/events/rows", arrowRows(), "application/vnd.apache.arrow.stream");
    expect(byArrow.status, JSON.stringify(byArrow.body)).toBe(200);
    const counted = [json, ndjson, byArrow].flatMap((w) => w.body.buckets).reduce((n, b) => n + b.count, 0);
    expect(counted).toBe(7);

    let rows = await everyRow();
    expect(rows).toHaveLength(7);
    const projected = await call("GET", "/databases/shop/tables/events/log?bucket=2&offset=0&limit=100&columns=id,amount");
    for (const row of projected.body.rows) expect(Object.keys(row)).toEqual(["id", "amount", "_offset", "_timestamp", "_change"]);
    const asArrow = await call("GET", "/databases/shop/tables/events/log?bucket=2&columns=id,amount&format=arrow");
    expect(arrow.tableFromIPC(asArrow.body as Uint8Array).numRows).toBe(projected.body.rows.length);

    const described = await call("GET", "/databases/shop/tables/events");
    const highWatermarks = described.body.buckets.map((b: { highWatermark: number }) => b.highWatermark);
    expect(highWatermarks.reduce((a: number, b: number) => a + b, 0)).toBe(7);
    expect(described.body.buckets.every((b: { tieredOffset: number }) => b.tieredOffset === 0)).toBe(true);

    const bad = await call("POST", "/databases/shop/tables/events/rows", JSON.stringify([{ id: "x" }]));
    expect(bad.status).toBe(400);
    expect(bad.body.error.code).toBe("bad_request");

    // A subscription through the real server: the backlog, then a live row, Arrow and JSON.
    const received: { bucket: number; rows: number }[] = [];
    const subscription = subscribe({
      url: `${server.url.replace("http", "ws")}/v1/databases/shop/tables/events/subscribe`,
      from: "earliest",
      format: "arrow",
      onBatch: (batch) => {
        received.push({ bucket: batch.bucket, rows: batch.table!.numRows });
      },
    });
    const total = () => received.reduce((n, r) => n + r.rows, 0);
    await until(() => total() === 7);
    await call("POST", "/databases/shop/tables/events/rows", JSON.stringify([{ id: 8, user: "fay", amount: "1", ts: 0 }]));
    await until(() => total() === 8);
    subscription.close();

    // `floe tail` prints every row as a JSON line, with its bucket.
    const tailed = await floe(["tail", "shop.events"], { FLOE_URL: server.url }, (run) => run.stdout.split("\n").length > 8);
    expect(tailed.code).toBe(0);
    const printed = tailed.stdout.trim().split("\n").map((line) => JSON.parse(line));
    expect(printed.map((row) => row.id).sort()).toEqual(["1", "2", "3", "4", "5", "6", "7", "8"].map(Number).sort());
    expect(printed.every((row) => typeof row.bucket === "number" && row._change === "+I")).toBe(true);
    rows = await everyRow();
    expect(rows).toHaveLength(8);
    described.body.buckets = (await call("GET", "/databases/shop/tables/events")).body.buckets;

    // Tiering through the real runtime: Parquet, Avro and metadata written to local R2.
    const lake = { ...eventsDefinition, properties: { "table.datalake.enabled": "true" } };
    expect((await call("PUT", "/databases/shop/tables/lake", JSON.stringify(lake))).status).toBe(201);
    await call("POST", "/databases/shop/tables/lake/rows", JSON.stringify([{ id: 1, user: "a", amount: "1", ts: 0 }]));
    const keyed = { columns: [{ name: "k", type: "INT" }, { name: "v", type: "STRING" }], primaryKey: ["k"], bucket: { num: 2 }, properties: { "table.datalake.enabled": "true" } };
    expect((await call("PUT", "/databases/shop/tables/keyed", JSON.stringify(keyed))).status).toBe(201);
    await call("POST", "/databases/shop/tables/keyed/rows", JSON.stringify([{ k: 1, v: "a" }, { k: 1, v: "b" }, { k: 2, v: "c" }]));
    const tiered = await call("POST", "/tiering/run");
    expect(tiered.body.tables).toEqual(expect.arrayContaining([
      expect.objectContaining({ table: "shop.lake", kind: "committed", records: 1 }),
      expect.objectContaining({ table: "shop.keyed", kind: "committed", records: 2 }),
    ]));

    // Union scans through the real runtime: lake Parquet read back with R2 range reads, then the hot log after it.
    await call("POST", "/databases/shop/tables/keyed/rows?op=delete", JSON.stringify([{ k: 2 }]));
    await call("POST", "/databases/shop/tables/lake/rows", JSON.stringify([{ id: 2, user: "b", amount: "2.50", ts: 0 }]));
    expect((await call("GET", "/databases/shop/tables/keyed/scan")).body.rows).toEqual([{ k: 1, v: "b" }]);
    expect((await call("GET", "/databases/shop/tables/keyed$lake/scan")).body.rows).toHaveLength(2);
    const lakeScan = await call("GET", "/databases/shop/tables/lake/scan?format=arrow&columns=id,amount&filter=id%20%3E%3D%201");
    const scanned = arrow.tableFromIPC(lakeScan.body);
    expect(scanned.schema.fields.map((f) => f.name)).toEqual(["id", "amount"]);
    expect([...scanned.getChild("id")!].map(Number).sort()).toEqual([1, 2]);
    const scannedLines = new TextDecoder().decode((await call("GET", "/databases/shop/tables/lake/scan?format=ndjson&columns=amount")).body);
    expect(scannedLines.trim().split("\n").map((line) => JSON.parse(line).amount).sort()).toEqual(["1.00", "2.50"]);

    await server.stop();
    server = await startServer(state);
    expect(await everyRow()).toEqual(rows);
    expect((await call("GET", "/databases/shop/tables/events")).body.buckets).toEqual(described.body.buckets);
  });

  it("ends a subscription the server refuses with its error, and retries, saying so, while no server answers", async () => {
    const ws = server!.url.replace("http", "ws");
    const missing = `${ws}/v1/databases/shop/tables/nope/subscribe`;
    // A WebSocket cannot see the upgrade's 404; the client learns it with a plain GET of the same URL.
    const errors: SubscriptionError[] = [];
    const refused = subscribe({ url: missing, from: "earliest", onBatch: () => {}, onError: (error) => errors.push(error) });
    await refused.closed;
    expect(errors).toEqual([{ status: 404, code: "not_found", message: "table 'shop.nope' does not exist" }]);

    const ended = await runCli(server!.url, "shop.nope");
    expect(ended.code).toBe(1);
    expect(ended.stderr).toMatch(/^floe tail: 404 not_found: table 'shop.nope' does not exist$/m);

    const port = await freePort();
    const nobody = `ws://127.0.0.1:${port}/v1/databases/shop/tables/events/subscribe`;
    const retrying = await runCli(`http://127.0.0.1:${port}`, "shop.events", (stderr) => stderr.includes("(attempt 3)"));
    const lines = retrying.stderr.trim().split("\n");
    expect(lines.slice(0, 3)).toEqual([1, 2, 3].map((attempt) => expect.stringMatching(new RegExp(`^could not connect to ${nobody}; retrying in \\d+\\.\\d s \\(attempt ${attempt}\\)$`))));
    expect(retrying.code).toBe(0);
  });
});
