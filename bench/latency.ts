/**
 * Subscription latency: from a write request being sent to a subscriber
 * receiving the row, p50/p90/p99 over 1,000 single-row writes, with 1 and
 * with 100 subscribers on the bucket (and how long the writer waited for its
 * answer, to see whether subscribers slow writers down), plus fan-out rows/s (rows delivered
 * to all subscribers per second while a writer sends 100-row batches).
 * Subscribers name the table's one bucket (`buckets: [0]`).
 *
 * The reference, measured in the same run with the same socket counts and
 * alternating with Floe's writes one by one, is probe C (bench/probe): one
 * Durable Object holding the clients' hibernated WebSockets itself and
 * sending each POSTed message to all of them, timed from the POST being sent
 * to each socket receiving it. Targets for 100 subscribers: Floe's p50 at
 * most 1.5x probe C's, its p99 at most 3x. Context: the round trip of
 * `GET /v1/health` (the floor), and Redis Streams (XADD, read by a client
 * blocked in XREAD BLOCK).
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startServer } from "../test/smoke/server.ts";
import { startProbe } from "./probe/start.ts";
import { subscribe, type Subscription } from "../src/client/subscribe.ts";
import { formatRate, median, percentile, printTable, seconds } from "./measure.ts";
import { RedisClient, startRedis } from "./redis.ts";

const writes = Number(process.env.FLOE_BENCH_WRITES ?? 1_000);
const subscriberCounts = (process.env.FLOE_BENCH_SUBSCRIBERS ?? "1,100").split(",").map(Number);
const fanOutSeconds = Number(process.env.FLOE_BENCH_FANOUT_SECONDS ?? 5);
const fanOutBatchRows = 100;
/** The subscriber count the targets are stated for, and the targets (ratios to probe C). */
const targetSubscribers = 100;
const p50TargetMax = 1.5;
const p99TargetMax = 3;

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

/** Probe C's sockets on one hub: `count` WebSockets, open, each message handed to `onMessage` with its arrival time. */
async function probeSockets(url: string, hub: string, count: number, onMessage: (data: string, at: number) => void): Promise<WebSocket[]> {
  return Promise.all(Array.from({ length: count }, () => new Promise<WebSocket>((resolve, reject) => {
    const ws = new WebSocket(`${url.replace("http", "ws")}/ws?hub=${hub}`);
    ws.addEventListener("message", (event) => onMessage(String(event.data), now()));
    ws.addEventListener("open", () => resolve(ws));
    ws.addEventListener("error", () => reject(new Error(`probe: socket to hub ${hub} failed`)));
  })));
}

export async function run(): Promise<void> {
  const state = mkdtempSync(join(tmpdir(), "floe-bench-"));
  const probeState = mkdtempSync(join(tmpdir(), "floe-bench-probe-"));
  const server = await startServer(state);
  const probe = await startProbe(probeState).catch(async (error) => {
    await server.stop();
    throw error;
  });
  const redis = await startRedis();
  const v1 = `${server.url}/v1`;
  const call = async (method: string, path: string, body?: string) => {
    const response = await fetch(`${v1}${path}`, { method, body, headers: body ? { "content-type": "application/json" } : {} });
    if (!response.ok) throw new Error(`${path}: ${response.status} ${await response.text()}`);
    return response.json();
  };
  const results: Record<string, string>[] = [];
  const verdicts: string[] = [];
  let redisRow: Record<string, string> | undefined;
  const ratio = (value: number, reference?: number) => (reference ? (value / reference).toFixed(2) : "-");
  const row = (what: string, latencies: number[], rate: string, floor?: number, probeC?: number[]) => ({
    what,
    "p50 ms": median(latencies).toFixed(2),
    "p90 ms": percentile(latencies, 90).toFixed(2),
    "p99 ms": percentile(latencies, 99).toFixed(2),
    rate,
    "p50/floor": ratio(median(latencies), floor),
    "p99/floor": ratio(percentile(latencies, 99), floor),
    "p50/probe C": ratio(median(latencies), probeC && median(probeC)),
    "p99/probe C": ratio(percentile(latencies, 99), probeC && percentile(probeC, 99)),
  });
  const fanOutRow = (what: string, rate: string) => ({ ...row(what, [0], rate), "p50 ms": "-", "p90 ms": "-", "p99 ms": "-" });
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
          buckets: [0],
          onBatch: (batch) => {
            const at = now();
            for (const r of batch.rows!) {
              latencies.push(at - sentAt.get(r.id as number)!);
              delivered++;
            }
          },
        }));
      }
      const probeSentAt = new Map<number, number>();
      const probeLatencies: number[] = [];
      let probeDelivered = 0;
      const sockets = await probeSockets(probe.url, `lat-${count}`, count, (data, at) => {
        probeLatencies.push(at - probeSentAt.get(Number(data))!);
        probeDelivered++;
      });
      await until(() => subscriptions.every((s) => s.positions()[0] !== undefined));
      // Floe's writes and probe C's broadcasts alternate one by one, so both see the same machine.
      const answered: number[] = [];
      const probeAnswered: number[] = [];
      for (let id = 0; id < writes; id++) {
        sentAt.set(id, now());
        await call("POST", `/databases/bench/tables/${table}/rows`, JSON.stringify([{ id }]));
        answered.push(now() - sentAt.get(id)!);
        await until(() => delivered === (id + 1) * count);
        probeSentAt.set(id, now());
        const response = await fetch(`${probe.url}/broadcast?hub=lat-${count}`, { method: "POST", body: String(id) });
        if (!response.ok) throw new Error(`probe broadcast: ${response.status} ${await response.text()}`);
        await response.arrayBuffer();
        probeAnswered.push(now() - probeSentAt.get(id)!);
        await until(() => probeDelivered === (id + 1) * count);
      }
      for (const ws of sockets) ws.close();
      results.push(row(`probe C: broadcast answered, ${count} socket(s)`, probeAnswered, "-", floor));
      results.push(row(`probe C: POST → ${count} socket(s)`, probeLatencies, `${probeLatencies.length} deliveries`, floor, probeLatencies));
      results.push(row(`write answered, ${count} subscriber(s)`, answered, "-", floor));
      results.push(row(`e2e write → ${count} subscriber(s)`, latencies, `${latencies.length} deliveries`, floor, probeLatencies));
      if (count === targetSubscribers) {
        const p50Ratio = median(latencies) / median(probeLatencies);
        const p99Ratio = percentile(latencies, 99) / percentile(probeLatencies, 99);
        verdicts.push(`e2e write → ${count} subscribers / probe C: p50 ${p50Ratio.toFixed(2)}x (target <= ${p50TargetMax}x: ${p50Ratio <= p50TargetMax ? "met" : "not met"}), `
          + `p99 ${p99Ratio.toFixed(2)}x (target <= ${p99TargetMax}x: ${p99Ratio <= p99TargetMax ? "met" : "not met"})`);
      }

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
      results.push(fanOutRow(`fan-out, ${count} subscriber(s)`, `${formatRate((written * count) / fanOutTime)} rows/s delivered`));
      for (const s of subscriptions) s.close();
      console.error(`  measured ${count} subscriber(s)`);
    }

    if (redisRow) results.push(redisRow);
  } finally {
    redis?.stop();
    await Promise.all([server.stop(), probe.stop()]);
    rmSync(state, { recursive: true, force: true });
    rmSync(probeState, { recursive: true, force: true });
  }
  console.log(`latency: ${writes} single-row writes, each awaited until every subscriber has it; fan-out for ${fanOutSeconds}s`);
  printTable(results);
  for (const line of verdicts) console.log(line);
}
