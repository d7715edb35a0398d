/**
 * Union scan: `FLOE_BENCH_ROWS` rows (default 1M) of a 6-column table in 8
 * buckets, 90% tiered into the lake over 10 rounds (so every bucket has 10
 * data files of disjoint id ranges) and 10% still hot, scanned through
 * `GET .../scan` on `wrangler dev` as NDJSON and as Arrow: rows/s and time
 * to first byte, and a selective filter (`id < 10%`) that prunes 90% of
 * the lake files. Reference in the same run: DuckDB's `read_parquet` over
 * the same lake files, decoding every column (and with the same filter).
 */
import * as arrow from "apache-arrow";
import { DuckDBInstance } from "@duckdb/node-api";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startServer } from "../test/smoke/server.ts";
import { exportLake } from "../test/lake/lake-export.ts";
import { arrowBatch, lakeTableDefinition } from "./lake-table.ts";
import { formatRate, median, printTable, seconds } from "./measure.ts";

const rowCount = Number(process.env.FLOE_BENCH_ROWS ?? 1_000_000);
const runs = Number(process.env.FLOE_BENCH_RUNS ?? 3);
const lakeRounds = 10;
const lakeRows = Math.floor(rowCount * 0.9);
const batchRows = 10_000;
const selectiveIdMax = Math.floor(lakeRows / lakeRounds);

interface Timed {
  firstByteSeconds: number;
  totalSeconds: number;
  rows: number;
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
  return { firstByteSeconds, totalSeconds, rows };
}

async function medianScan(url: string, format: "ndjson" | "arrow"): Promise<Timed> {
  const results: Timed[] = [];
  for (let i = 0; i < runs; i++) results.push(await timedScan(url, format));
  return {
    firstByteSeconds: median(results.map((r) => r.firstByteSeconds)),
    totalSeconds: median(results.map((r) => r.totalSeconds)),
    rows: results[0]!.rows,
  };
}

/** DuckDB decoding every column of the lake's data files (optionally filtered), median seconds. */
async function duckdbScan(files: string[], where: string): Promise<number> {
  const instance = await DuckDBInstance.create(":memory:");
  const connection = await instance.connect();
  const list = files.map((f) => `'${f}'`).join(",");
  const sql = `SELECT count(*), max(id), max("user"), max(amount), max(ts), max(tags), max(n), max(__offset) FROM read_parquet([${list}]) ${where}`;
  try {
    const times: number[] = [];
    for (let i = 0; i < runs; i++) times.push(await seconds(() => connection.runAndReadAll(sql)));
    return median(times);
  } finally {
    connection.closeSync();
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
  const load = async (from: number, to: number) => {
    for (let at = from; at < to; at += batchRows) {
      await call("POST", "/databases/bench/tables/events/rows", arrowBatch(at, Math.min(batchRows, to - at)), "application/vnd.apache.arrow.stream");
    }
  };
  try {
    await call("PUT", "/databases/bench");
    await call("PUT", "/databases/bench/tables/events", JSON.stringify(lakeTableDefinition));
    const perRound = lakeRows / lakeRounds;
    for (let round = 0; round < lakeRounds; round++) {
      await load(round * perRound, (round + 1) * perRound);
      const { tables } = await call("POST", "/tiering/run");
      const result = tables.find((t: { table: string }) => t.table === "bench.events");
      if (result.kind !== "committed") throw new Error(`tiering: ${JSON.stringify(result)}`);
    }
    await load(lakeRows, rowCount);
    const { tableId } = await call("GET", "/databases/bench/tables/events");
    console.error(`  loaded ${rowCount} rows, ${lakeRows} in the lake`);

    const scanUrl = `${server.url}/v1/databases/bench/tables/events/scan`;
    const selective = `filter=${encodeURIComponent(`id < ${selectiveIdMax}`)}`;
    const ndjson = await medianScan(`${scanUrl}?format=ndjson`, "ndjson");
    const arrowScan = await medianScan(`${scanUrl}?format=arrow`, "arrow");
    const pruned = await medianScan(`${scanUrl}?format=arrow&${selective}`, "arrow");
    const { stats } = await call("GET", `/databases/bench/tables/events/scan?columns=id&${selective}`);
    if (ndjson.rows !== rowCount || arrowScan.rows !== rowCount || pruned.rows !== selectiveIdMax) {
      throw new Error(`row counts: ndjson ${ndjson.rows}, arrow ${arrowScan.rows}, selective ${pruned.rows}`);
    }
    await server.stop();
    running = false;
    const keys = await exportLake(state, [`bench/events-${tableId}/data/`], exported);
    const dataFiles = keys.filter((k) => k.endsWith(".parquet")).map((k) => join(exported, k));
    const duckAll = await duckdbScan(dataFiles, "");
    const duckSelective = await duckdbScan(dataFiles, `WHERE id < ${selectiveIdMax}`);

    console.log(`union scan: ${rowCount} rows (${lakeRows} in ${dataFiles.length} lake files, ${rowCount - lakeRows} hot), 6 columns, 8 buckets; median of ${runs}`);
    const row = (what: string, timed: Timed, reference: number) => ({
      what, "first byte s": timed.firstByteSeconds.toFixed(3), seconds: timed.totalSeconds.toFixed(2),
      "rows/s": formatRate(timed.rows / timed.totalSeconds), "x DuckDB": (timed.totalSeconds / reference).toFixed(1),
    });
    printTable([
      { what: "DuckDB read_parquet, lake files, all columns", "first byte s": "-", seconds: duckAll.toFixed(2), "rows/s": formatRate(lakeRows / duckAll), "x DuckDB": "1.0" },
      row("Floe union scan, NDJSON", ndjson, duckAll),
      row("Floe union scan, Arrow", arrowScan, duckAll),
      { what: `DuckDB read_parquet, id < ${selectiveIdMax}`, "first byte s": "-", seconds: duckSelective.toFixed(2), "rows/s": formatRate(selectiveIdMax / duckSelective), "x DuckDB": "1.0" },
      row(`Floe union scan, Arrow, id < ${selectiveIdMax}`, pruned, duckSelective),
    ]);
    console.log(`selective filter: ${stats.filesRead} lake files read, ${stats.filesSkipped} skipped by their bounds`);
  } finally {
    if (running) await server.stop();
    rmSync(state, { recursive: true, force: true });
    rmSync(exported, { recursive: true, force: true });
  }
}
