/**
 * Subscription latency: from a write request being sent to a subscriber
 * receiving the row, p50/p90/p99 over 1,000 single-row writes, with 1 and
 * with 100 subscribers on the bucket (and how long the writer waited for its
 * answer, to see whether subscribers slow writers down), plus fan-out rows/s (rows delivered
 * to all subscribers per second while a writer sends 100-row batches).
 * References in the same run: the round trip of `GET /v1/health` (the
 * platform floor), and Redis Streams (XADD, read by a client blocked in
 * XREAD BLOCK).
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startServer } from "../test/smoke/server.ts";
import { subscribe, type Subscription } from "../src/client/subscribe.ts";
import { formatRate, median, percentile, printTable, seconds } from "./measure.ts";
import { RedisClient, startRedis } from "./redis.ts";

const writes = Number(process.env.FLOE_BENCH_WRITES ?? 1_000);
const subscriberCounts = (process.env.FLOE_BENCH_SUBSCRIBERS ?? "1,100").split(",").map(Number);
const fanOutSeconds = Number(process.env.FLOE_BENCH_FANOUT_SECONDS ?? 5);
const fanOutBatchRows = 100;

const now = () => performance.now();

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  return Promise.race([promise, new Promise<T>((_, reject) => setTimeout(() => reject(new Error(`no reply in ${ms} ms`)), ms))]);
}

async function until(check: () => boolean, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error("timed out waiting for deliveries");
    await new Promise((r) => setImmediate(r));
  }
}

export async function run(): Promise<void> {
  const state = mkdtempSync(join(tmpdir(), "floe-bench-"));
  const server = await startServer(state);
  const redis = await startRedis();
  const v1 = `${server.url}/v1`;
  const call = async (method: string, path: string, body?: string) => {
    const response = await fetch(`${v1}${path}`, { method, body, headers: body ? { "content-type": "application/json" } : {} });
    if (!response.ok) throw new Error(`${path}: ${response.status} ${await response.text()}`);
    return response.json();
  };
  const results: Record<string, string>[] = [];
  let redisRow: Record<string, string> | undefined;
  const row = (what: string, latencies: number[], rate: string, floor?: number) => ({
    what,
    "p50 ms": median(latencies).toFixed(2),
    "p90 ms": percentile(latencies, 90).toFixed(2),
    "p99 ms": percentile(latencies, 99).toFixed(2),
    rate,
    "p50/floor": floor ? (median(latencies) / floor).toFixed(2) : "-",
    "p99/floor": floor ? (percentile(latencies, 99) / floor).toFixed(2) : "-",
  });
  try {
    await call("PUT", "/databases/bench");
    if (redis) {
      const writer = await RedisClient.connect(redis.port);
      const reader = await RedisClient.connect(redis.port);
      const latencies: number[] = [];
      let last = "$";
      for (let i = 0; i < writes; i++) {
        const read = reader.command("XREAD", "BLOCK", 0, "STREAMS", "s", last);
        await new Promise((r) => setImmediate(r));
        const start = now();
        await writer.command("XADD", "s", "*", "id", i);
        const reply = (await withTimeout(read, 5_000)) as [[string, [[string, string[]]]]];
        latencies.push(now() - start);
        last = reply[0][1][0][0];
      }
      redisRow = (row("redis XADD → XREAD BLOCK", latencies, "-"));
      writer.close();
      reader.close();
    } else {
      console.error("  redis-server not installed: skipping the Redis Streams reference (apt-get install redis-server)");
    }
    const health: number[] = [];
    for (let i = 0; i < writes; i++) health.push((await seconds(() => call("GET", "/health"))) * 1000);
    const floor = median(health);
    results.push(row("GET /v1/health (floor)", health, "-", floor));

    for (const count of subscriberCounts) {
      const table = `lat_${count}`;
      await call("PUT", `/databases/bench/tables/${table}`, JSON.stringify({ columns: [{ name: "id", type: "BIGINT" }], bucket: { num: 1 } }));
      const sentAt = new Map<number, number>();
      const latencies: number[] = [];
      let delivered = 0;
      const subscriptions: Subscription[] = [];
      for (let s = 0; s < count; s++) {
        subscriptions.push(subscribe({
          url: `${server.url.replace("http", "ws")}/v1/databases/bench/tables/${table}/subscribe`,
          from: "latest",
          onBatch: (batch) => {
            const at = now();
            for (const r of batch.rows!) {
              latencies.push(at - sentAt.get(r.id as number)!);
              delivered++;
            }
          },
        }));
      }
      await until(() => subscriptions.every((s) => s.positions()[0] !== undefined));
      const answered: number[] = [];
      for (let id = 0; id < writes; id++) {
        sentAt.set(id, now());
        await call("POST", `/databases/bench/tables/${table}/rows`, JSON.stringify([{ id }]));
        answered.push(now() - sentAt.get(id)!);
        await until(() => delivered === (id + 1) * count);
      }
      results.push(row(`write answered, ${count} subscriber(s)`, answered, "-", floor));
      results.push(row(`e2e write → ${count} subscriber(s)`, latencies, `${latencies.length} deliveries`, floor));

      // Fan-out: a writer sends 100-row batches back to back; count rows delivered to every subscriber.
      delivered = 0;
      let written = 0;
      const fanOutStart = now();
      while (now() - fanOutStart < fanOutSeconds * 1000) {
        const batch = Array.from({ length: fanOutBatchRows }, (_, i) => ({ id: writes + written + i }));
        for (const r of batch) sentAt.set(r.id, now());
        await call("POST", `/databases/bench/tables/${table}/rows`, JSON.stringify(batch));
        written += fanOutBatchRows;
      }
      await until(() => delivered === written * count, 120_000);
      const fanOutTime = (now() - fanOutStart) / 1000;
      results.push({ what: `fan-out, ${count} subscriber(s)`, "p50 ms": "-", "p90 ms": "-", "p99 ms": "-", rate: `${formatRate((written * count) / fanOutTime)} rows/s delivered`, "p50/floor": "-", "p99/floor": "-" });
      for (const s of subscriptions) s.close();
      console.error(`  measured ${count} subscriber(s)`);
    }

    if (redisRow) results.push(redisRow);
  } finally {
    redis?.stop();
    await server.stop();
    rmSync(state, { recursive: true, force: true });
  }
  console.log(`latency: ${writes} single-row writes, each awaited until every subscriber has it; fan-out for ${fanOutSeconds}s`);
  printTable(results);
}
