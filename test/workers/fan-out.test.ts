/**
 * The routes that ask many Tablets stay within a request's subrequests
 * (50 on the Workers free plan) whatever the bucket count: describe shows
 * at most `describeBucketsMax` buckets' offsets per answer, paged with
 * `?buckets=from-to`; `GET /v1/metrics` answers tables, and a large table's
 * buckets, in pages of a bounded cost, with a `next` cursor. Paging through
 * gives every bucket once.
 */
import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import worker from "../../src/index.ts";
import { describeBucketsMax } from "../../src/api/tablets.ts";
import { metricsSubrequestsMax } from "../../src/api/metrics.ts";
import { clientRequest, expectError, ok } from "./helpers.ts";

const subrequestsMax = 50;

/** Calls the Worker counting what it asks of other services: Tablets, D1 queries, R2 reads. */
async function counted(path: string): Promise<{ status: number; body: any; headers: Headers; tablets: number; subrequests: number }> {
  let tablets = 0;
  let others = 0;
  const counting = <T extends object>(binding: T, methods: Record<string, () => void>): T =>
    new Proxy(binding, {
      get(target, property) {
        const value = Reflect.get(target, property) as unknown;
        if (typeof value !== "function") return value;
        const count = methods[String(property)];
        return (...args: unknown[]) => {
          count?.();
          return (value as (...a: unknown[]) => unknown).apply(target, args);
        };
      },
    });
  const bindings = {
    ...env,
    TABLET: counting(env.TABLET, { get: () => tablets++ }),
    CATALOG: counting(env.CATALOG, { prepare: () => others++ }),
    LAKE: counting(env.LAKE, { get: () => others++, head: () => others++ }),
  };
  const ctx = createExecutionContext();
  const response = await worker.fetch(clientRequest("GET", path), bindings, ctx);
  await waitOnExecutionContext(ctx);
  return { status: response.status, body: await response.json(), headers: response.headers, tablets, subrequests: tablets + others };
}

const numbers = (buckets: number) => ({ columns: [{ name: "n", type: "INT" }], bucket: { num: buckets } });
const wide = 100;

beforeAll(async () => {
  await ok("PUT", "/databases/fan");
  await ok("PUT", "/databases/fan/tables/wide", numbers(wide));
  await ok("POST", "/databases/fan/tables/wide/rows", Array.from({ length: 1000 }, (_, n) => ({ n })));
  for (const name of ["a", "b", "c"]) {
    await ok("PUT", `/databases/fan/tables/${name}`, numbers(2));
    await ok("POST", `/databases/fan/tables/${name}/rows`, [{ n: 1 }, { n: 2 }, { n: 3 }]);
  }
  await ok("PUT", "/databases/fan_other");
  await ok("PUT", "/databases/fan_other/tables/z", numbers(1));
});

describe(`describe: at most ${describeBucketsMax} buckets' offsets per answer`, () => {
  it("pages a table's buckets with ?buckets=from-to, within the subrequests of one request", async () => {
    const seen: number[] = [];
    let buckets: string | null = null;
    let pages = 0;
    do {
      const answer = await counted(`/databases/fan/tables/wide${buckets === null ? "" : `?buckets=${buckets}`}`);
      expect(answer.status, JSON.stringify(answer.body)).toBe(200);
      expect(answer.body.buckets.length).toBeLessThanOrEqual(describeBucketsMax);
      expect(answer.tablets).toBe(answer.body.buckets.length);
      expect(answer.subrequests).toBeLessThanOrEqual(subrequestsMax);
      seen.push(...answer.body.buckets.map((b: { bucket: number }) => b.bucket));
      buckets = answer.body.nextBuckets;
      pages++;
    } while (buckets !== null);
    expect(seen).toEqual(Array.from({ length: wide }, (_, b) => b));
    expect(pages).toBe(Math.ceil(wide / describeBucketsMax));
  });

  it("answers a range, and refuses one too long, outside the table or malformed", async () => {
    const answer = await ok("GET", "/databases/fan/tables/wide?buckets=95-99");
    expect(answer.buckets.map((b: { bucket: number }) => b.bucket)).toEqual([95, 96, 97, 98, 99]);
    expect(answer.nextBuckets).toBeNull();
    expect((await ok("GET", "/databases/fan/tables/a")).nextBuckets).toBeNull();
    const refused = [`0-${describeBucketsMax}`, "100-100", "5-4", "x", "3", "-1-2"];
    for (const range of refused) {
      expectError(await counted(`/databases/fan/tables/wide?buckets=${range}`), 400, "bad_request", /buckets/);
    }
  });
});

