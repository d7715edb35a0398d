/**
 * Union scan: `FLOE_BENCH_ROWS` rows (default 1M) of a 6-column log table
 * in 8 buckets, 90% tiered into the lake over 10 rounds (so every bucket has
 * 10 data files of disjoint id ranges) and 10% still hot, scanned through
 * `GET .../scan` on `wrangler dev` as NDJSON and as Arrow: rows/s and time
 * to first byte; a selective filter (`id < 10%`) that prunes 90% of the
 * lake files while the Tablets filter their hot rows; and a primary-key
 * table of the same columns whose lake holds position deletes (10 rounds
 * of fresh keys and updates) with a changelog after its snapshot.
 *
 * References in the same run, on the same lake files: DuckDB's
 * `read_parquet` decoding every column (with the same filter; for the
 * primary-key table, the data files joined against the position-delete
 * files by `file_path` and `pos` = `file_row_number`, Iceberg's delete rule
 * in SQL). And the transport floor: a Worker with nothing but a stream of
 * as many bytes as each answer, on its own `wrangler dev`.
 */
import * as arrow from "apache-arrow";
import { DuckDBInstance } from "@duckdb/node-api";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort, startServer } from "../test/smoke/server.ts";
import { exportLake } from "../test/lake/lake-export.ts";
import { spawn } from "node:child_process";
import { arrowBatch, lakeTableDefinition } from "./lake-table.ts";
import { formatRate, median, printTable, seconds } from "./measure.ts";

const rowCount = Number(process.env.FLOE_BENCH_ROWS ?? 1_000_000);
const runs = Number(process.env.FLOE_BENCH_RUNS ?? 3);
const lakeRounds = 10;
const lakeRows = Math.floor(rowCount * 0.9);
const batchRows = 10_000;
const selectiveIdMax = Math.floor(lakeRows / lakeRounds);

/** The primary-key table: per round a tenth of the lake's upserts, of which an eighth rewrite keys tiered before. */
const pkRoundRows = Math.floor(lakeRows / lakeRounds);
const pkUpdatesPerRound = Math.floor(pkRoundRows / 9);
const pkTableDefinition = { ...lakeTableDefinition, primaryKey: ["id"], bucket: { num: 8, key: ["id"] } };

/** Ratio targets to DuckDB from the issue. */
const targets = { arrow: 4, ndjson: 12, selective: 6 };

interface Timed {
  firstByteSeconds: number;
  totalSeconds: number;
  rows: number;
  bytes: number;
}

/** One scan, timed from the request to the first body byte and to the last. */
async function timedScan(url: string, format: "ndjson" | "arrow"): Promise<Timed> {
  const start = process.hrtime.bigint();
  const elapsed = () => Number(process.hrtime.bigint() - start) / 1e9;
  const response = await fetch(url);
  if (!response.ok) throw new Error(`${url}: ${response.status} ${await response.text()}`);
  const reader = response.body!.getReader();
  const chunks: Uint8Array[] = [];
  let firstByteSeconds = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    if (chunks.length === 0) firstByteSeconds = elapsed();
    chunks.push(value);
  }
  const totalSeconds = elapsed();
  const bytes = Buffer.concat(chunks);
  const rows = format === "arrow" ? arrow.tableFromIPC(bytes).numRows : bytes.toString("utf8").split("\n").length - 1;
  return { firstByteSeconds, totalSeconds, rows, bytes: bytes.byteLength };
}

async function medianScan(url: string, format: "ndjson" | "arrow"): Promise<Timed> {
  const results: Timed[] = [];
  for (let i = 0; i < runs; i++) results.push(await timedScan(url, format));
  return {
    firstByteSeconds: median(results.map((r) => r.firstByteSeconds)),
    totalSeconds: median(results.map((r) => r.totalSeconds)),
    rows: results[0]!.rows,
    bytes: results[0]!.bytes,
  };
}

/** Median seconds of `sql` in DuckDB (a fresh in-memory database). */
async function duckdbSeconds(sql: string): Promise<number> {
  const instance = await DuckDBInstance.create(":memory:");
  const connection = await instance.connect();
  try {
    const times: number[] = [];
    for (let i = 0; i < runs; i++) times.push(await seconds(() => connection.runAndReadAll(sql)));
    return median(times);
  } finally {
    connection.closeSync();
    instance.closeSync();
  }
}

const list = (files: string[]) => `[${files.map((f) => `'${f}'`).join(",")}]`;
const everyColumn = `count(*), max(id), max("user"), max(amount), max(ts), max(tags), max(n)`;

