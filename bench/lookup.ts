/**
 * Primary-key lookups: latency and throughput of point lookups (1 key per
 * call, one client) and batched lookups (100 keys per call, 8 concurrent
 * clients) over a table of `FLOE_BENCH_KEYS` keys (default 1M) in 8 buckets,
 * plus the upsert rate of loading it. The references, measured in the same
 * run, are the platform probe (bench/probe) seeded with the same keys: probe
 * A, a Worker reading one key from one Durable Object's SQLite, for the
 * single-key p50 (target at most 1.1x), and probe B, a Worker asking 8
 * Durable Objects in parallel for their share of 100 keys, for calls/s with
 * 8 clients (target at least 0.9x). Context: `GET /v1/health` on Floe's
 * server (floor, and its ceiling with 8 clients) and Redis GET / MGET.
 */
import * as arrow from "apache-arrow";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startServer } from "../test/smoke/server.ts";
import { seedProbe, startProbe } from "./probe/start.ts";
import { formatRate, median, percentile, printTable, seconds } from "./measure.ts";
import { RedisClient, startRedis } from "./redis.ts";

const keyCount = Number(process.env.FLOE_BENCH_KEYS ?? 1_000_000);
const loadBatchRows = 10_000;
const loadConcurrency = 4;
const pointLookups = 2_000;
const batchedClients = 8;
const batchedCallsPerClient = 150;
const batchKeys = 100;
/** Batched calls alternate between probe B and Floe in this many rounds, so both see the same machine. */
const batchedRounds = 3;
const singleTargetMax = 1.1;
const batchedTargetMin = 0.9;

function loadBody(from: number, count: number): Uint8Array {
  const ids = Array.from({ length: count }, (_, i) => from + i);
  const table = new arrow.Table({
    id: arrow.vectorFromArray(ids.map(BigInt), new arrow.Int64()),
    name: arrow.vectorFromArray(ids.map((id) => `name-${id}`), new arrow.Utf8()),
    city: arrow.vectorFromArray(ids.map((id) => ["Oslo", "Rome", "Lima", "Pune"][id % 4]!), new arrow.Utf8()),
    score: arrow.vectorFromArray(ids.map((id) => id % 1000), new arrow.Int32()),
  });
  return arrow.tableToIPC(table, "stream");
}

const randomKey = () => Math.floor(Math.random() * keyCount);

/** Runs `clients` loops of `calls` timed calls each; answers per-call latencies (ms) and the wall time (s). */
async function concurrently(clients: number, calls: number, call: () => Promise<unknown>): Promise<{ latencies: number[]; wall: number }> {
  const latencies: number[] = [];
  const wall = await seconds(() =>
    Promise.all(Array.from({ length: clients }, async () => {
      for (let i = 0; i < calls; i++) latencies.push((await seconds(call)) * 1000);
    })),
  );
  return { latencies, wall };
}

/** `concurrently` for each kind of call, in `rounds` turns of `calls / rounds` calls per client; answers each kind's totals. */
async function interleaved(rounds: number, clients: number, calls: number, kinds: (() => Promise<unknown>)[]) {
  const totals = kinds.map(() => ({ latencies: [] as number[], wall: 0 }));
  for (let r = 0; r < rounds; r++) {
    for (const [k, call] of kinds.entries()) {
      const { latencies, wall } = await concurrently(clients, Math.ceil(calls / rounds), call);
      totals[k]!.latencies.push(...latencies);
      totals[k]!.wall += wall;
    }
  }
  return totals.map((t) => ({ ...t, calls: t.latencies.length }));
}

