/**
 * The lake's lifecycle over many rounds (`FLOE_BENCH_ROUNDS`, default
 * 3,000): a primary-key table of 50 keys in 4 buckets with compaction and
 * snapshot expiry on (retention 5s), 2 rows upserted and one forced
 * tiering round at a time, on `wrangler dev`. Every `every` rounds it
 * records the catalog row's size, the metadata JSON's size, the current
 * snapshot's manifests, the live objects (and bytes) in R2, and the time of
 * a union scan of the table and of the round itself, and checks the scan
 * against a model. It reports the first 100 rounds against the last 100.
 *
 * The sizes are read from the local stores `wrangler dev` keeps
 * (Miniflare's D1 and R2 SQLite files under the state folder), read-only,
 * while the server runs.
 */
import { mkdtempSync, readFileSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { startServer } from "../test/smoke/server.ts";
import { readManifestList } from "../src/iceberg/manifest-read.ts";
import { median, printTable, seconds } from "./measure.ts";

const rounds = Number(process.env.FLOE_BENCH_ROUNDS ?? 3_000);
const every = 10;
const keys = 50;

/** The one SQLite file of a Miniflare store under `state/v3/<kind>/<class>/`. */
function storeFile(state: string, kind: "d1" | "r2", className: string): string {
  const folder = join(state, "v3", kind, className);
  const file = readdirSync(folder).find((name) => name.endsWith(".sqlite") && name !== "metadata.sqlite");
  if (!file) throw new Error(`no ${kind} store under ${folder}`);
  return join(folder, file);
}

interface Sample {
  round: number;
  catalogRow: number;
  metadata: number;
  snapshots: number;
  manifests: number;
  objects: number;
  bytes: number;
  scanMs: number;
  roundMs: number;
}

export async function run(): Promise<void> {
  const state = mkdtempSync(join(tmpdir(), "floe-bench-"));
  const server = await startServer(state);
  const call = async (method: string, path: string, body?: unknown) => {
    const response = await fetch(`${server.url}/v1${path}`, { method, body: body === undefined ? undefined : JSON.stringify(body), headers: { "content-type": "application/json" } });
    if (!response.ok) throw new Error(`${method} ${path}: ${response.status} ${await response.text()}`);
    return response.json() as Promise<any>;
  };
  try {
    await call("PUT", "/databases/soak");
    await call("PUT", "/databases/soak/tables/pk", {
      columns: [{ name: "id", type: "INT" }, { name: "value", type: "BIGINT" }],
      primaryKey: ["id"],
      bucket: { num: 4 },
      properties: { "table.datalake.enabled": "true", "table.datalake.auto-maintenance": "true", "table.datalake.snapshot.retention": "5s" },
    });
    const { tableId } = await call("GET", "/databases/soak/tables/pk");
    const catalog = new DatabaseSync(storeFile(state, "d1", "miniflare-D1DatabaseObject"), { readOnly: true });
    // The R2 store's file appears with the first object, so it is opened at the first sample.
    let lakeStore: DatabaseSync | undefined;
    const lake = { prepare: (sql: string) => (lakeStore ??= new DatabaseSync(storeFile(state, "r2", "miniflare-R2BucketObject"), { readOnly: true })).prepare(sql) };
    const blob = (key: string) => {
      const row = lake.prepare("SELECT blob_id FROM _mf_objects WHERE key = ?").get(key) as { blob_id: string };
      return readFileSync(join(state, "v3", "r2", "floe-lake", "blobs", row.blob_id));
    };
    const model = new Map<number, number>();
    const samples: Sample[] = [];
    let roundMs = 0;
    for (let round = 1; round <= rounds; round++) {
      const rows = Array.from({ length: 2 }, (_, i) => ({ id: (round * 7 + i * 13) % keys, value: round }));
      for (const row of rows) model.set(row.id, row.value);
      await call("POST", "/databases/soak/tables/pk/rows", rows);
      roundMs = 1000 * (await seconds(async () => {
        const { tables } = await call("POST", "/tiering/run");
        const result = tables.find((t: { table: string }) => t.table === "soak.pk");
        if (result.kind === "failed") throw new Error(`round ${round}: ${result.error}`);
      }));
      if (round % every !== 0) continue;
      let scan: any;
      const scanMs = 1000 * (await seconds(async () => (scan = await call("GET", "/databases/soak/tables/pk/scan"))));
      const found = new Map(scan.rows.map((r: { id: number; value: number }) => [r.id, r.value]));
      if (found.size !== model.size || [...model].some(([id, value]) => found.get(id) !== value)) throw new Error(`round ${round}: the scan differs from the model`);
      const row = catalog.prepare("SELECT * FROM lake_tables WHERE table_id = ?").get(tableId) as Record<string, unknown>;
      const metadataKey = String(row.metadata_location).replace(/^s3:\/\/floe-lake\//, "");
      const metadata = JSON.parse(blob(metadataKey).toString("utf8"));
      const current = metadata.snapshots.find((s: { "snapshot-id": number }) => s["snapshot-id"] === metadata["current-snapshot-id"]);
      const manifests = readManifestList(new Uint8Array(blob(String(current["manifest-list"]).replace(/^s3:\/\/floe-lake\//, ""))));
      const objects = lake.prepare("SELECT count(*) AS n, sum(size) AS bytes FROM _mf_objects WHERE key LIKE ?").get(`soak/pk-${tableId}/%`) as { n: number; bytes: number };
      samples.push({
        round,
        catalogRow: JSON.stringify(row).length,
        metadata: blob(metadataKey).length,
        snapshots: metadata.snapshots.length,
        manifests: manifests.length,
        objects: objects.n,
        bytes: objects.bytes,
        scanMs,
        roundMs,
      });
      if (round % 500 === 0) console.error(`  round ${round}: ${JSON.stringify(samples.at(-1))}`);
    }
    const window = Math.max(1, Math.floor(100 / every));
    const first = samples.slice(0, window);
    const last = samples.slice(-window);
    const fields = ["catalogRow", "metadata", "snapshots", "manifests", "objects", "bytes", "scanMs", "roundMs"] as const;
    console.log(`soak: ${rounds} rounds of 2 upserts into a 50-key table in 4 buckets, compaction and expiry on (retention 5s); sampled every ${every} rounds`);
    printTable(fields.map((field) => {
      const a = median(first.map((s) => s[field]));
      const b = median(last.map((s) => s[field]));
      const max = Math.max(...samples.slice(window).map((s) => s[field]));
      return { what: field, "first 100 (median)": a.toFixed(field.endsWith("Ms") ? 1 : 0), "last 100 (median)": b.toFixed(field.endsWith("Ms") ? 1 : 0), "max after warm-up": max.toFixed(field.endsWith("Ms") ? 1 : 0), "last/first": (b / a).toFixed(2) };
    }));
    catalog.close();
    lakeStore?.close();
  } finally {
    await server.stop();
    rmSync(state, { recursive: true, force: true });
  }
}
