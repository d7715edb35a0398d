/**
 * Append throughput: rows/s and MB/s through `wrangler dev` for batches of 1,
 * 100 and 10,000 rows, as JSON and as Arrow, into tables of 1 and 8 buckets;
 * one client sending requests back to back. Reference, same machine, same
 * run: the same rows inserted into a bare SQLite table (node:sqlite, WAL, one
 * transaction per batch, a prepared INSERT per row).
 */
import * as arrow from "apache-arrow";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { startServer } from "../test/smoke/server.ts";
import { formatRate, median, printTable, seconds } from "./measure.ts";

interface Row {
  id: number;
  user: string;
  amount: string;
  ts: number;
  tags: string | null;
}

const batchSizes = [1, 100, 10_000];
const bucketCounts = [1, 8];
const runs = 5;
/** Roughly this many rows per run, so small batches get enough requests to time. */
const rowsPerRun = 20_000;
const requestsPerRunMax = 300;

function makeRows(count: number, from: number): Row[] {
  return Array.from({ length: count }, (_, i) => ({
    id: from + i,
    user: `user-${(from + i) % 997}`,
    amount: `${(from + i) % 100000}.${String(i % 100).padStart(2, "0")}`,
    ts: 1_764_000_000_000 + i,
    tags: i % 3 === 0 ? null : `tag-${i % 10}`,
  }));
}

function arrowBody(rows: Row[]): Uint8Array {
  const table = new arrow.Table({
    id: arrow.vectorFromArray(rows.map((r) => BigInt(r.id)), new arrow.Int64()),
    user: arrow.vectorFromArray(rows.map((r) => r.user), new arrow.Utf8()),
    amount: arrow.vectorFromArray(
      rows.map((r) => new Uint32Array([Number(r.amount.replace(".", "")), 0, 0, 0])),
      new arrow.Decimal(2, 10, 128),
    ),
    ts: arrow.vectorFromArray(rows.map((r) => r.ts), new arrow.TimestampMicrosecond("UTC")),
    tags: arrow.vectorFromArray(rows.map((r) => r.tags), new arrow.Utf8()),
  });
  return arrow.tableToIPC(table, "stream");
}

function sqliteReference(batches: Row[][]): () => void {
  const folder = mkdtempSync(join(tmpdir(), "floe-bench-sqlite-"));
  const db = new DatabaseSync(join(folder, "reference.db"));
  db.exec("PRAGMA journal_mode = WAL");
  db.exec("CREATE TABLE events (id INTEGER, user TEXT, amount TEXT, ts INTEGER, tags TEXT)");
  const insert = db.prepare("INSERT INTO events VALUES (?, ?, ?, ?, ?)");
  return () => {
    for (const batch of batches) {
      db.exec("BEGIN");
      for (const r of batch) insert.run(r.id, r.user, r.amount, r.ts, r.tags);
      db.exec("COMMIT");
    }
  };
}

export async function run(): Promise<void> {
  const state = mkdtempSync(join(tmpdir(), "floe-bench-"));
  const server = await startServer(state);
  const post = async (path: string, body: string | Uint8Array, type: string) => {
    const response = await fetch(`${server.url}/v1${path}`, { method: "POST", body, headers: { "content-type": type } });
    if (!response.ok) throw new Error(`${path}: ${response.status} ${await response.text()}`);
    await response.arrayBuffer();
  };
  // The SQLite reference blocks this process for seconds, long enough for the server to close idle
  // keep-alive sockets; PUT is idempotent, so one retry on a closed socket is safe.
  const put = async (path: string, body?: unknown): Promise<void> => {
    const attempt = () =>
      fetch(`${server.url}/v1${path}`, { method: "PUT", body: body && JSON.stringify(body), headers: { "content-type": "application/json" } });
    const response = await attempt().catch(attempt);
    if (!response.ok) throw new Error(`${path}: ${response.status} ${await response.text()}`);
    await response.arrayBuffer();
  };
  await put("/databases/bench");
  const results: Record<string, string | number>[] = [];
  try {
    for (const size of batchSizes) {
      const requests = Math.min(requestsPerRunMax, Math.max(5, Math.round(rowsPerRun / size)));
      const batches = Array.from({ length: requests }, (_, r) => makeRows(size, r * size));
      const reference = sqliteReference(batches);
      const referenceRate = median(await Promise.all(Array.from({ length: runs }, async () => (requests * size) / (await seconds(reference)))));
      results.push({ batch: size, format: "sqlite", buckets: "-", "rows/s": formatRate(referenceRate), "MB/s": "-", "vs sqlite": "1.00" });
      for (const format of ["json", "arrow"] as const) {
        const bodies = batches.map((b) => (format === "json" ? JSON.stringify(b) : arrowBody(b)));
        const type = format === "json" ? "application/json" : "application/vnd.apache.arrow.stream";
        const bytes = bodies.reduce((n, b) => n + (typeof b === "string" ? Buffer.byteLength(b) : b.byteLength), 0);
        for (const buckets of bucketCounts) {
          const table = `t_${size}_${format}_${buckets}`;
          await put(`/databases/bench/tables/${table}`, {
            columns: [
              { name: "id", type: "BIGINT" }, { name: "user", type: "STRING" }, { name: "amount", type: "DECIMAL(10,2)" },
              { name: "ts", type: "TIMESTAMP_LTZ(3)" }, { name: "tags", type: "STRING" },
            ],
            bucket: { num: buckets, key: ["user"] },
          });
          await post(`/databases/bench/tables/${table}/rows`, bodies[0]!, type); // warm up
          const times: number[] = [];
          for (let r = 0; r < runs; r++) {
            times.push(await seconds(async () => {
              for (const body of bodies) await post(`/databases/bench/tables/${table}/rows`, body, type);
            }));
          }
          const time = median(times);
          const rate = (requests * size) / time;
          results.push({
            batch: size, format, buckets,
            "rows/s": formatRate(rate),
            "MB/s": (bytes / time / 1e6).toFixed(1),
            "vs sqlite": (rate / referenceRate).toFixed(2),
          });
          console.error(`  measured ${size} ${format} ${buckets}`);
        }
      }
    }
  } finally {
    await server.stop();
    rmSync(state, { recursive: true, force: true });
  }
  console.log(`append: median of ${runs} runs, one client, requests back to back (at most ${requestsPerRunMax} or ~${rowsPerRun} rows per run)`);
  printTable(results);
}