const verdict = (met: boolean) => (met ? "met" : "not met");

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
  const probeCall = async (path: string, body: unknown) => {
    const response = await fetch(`${probe.url}${path}`, { method: "POST", body: JSON.stringify(body), headers: { "content-type": "application/json" } });
    if (!response.ok) throw new Error(`probe ${path}: ${response.status} ${await response.text()}`);
    return response.json();
  };
  const call = async (method: string, path: string, body?: string | Uint8Array, type = "application/json") => {
    const response = await fetch(`${v1}${path}`, { method, body, headers: body ? { "content-type": type } : {} });
    if (!response.ok) throw new Error(`${path}: ${response.status} ${await response.text()}`);
    return response.json();
  };
  const results: Record<string, string>[] = [];
  const verdicts: string[] = [];
  try {
    await call("PUT", "/databases/bench");
    await call("PUT", "/databases/bench/tables/users", JSON.stringify({
      columns: [{ name: "id", type: "BIGINT" }, { name: "name", type: "STRING" }, { name: "city", type: "STRING" }, { name: "score", type: "INT" }],
      primaryKey: ["id"],
      bucket: { num: 8 },
    }));
    let nextBatch = 0;
    const loadTime = await seconds(() =>
      Promise.all(Array.from({ length: loadConcurrency }, async () => {
        for (let from = nextBatch; from < keyCount; from = nextBatch) {
          nextBatch += loadBatchRows;
          await call("POST", "/databases/bench/tables/users/rows", loadBody(from, Math.min(loadBatchRows, keyCount - from)),
            "application/vnd.apache.arrow.stream");
        }
      })),
    );
    console.error(`  loaded ${keyCount} keys`);
    await seedProbe(probe.url, keyCount);
    console.error(`  seeded the probe with ${keyCount} keys`);
    results.push({ what: `upsert (Arrow, ${loadBatchRows} rows/call, ${loadConcurrency} clients)`, "p50 ms": "-", "p99 ms": "-", rate: `${formatRate(keyCount / loadTime)} rows/s`, ratio: "-" });

    // The floor, probe A and the point lookups alternate call by call, so all three see the same machine.
    const lookupPath = "/databases/bench/tables/users/lookup";
    const healthLatencies: number[] = [];
    const probeALatencies: number[] = [];
    const singleLatencies: number[] = [];
    for (let i = 0; i < pointLookups; i++) {
      healthLatencies.push((await seconds(() => call("GET", "/health"))) * 1000);
      probeALatencies.push((await seconds(() => probeCall("/get", { id: randomKey() }))) * 1000);
      singleLatencies.push((await seconds(() => call("POST", lookupPath, JSON.stringify({ keys: [{ id: randomKey() }] })))) * 1000);
    }
    const floor = median(healthLatencies);
    const probeA = median(probeALatencies);
    const singleP50 = median(singleLatencies);
    const singleRatio = singleP50 / probeA;
    const perSecond = (latencies: number[]) => 1000 / (latencies.reduce((a, b) => a + b, 0) / latencies.length);
    results.push({ what: "GET /v1/health (floor)", "p50 ms": floor.toFixed(2), "p99 ms": percentile(healthLatencies, 99).toFixed(2), rate: `${formatRate(perSecond(healthLatencies))} req/s`, ratio: `${(floor / probeA).toFixed(2)}x probe A p50` });
    results.push({ what: "probe A: 1 DO, SELECT 1 key, 1 client", "p50 ms": probeA.toFixed(2), "p99 ms": percentile(probeALatencies, 99).toFixed(2), rate: `${formatRate(perSecond(probeALatencies))} keys/s`, ratio: "1.00 (reference)" });
    results.push({ what: "lookup 1 key, 1 client", "p50 ms": singleP50.toFixed(2), "p99 ms": percentile(singleLatencies, 99).toFixed(2), rate: `${formatRate(perSecond(singleLatencies))} keys/s`, ratio: `${singleRatio.toFixed(2)}x probe A p50` });
    verdicts.push(`single-key lookup p50 / probe A p50 = ${singleRatio.toFixed(2)}x (target <= ${singleTargetMax}x: ${verdict(singleRatio <= singleTargetMax)})`);

    const healthConcurrent = await concurrently(batchedClients, batchedCallsPerClient, () => call("GET", "/health"));
    const ceiling = (batchedClients * batchedCallsPerClient) / healthConcurrent.wall;
    results.push({ what: `GET /v1/health, ${batchedClients} clients (ceiling)`, "p50 ms": median(healthConcurrent.latencies).toFixed(2), "p99 ms": percentile(healthConcurrent.latencies, 99).toFixed(2), rate: `${formatRate(ceiling)} req/s`, ratio: "-" });

    const randomKeys = () => Array.from({ length: batchKeys }, randomKey);
    const [probeB, batched] = await interleaved(batchedRounds, batchedClients, batchedCallsPerClient, [
      () => probeCall("/mget", { ids: randomKeys() }),
      () => call("POST", lookupPath, JSON.stringify({ keys: randomKeys().map((id) => ({ id })) })),
    ]);
    const probeBCalls = probeB!.calls / probeB!.wall;
    const batchedCalls = batched!.calls / batched!.wall;
    const batchedRate = batchedCalls * batchKeys;
    const batchedRatio = batchedCalls / probeBCalls;
    results.push({ what: `probe B: 8 DOs, SELECT IN, ${batchKeys} keys, ${batchedClients} clients`, "p50 ms": median(probeB!.latencies).toFixed(2), "p99 ms": percentile(probeB!.latencies, 99).toFixed(2), rate: `${formatRate(probeBCalls * batchKeys)} keys/s`, ratio: `1.00 (reference, ${probeBCalls.toFixed(0)} calls/s)` });
    results.push({ what: `lookup ${batchKeys} keys, ${batchedClients} clients`, "p50 ms": median(batched!.latencies).toFixed(2), "p99 ms": percentile(batched!.latencies, 99).toFixed(2), rate: `${formatRate(batchedRate)} keys/s`, ratio: `${batchedRatio.toFixed(2)}x probe B calls/s` });
    verdicts.push(`${batchKeys}-key lookups, ${batchedClients} clients, calls/s / probe B calls/s = ${batchedRatio.toFixed(2)}x (target >= ${batchedTargetMin}x: ${verdict(batchedRatio >= batchedTargetMin)})`);

    if (redis) {
      const client = await RedisClient.connect(redis.port);
      for (let from = 0; from < keyCount; from += 1000) {
        const pairs: (string | number)[] = [];
        for (let id = from; id < Math.min(keyCount, from + 1000); id++) pairs.push(`u:${id}`, `{"id":${id},"name":"name-${id}","city":"Oslo","score":${id % 1000}}`);
        await client.command("MSET", ...pairs);
      }
      const get = await concurrently(1, pointLookups, () => client.command("GET", `u:${randomKey()}`));
      results.push({ what: "redis GET, 1 client", "p50 ms": median(get.latencies).toFixed(3), "p99 ms": percentile(get.latencies, 99).toFixed(3), rate: `${formatRate(pointLookups / get.wall)} keys/s`, ratio: `${(singleP50 / median(get.latencies)).toFixed(1)}x floe/redis p50` });
      const clients = await Promise.all(Array.from({ length: batchedClients }, () => RedisClient.connect(redis.port)));
      let turn = 0;
      const mget = await concurrently(batchedClients, batchedCallsPerClient, () =>
        clients[turn++ % batchedClients]!.command("MGET", ...Array.from({ length: batchKeys }, () => `u:${randomKey()}`)));
      const mgetRate = (batchedClients * batchedCallsPerClient * batchKeys) / mget.wall;
      results.push({ what: `redis MGET ${batchKeys}, ${batchedClients} clients`, "p50 ms": median(mget.latencies).toFixed(3), "p99 ms": percentile(mget.latencies, 99).toFixed(3), rate: `${formatRate(mgetRate)} keys/s`, ratio: `${(batchedRate / mgetRate).toFixed(2)}x floe/redis rate` });
      for (const c of [client, ...clients]) c.close();
    } else {
      console.error("  redis-server not installed: skipping the Redis reference (apt-get install redis-server)");
    }
  } finally {
    redis?.stop();
    await Promise.all([server.stop(), probe.stop()]);
    rmSync(state, { recursive: true, force: true });
    rmSync(probeState, { recursive: true, force: true });
  }
  console.log(`lookup: ${keyCount} keys in 8 buckets (Floe and the probe); latency measured per call by the client`);
  printTable(results);
  for (const line of verdicts) console.log(line);
}
