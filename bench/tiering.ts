/**
 * Tiering throughput: rows/s from the hot log to a committed Iceberg
 * snapshot for `FLOE_BENCH_ROWS` rows (default 1M) of a 6-column table in 8
 * buckets, through `POST /v1/tiering/run` on `wrangler dev`. Reference in
 * the same run: the Arrow → Parquet encoding alone (Floe's writer,
 * parquet-wasm, under Node) of the same Arrow batches, which bounds what a
 * round can reach.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startServer } from "../test/smoke/server.ts";
import { writeDataFile } from "../src/lake/parquet.ts";
import { icebergSchema } from "../src/iceberg/schema.ts";
import { parseTableDefinition } from "../src/table/schema.ts";
import { arrowBatch, lakeFiles, lakeTableDefinition } from "./lake-table.ts";
import { formatRate, printTable, seconds } from "./measure.ts";

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
    const tierTime = await seconds(async () => {
      while (tiered < rowCount) {
        const { tables } = await call("POST", "/tiering/run");
        const result = tables.find((t: { table: string }) => t.table === "bench.events");
        if (result.kind !== "committed") throw new Error(`tiering: ${JSON.stringify(result)}`);
        tiered += result.records;
        rounds++;
      }
    });
    console.log(`tiering: ${rowCount} rows, 6 columns, 8 buckets; ${rounds} round(s)`);
    printTable([
      { what: "Parquet encoding alone (Node, same rows)", seconds: encodeTime.toFixed(2), "rows/s": formatRate(rowCount / encodeTime), ratio: "1.00" },
      { what: "hot log → committed snapshot (wrangler dev)", seconds: tierTime.toFixed(2), "rows/s": formatRate(rowCount / tierTime), ratio: ((rowCount / tierTime) / (rowCount / encodeTime)).toFixed(2) },
    ]);
  } finally {
    await server.stop();
    rmSync(state, { recursive: true, force: true });
  }
}