/** DuckDB decoding every column of the data files, optionally filtered. */
const duckdbScan = (files: string[], where: string) => duckdbSeconds(`SELECT ${everyColumn}, max(__offset) FROM read_parquet(${list(files)}) ${where}`);

/** DuckDB reading the data files minus the rows position deletes name (by file and row position). */
function duckdbMerge(dataFiles: string[], deleteFiles: string[], exported: string, uriPrefix: string): Promise<number> {
  const deletes = `SELECT '${exported}/' || substr(file_path, ${uriPrefix.length + 2}) AS path, pos FROM read_parquet(${list(deleteFiles)})`;
  return duckdbSeconds(`SELECT ${everyColumn} FROM read_parquet(${list(dataFiles)}, filename = true, file_row_number = true) AS d
    ANTI JOIN (${deletes}) AS x ON x.path = d.filename AND x.pos = d.file_row_number`);
}

/** The primary-key table's upsert batch: the rows of `ids` at `version` (updates change `n` and `amount`). */
function pkBatch(ids: number[], version: number): Uint8Array {
  const at = (i: number) => ids[i]!;
  return arrow.tableToIPC(new arrow.Table({
    id: arrow.vectorFromArray(ids.map(BigInt), new arrow.Int64()),
    user: arrow.vectorFromArray(ids.map((id) => `user-${id % 997}`), new arrow.Utf8()),
    amount: arrow.vectorFromArray(ids.map((id) => new Uint32Array([(id + version * 7) % 100000, 0, 0, 0])), new arrow.Decimal(2, 10, 128)),
    ts: arrow.vectorFromArray(ids.map((id) => 1_764_000_000_000 + id), new arrow.TimestampMicrosecond("UTC")),
    tags: arrow.vectorFromArray(ids.map((id) => (id % 3 === 0 ? null : `tag-${id % 10}`)), new arrow.Utf8()),
    n: arrow.vectorFromArray(ids.map((_, i) => (at(i) + version) % 1000), new arrow.Int32()),
  }), "stream");
}

/**
 * The transport floor: a Worker answering `?bytes=N` with N bytes in 1 MiB
 * chunks, on its own `wrangler dev`; median seconds per size, read as the
 * scans are.
 */
async function transportFloor(sizes: number[]): Promise<number[]> {
  const dir = mkdtempSync(join(tmpdir(), "floe-bench-floor-"));
  mkdirSync(join(dir, "src"));
  writeFileSync(join(dir, "wrangler.toml"), `name = "floor"\nmain = "src/index.js"\ncompatibility_date = "2026-11-01"\nsend_metrics = false\n`);
  writeFileSync(join(dir, "src/index.js"), `export default { fetch(request) {
  let left = Number(new URL(request.url).searchParams.get("bytes"));
  const block = new Uint8Array(1 << 20).fill(65);
  return new Response(new ReadableStream({ pull(c) { if (left <= 0) return c.close(); c.enqueue(block.slice(0, Math.min(left, block.length))); left -= block.length; } }));
} };\n`);
  const port = await freePort();
  const child = spawn("wrangler", ["dev", "--ip", "127.0.0.1", "--port", String(port)], {
    cwd: dir, env: { ...process.env, CLOUDFLARE_CF_FETCH_ENABLED: "false", WRANGLER_SEND_METRICS: "false" }, stdio: "ignore",
  });
  try {
    const url = `http://127.0.0.1:${port}/`;
    const deadline = Date.now() + 60_000;
    for (;;) {
      try {
        if ((await fetch(`${url}?bytes=1`)).ok) break;
      } catch {
        // not listening yet
      }
      if (Date.now() > deadline) throw new Error("the transport floor's wrangler dev did not start");
      await new Promise((r) => setTimeout(r, 250));
    }
    const floors: number[] = [];
    for (const size of sizes) floors.push((await medianScan(`${url}?bytes=${size}`, "ndjson")).totalSeconds);
    return floors;
  } finally {
    const exited = new Promise((resolve) => child.on("exit", resolve));
    child.kill("SIGTERM");
    await exited;
    rmSync(dir, { recursive: true, force: true });
  }
}