describe(`GET /v1/metrics: pages of at most ${metricsSubrequestsMax} subrequests`, () => {
  it("pages tables and a large table's buckets with a cursor, every bucket once and the counters summing up", async () => {
    const byTable = new Map<string, { buckets: number[]; rowsWritten: number }>();
    let cursor: string | null = null;
    do {
      const answer = await counted(`/metrics?database=fan${cursor === null ? "" : `&cursor=${encodeURIComponent(cursor)}`}`);
      expect(answer.status, JSON.stringify(answer.body)).toBe(200);
      expect(answer.subrequests).toBeLessThanOrEqual(metricsSubrequestsMax);
      expect(answer.tablets).toBeGreaterThan(0);
      for (const table of answer.body.tables) {
        const seen = byTable.get(table.table) ?? { buckets: [], rowsWritten: 0 };
        seen.buckets.push(...table.buckets.map((b: { bucket: number }) => b.bucket));
        seen.rowsWritten += table.rowsWritten;
        byTable.set(table.table, seen);
        expect(table.bucketCount).toBe(table.table === "wide" ? wide : 2);
      }
      cursor = answer.body.next;
    } while (cursor !== null);
    expect([...byTable.keys()]).toEqual(["a", "b", "c", "wide"]);
    expect(byTable.get("wide")).toEqual({ buckets: Array.from({ length: wide }, (_, b) => b), rowsWritten: 1000 });
    for (const name of ["a", "b", "c"]) expect(byTable.get(name)).toEqual({ buckets: [0, 1], rowsWritten: 3 });
  });

  it("pages every database's tables without ?database=", async () => {
    const names: string[] = [];
    let cursor: string | null = null;
    do {
      const answer = await counted(`/metrics${cursor === null ? "" : `?cursor=${encodeURIComponent(cursor)}`}`);
      expect(answer.subrequests).toBeLessThanOrEqual(metricsSubrequestsMax);
      for (const table of answer.body.tables) if (!names.includes(`${table.database}.${table.table}`)) names.push(`${table.database}.${table.table}`);
      cursor = answer.body.next;
    } while (cursor !== null);
    expect(names).toEqual(["fan.a", "fan.b", "fan.c", "fan.wide", "fan_other.z"]);
  });

  it("charges a partitioned lake table's lake reads to the page, listing each table once", async () => {
    const tables = metricsSubrequestsMax;
    await ok("PUT", "/databases/fan_parts");
    const definition = { columns: [{ name: "dt", type: "STRING" }, { name: "n", type: "INT" }], partitionKeys: ["dt"], bucket: { num: 1 }, properties: { "table.datalake.enabled": "true" } };
    for (let t = 0; t < tables; t++) {
      await ok("PUT", `/databases/fan_parts/tables/p${String(t).padStart(2, "0")}`, definition);
      await ok("POST", `/databases/fan_parts/tables/p${String(t).padStart(2, "0")}/rows?dynamicPartitions=true`, [{ dt: "d", n: t }]);
    }
    // Tiered, so each table has lake state and metadata to read.
    await ok("POST", "/tiering/run");
    const names: string[] = [];
    let cursor: string | null = null;
    do {
      const answer = await counted(`/metrics?database=fan_parts${cursor === null ? "" : `&cursor=${encodeURIComponent(cursor)}`}`);
      expect(answer.status, JSON.stringify(answer.body)).toBe(200);
      expect(answer.subrequests).toBeLessThanOrEqual(metricsSubrequestsMax);
      names.push(...answer.body.tables.map((t: { table: string }) => t.table));
      cursor = answer.body.next;
    } while (cursor !== null);
    expect(names).toEqual(Array.from({ length: tables }, (_, t) => `p${String(t).padStart(2, "0")}`));
  });

  it("refuses a malformed cursor", async () => {
    for (const cursor of ["x", "fan.a", "fan.a.-1", "fan..1", "bad name.a.0"]) {
      expectError(await counted(`/metrics?cursor=${encodeURIComponent(cursor)}`), 400, "bad_request", /cursor/);
    }
  });
});
