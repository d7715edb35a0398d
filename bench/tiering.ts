/**
 * Tiering throughput: rows/s from the hot log to a committed Iceberg
 * snapshot for `FLOE_BENCH_ROWS` rows (default 1M) of a 6-column table in 8
 * buckets, through `POST /v1/tiering/run` on `wrangler dev`. Reference in
 * the same run: the Arrow → Parquet encoding alone (Floe's writer,
 * parquet-wasm, under Node) of the same Arrow batches, which bounds what a
 * round can reach. Then: when each bucket's writer ran (do they overlap?),
 * and the latency of single-row writes to one bucket between rounds and
 * while a round runs (the rule: p99 during a round at most 2x between).
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startServer } from "../test/smoke/server.ts";
import { writeDataFile } from "../src/lake/parquet.ts";
import { icebergSchema } from "../src/iceberg/schema.ts";
import { parseTableDefinition } from "../src/table/schema.ts";
import { arrowBatch, lakeFiles, lakeTableDefinition } from "./lake-table.ts";
import { formatRate, percentile, printTable, seconds } from "./measure.ts";

const rowCount = Number(process.env.FLOE_BENCH_ROWS ?? 1_000_000);
const batchRows = 10_000;

/** Floe's Parquet writer alone over the same rows, in 8 files as a round writes them. */
async function encodeAlone(): Promise<number> {
  const schema = icebergSchema(parseTableDefinition(lakeTableDefinition));
  const files = lakeFiles(rowCount);
  return seconds(async () => {
    for (const columns of files) await writeDataFile(columns, schema);
  });
}

type Call = (method: string, path: string, body?: string | Uint8Array, type?: string) => Promise<any>;

/**
 * Single-row writes to one bucket, back to back: their latency while no
 * round runs, then while rounds tier 200k fresh rows of another table.
 */
async function writeLatencyDuringRounds(call: Call): Promise<void> {
  await call("PUT", "/databases/bench/tables/probe", JSON.stringify({ columns: [{ name: "n", type: "BIGINT" }], bucket: { num: 1 } }));
  const write = async (n: number) => {
    const started = performance.now();
    await call("POST", "/databases/bench/tables/probe/rows", JSON.stringify([{ n }]));
    return performance.now() - started;
  };
  const between: number[] = [];
  for (let n = 0; n < 300; n++) between.push(await write(n));
  for (let from = 0; from < 200_000; from += batchRows) {
    await call("POST", "/databases/bench/tables/events/rows", arrowBatch(rowCount + from, batchRows), "application/vnd.apache.arrow.stream");
  }
  const during: number[] = [];
  let tiering = true;
  const round = call("POST", "/tiering/run").finally(() => (tiering = false));
  for (let n = 0; tiering; n++) during.push(await write(n));
  await round;
  const row = (what: string, samples: number[]) => ({ what, writes: samples.length, "p50 ms": percentile(samples, 50).toFixed(1), "p99 ms": percentile(samples, 99).toFixed(1) });
  console.log("\nsingle-row writes to another table's bucket, between rounds and during a round of 200k rows:");
  printTable([row("between rounds", between), row("during a round", during)]);
  const ratio = percentile(during, 99) / percentile(between, 99);
  console.log(`p99 during / between = ${ratio.toFixed(2)}x (rule: at most 2x: ${ratio <= 2 ? "met" : "not met"})`);
}

export async function run(): Promise<void> {
  const encodeTime = await encodeAlone();
  const state = mkdtempSync(join(tmpdir(), "floe-bench-"));
  const server = await startServer(state);
  const v1 = `${server.url}/v1`;
  const call = async (method: string, path: string, body?: string | Uint8Array, type = "application/json") => {
    const response = await fetch(`${v1}${path}`, { method, body, headers: body ? { "content-type": type } : {} });
    if (!response.ok) throw new Error(`${path}: ${response.status} ${await response.text()}`);
    return response.json() as Promise<any>;
  };
  try {
    await call("PUT", "/databases/bench");
    await call("PUT", "/databases/bench/tables/events", JSON.stringify(lakeTableDefinition));
    for (let from = 0; from < rowCount; from += batchRows) {
      await call("POST", "/databases/bench/tables/events/rows", arrowBatch(from, Math.min(batchRows, rowCount - from)), "application/vnd.apache.arrow.stream");
    }
    console.error(`  loaded ${rowCount} rows`);
    let tiered = 0;
    let rounds = 0;
    const writers: { bucket: number; rows: number; startedAtMs: number; endedAtMs: number }[] = [];
    const tierTime = await seconds(async () => {
      while (tiered < rowCount) {
        const { tables } = await call("POST", "/tiering/run");
        const result = tables.find((t: { table: string }) => t.table === "bench.events");
        if (result.kind !== "committed") throw new Error(`tiering: ${JSON.stringify(result)}`);
        tiered += result.records;
        if (rounds === 0) writers.push(...result.writers);
        rounds++;
      }
    });
    console.log(`tiering: ${rowCount} rows, 6 columns, 8 buckets; ${rounds} round(s)`);
    const ratio = (rowCount / tierTime) / (rowCount / encodeTime);
    printTable([
      { what: "Parquet encoding alone (Node, same rows)", seconds: encodeTime.toFixed(2), "rows/s": formatRate(rowCount / encodeTime), ratio: "1.00" },
      { what: "hot log → committed snapshot (wrangler dev)", seconds: tierTime.toFixed(2), "rows/s": formatRate(rowCount / tierTime), ratio: ratio.toFixed(2) },
    ]);
    console.log(`round / encoder alone = ${ratio.toFixed(2)}x (target >= 0.7x: ${ratio >= 0.7 ? "met" : "not met"})`);
    const start = Math.min(...writers.map((w) => w.startedAtMs));
    console.log("\nfirst round, per bucket writer (ms from the round's first writer call):");
    printTable(writers.sort((a, b) => a.bucket - b.bucket).map((w) => ({ bucket: w.bucket, rows: w.rows, from: w.startedAtMs - start, to: w.endedAtMs - start, ms: w.endedAtMs - w.startedAtMs })));
    await writeLatencyDuringRounds(call);
  } finally {
    await server.stop();
    rmSync(state, { recursive: true, force: true });
  }
}