export async function run(): Promise<void> {
  const state = mkdtempSync(join(tmpdir(), "floe-bench-"));
  const exported = mkdtempSync(join(tmpdir(), "floe-bench-lake-"));
  const server = await startServer(state);
  let running = true;
  const call = async (method: string, path: string, body?: string | Uint8Array, type = "application/json") => {
    const response = await fetch(`${server.url}/v1${path}`, { method, body, headers: body ? { "content-type": type } : {} });
    if (!response.ok) throw new Error(`${path}: ${response.status} ${await response.text()}`);
    return response.json() as Promise<any>;
  };
  const post = (table: string, body: Uint8Array) => call("POST", `/databases/bench/tables/${table}/rows`, body, "application/vnd.apache.arrow.stream");
  const load = async (from: number, to: number) => {
    for (let at = from; at < to; at += batchRows) await post("events", arrowBatch(at, Math.min(batchRows, to - at)));
  };
  const tier = async (table: string) => {
    const { tables } = await call("POST", "/tiering/run");
    const result = tables.find((t: { table: string }) => t.table === `bench.${table}`);
    if (result?.kind !== "committed") throw new Error(`tiering ${table}: ${JSON.stringify(result)}`);
  };
  /** Upserts `ids` at `version` into the primary-key table, a batch at a time. */
  const upsert = async (ids: number[], version: number) => {
    for (let at = 0; at < ids.length; at += batchRows) await post("accounts", pkBatch(ids.slice(at, at + batchRows), version));
  };
  try {
    await call("PUT", "/databases/bench");
    await call("PUT", "/databases/bench/tables/events", JSON.stringify(lakeTableDefinition));
    await call("PUT", "/databases/bench/tables/accounts", JSON.stringify(pkTableDefinition));
    // Every tiering run tiers every table, so each table's rounds run while the other has nothing untiered,
    // and the rows meant to stay hot are written last.
    let keys = 0;
    const range = (from: number, count: number) => Array.from({ length: count }, (_, i) => from + i);
    // Primary keys: round 0 inserts; every later round rewrites keys tiered in earlier rounds and inserts fresh ones.
    const rewritten = (count: number, round: number) => range(0, count).map((i) => (round * 7_919 + i) % keys);
    for (let round = 0; round < lakeRounds; round++) {
      const updates = round === 0 ? 0 : pkUpdatesPerRound;
      await upsert(rewritten(updates, round), round);
      await upsert(range(keys, pkRoundRows - updates), round);
      keys += pkRoundRows - updates;
      await tier("accounts");
    }
    const perRound = lakeRows / lakeRounds;
    for (let round = 0; round < lakeRounds; round++) {
      await load(round * perRound, (round + 1) * perRound);
      await tier("events");
    }
    await load(lakeRows, rowCount);
    // The changelog after the primary-key table's snapshot: half updates of lake keys, half fresh keys.
    const hotRows = rowCount - lakeRows;
    await upsert(rewritten(hotRows / 2, lakeRounds), lakeRounds);
    await upsert(range(keys, hotRows / 2), lakeRounds);
    const pkRows = keys + hotRows / 2;
    const events = (await call("GET", "/databases/bench/tables/events")).tableId;
    const accounts = (await call("GET", "/databases/bench/tables/accounts")).tableId;
    console.error(`  loaded ${rowCount} rows (${lakeRows} in the lake) and ${pkRows} keys (${keys} in the lake)`);

    const scanUrl = (table: string) => `${server.url}/v1/databases/bench/tables/${table}/scan`;
    const selective = `filter=${encodeURIComponent(`id < ${selectiveIdMax}`)}`;
    const ndjson = await medianScan(`${scanUrl("events")}?format=ndjson`, "ndjson");
    const arrowScan = await medianScan(`${scanUrl("events")}?format=arrow`, "arrow");
    const pruned = await medianScan(`${scanUrl("events")}?format=arrow&${selective}`, "arrow");
    const merged = await medianScan(`${scanUrl("accounts")}?format=arrow`, "arrow");
    const { stats } = await call("GET", `/databases/bench/tables/events/scan?columns=id&${selective}`);
    const { stats: pkStats } = await call("GET", "/databases/bench/tables/accounts/scan?columns=id");
    if (ndjson.rows !== rowCount || arrowScan.rows !== rowCount || pruned.rows !== selectiveIdMax || merged.rows !== pkRows) {
      throw new Error(`row counts: ndjson ${ndjson.rows}, arrow ${arrowScan.rows}, selective ${pruned.rows}, primary key ${merged.rows} of ${pkRows}`);
    }
    await server.stop();
    running = false;
    const [arrowFloor, ndjsonFloor] = await transportFloor([arrowScan.bytes, ndjson.bytes]);
    const keysOf = await exportLake(state, [`bench/events-${events}/data/`, `bench/accounts-${accounts}/data/`], exported);
    const parquet = keysOf.filter((k) => k.endsWith(".parquet")).map((k) => join(exported, k));
    const dataFiles = parquet.filter((f) => f.includes(`/events-${events}/`));
    const pkFiles = parquet.filter((f) => f.includes(`/accounts-${accounts}/`));
    const pkDeletes = pkFiles.filter((f) => f.endsWith("-deletes.parquet"));
    if (pkFiles.some((f) => f.endsWith("-eq-deletes.parquet"))) throw new Error("the primary-key lake holds equality deletes, which the reference does not apply");
    const pkData = pkFiles.filter((f) => !pkDeletes.includes(f));
    const duckAll = await duckdbScan(dataFiles, "");
    const duckSelective = await duckdbScan(dataFiles, `WHERE id < ${selectiveIdMax}`);
    const duckMerged = await duckdbMerge(pkData, pkDeletes, exported, "s3://floe-lake");

    const ratio = (timed: Timed, reference: number) => timed.totalSeconds / reference;
    const row = (what: string, timed: Timed, reference: number) => ({
      what, "first byte s": timed.firstByteSeconds.toFixed(3), seconds: timed.totalSeconds.toFixed(3), "rows/s": formatRate(timed.rows / timed.totalSeconds),
      MB: (timed.bytes / 1e6).toFixed(1), "x DuckDB": ratio(timed, reference).toFixed(1),
    });
    const reference = (what: string, secondsTaken: number, rows: number) => ({
      what, "first byte s": "-", seconds: secondsTaken.toFixed(3), "rows/s": formatRate(rows / secondsTaken), MB: "-", "x DuckDB": "1.0",
    });
    const floor = (what: string, secondsTaken: number, timed: Timed, duck: number) => ({
      what, "first byte s": "-", seconds: secondsTaken.toFixed(3), "rows/s": "-", MB: (timed.bytes / 1e6).toFixed(1), "x DuckDB": (secondsTaken / duck).toFixed(1),
    });
    console.log(`union scan: ${rowCount} rows (${lakeRows} in ${dataFiles.length} lake files, ${rowCount - lakeRows} hot), 6 columns, 8 buckets; median of ${runs}`);
    console.log(`primary-key table: ${pkRows} keys (${keys} in ${pkData.length} lake data files with ${pkDeletes.length} position-delete files), then ${hotRows} upserts after the snapshot`);
    printTable([
      reference("DuckDB read_parquet, lake files, all columns", duckAll, lakeRows),
      row("Floe union scan, NDJSON", ndjson, duckAll),
      floor("transport floor, NDJSON's bytes", ndjsonFloor!, ndjson, duckAll),
      row("Floe union scan, Arrow", arrowScan, duckAll),
      floor("transport floor, Arrow's bytes", arrowFloor!, arrowScan, duckAll),
      reference(`DuckDB read_parquet, id < ${selectiveIdMax}`, duckSelective, selectiveIdMax),
      row(`Floe union scan, Arrow, id < ${selectiveIdMax}`, pruned, duckSelective),
      reference("DuckDB, PK lake files minus position deletes", duckMerged, keys),
      row("Floe PK union scan (lake + changelog), Arrow", merged, duckMerged),
    ]);
    console.log(`selective filter: ${stats.filesRead} lake files read, ${stats.filesSkipped} skipped by their bounds; the Tablets answered ${stats.hotRowsRead} of ${rowCount - lakeRows} hot rows`);
    console.log(`primary-key scan: ${pkStats.filesRead} lake files read (data and deletes); the Tablets answered ${pkStats.hotRowsRead} changelog rows`);
    const verdict = (what: string, value: number, target: number) => console.log(`${what}: ${value.toFixed(1)}x DuckDB (target <= ${target}x: ${value <= target ? "met" : "not met"})`);
    verdict("Arrow union scan", ratio(arrowScan, duckAll), targets.arrow);
    verdict("NDJSON union scan", ratio(ndjson, duckAll), targets.ndjson);
    verdict("selective filter", ratio(pruned, duckSelective), targets.selective);
    console.log(`primary-key union scan: ${ratio(merged, duckMerged).toFixed(1)}x DuckDB (no target set)`);
  } finally {
    if (running) await server.stop();
    rmSync(state, { recursive: true, force: true });
    rmSync(exported, { recursive: true, force: true });
  }
}
