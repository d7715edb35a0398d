/**
 * Upsert throughput: 10,000-row Arrow batches upserted into a primary-key
 * table, of fresh keys (inserts, one +I change per row) and of existing
 * keys (updates, a -U/+U pair per row), with 1 and with 4 concurrent
 * clients. The reference, measured in the same run, is appending the same
 * batches to a log table with the same columns and 8 buckets bucketed by
 * the same key; each run times the three kinds back to back, in an order
 * that rotates from run to run, so all see the same machine. Target: the
 * primary-key rate at least 0.6x the log rate.
 */
import * as arrow from "apache-arrow";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startServer } from "../test/smoke/server.ts";
import { formatRate, median, printTable, seconds } from "./measure.ts";

const batchRows = 10_000;
const batchesPerRun = Number(process.env.FLOE_BENCH_UPSERT_BATCHES ?? 12);
const runs = Number(process.env.FLOE_BENCH_RUNS ?? 5);
const clientCounts = [1, 4];
const bucketCount = 8;
const ratioTargetMin = 0.6;
const rowsPerRun = batchRows * batchesPerRun;

const columns = [
  { name: "id", type: "BIGINT" }, { name: "name", type: "STRING" },
  { name: "amount", type: "DECIMAL(10,2)" }, { name: "ts", type: "TIMESTAMP_LTZ(3)" },
];

/** Rows `from..from+count-1` as an Arrow stream; `version` changes every value but the key, not the sizes. */
function batchBody(from: number, count: number, version: number): Uint8Array {
  const ids = Array.from({ length: count }, (_, i) => from + i);
  const table = new arrow.Table({
    id: arrow.vectorFromArray(ids.map(BigInt), new arrow.Int64()),
    name: arrow.vectorFromArray(ids.map((id) => `name-${id}-v${version % 10}`), new arrow.Utf8()),
    amount: arrow.vectorFromArray(ids.map((id) => new Uint32Array([(id * 7 + version) % 10_000_000, 0, 0, 0])), new arrow.Decimal(2, 10, 128)),
    // apache-arrow takes timestamps as epoch milliseconds and scales them to the type's unit.
    ts: arrow.vectorFromArray(ids.map((id) => 1_764_000_000_000 + id + version * 1000), new arrow.TimestampMicrosecond("UTC")),
  });
  return arrow.tableToIPC(table, "stream");
}

/** The batches of one run: `rowsPerRun` rows from key `from`. */
function runBodies(from: number, version: number): Uint8Array[] {
  return Array.from({ length: batchesPerRun }, (_, b) => batchBody(from + b * batchRows, batchRows, version));
}

type Kind = "log" | "fresh" | "update";
const kinds: Kind[] = ["log", "fresh", "update"];
const kindLabels: Record<Kind, string> = {
  log: "log append (reference)",
  fresh: "PK upsert, fresh keys (+I)",
  update: "PK upsert, existing keys (-U/+U)",
};

export async function run(): Promise<void> {
  const state = mkdtempSync(join(tmpdir(), "floe-bench-"));
  const server = await startServer(state);
  const request = async (method: string, path: string, body: string | Uint8Array, type: string) => {
    const response = await fetch(`${server.url}/v1${path}`, { method, body, headers: { "content-type": type } });
    if (!response.ok) throw new Error(`${path}: ${response.status} ${await response.text()}`);
    await response.arrayBuffer();
  };
  const put = (path: string, body: unknown) => request("PUT", path, JSON.stringify(body), "application/json");
  /** Sends `bodies` into `table` from `clients` concurrent clients taking the next batch in turn; answers rows/s. */
  const send = async (table: string, bodies: Uint8Array[], clients: number): Promise<number> => {
    let next = 0;
    const time = await seconds(() => Promise.all(Array.from({ length: clients }, async () => {
      while (next < bodies.length) await request("POST", `/databases/bench/tables/${table}/rows`, bodies[next++]!, "application/vnd.apache.arrow.stream");
    })));
    return (bodies.length * batchRows) / time;
  };
  const results: Record<string, string | number>[] = [];
  const verdicts: string[] = [];
  try {
    await request("PUT", "/databases/bench", "", "application/json");
    for (const clients of clientCounts) {
      const pk = `pk_${clients}`;
      const log = `log_${clients}`;
      await put(`/databases/bench/tables/${pk}`, { columns, primaryKey: ["id"], bucket: { num: bucketCount } });
      await put(`/databases/bench/tables/${log}`, { columns, bucket: { num: bucketCount, key: ["id"] } });
      // Untimed: creates every Tablet and the keys the update runs rewrite (0..rowsPerRun-1).
      const initial = runBodies(0, 0);
      await send(pk, initial, clients);
      await send(log, initial, clients);
      const rates: Record<Kind, number[]> = { log: [], fresh: [], update: [] };
      for (let r = 0; r < runs; r++) {
        const fresh = runBodies((r + 1) * rowsPerRun, 0);
        const bodies: Record<Kind, Uint8Array[]> = { log: fresh, fresh, update: runBodies(0, r + 1) };
        for (let k = 0; k < kinds.length; k++) {
          const kind = kinds[(k + r) % kinds.length]!;
          rates[kind].push(await send(kind === "log" ? log : pk, bodies[kind], clients));
        }
      }
      const logRate = median(rates.log);
      for (const kind of kinds) {
        const rate = median(rates[kind]);
        results.push({ clients, write: kindLabels[kind], "rows/s": formatRate(rate), "vs log": (rate / logRate).toFixed(2) });
        if (kind !== "log") {
          const met = rate / logRate >= ratioTargetMin;
          verdicts.push(`${clients} client(s), ${kindLabels[kind]}: ${(rate / logRate).toFixed(2)}x log (target >= ${ratioTargetMin}x: ${met ? "met" : "not met"})`);
        }
      }
      console.error(`  measured ${clients} client(s)`);
    }
  } finally {
    await server.stop();
    rmSync(state, { recursive: true, force: true });
  }
  console.log(`upsert: ${batchRows}-row Arrow batches into ${bucketCount} buckets, ${batchesPerRun} batches per run; median of ${runs} runs`);
  printTable(results);
  for (const line of verdicts) console.log(line);
}
