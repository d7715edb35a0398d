/**
 * The bounds of partitioned tables, each at its value and one past it:
 * partitions per table (1,000), Tablets per table (4,096: partitions ×
 * buckets), partitions one write reaches (1,024 Tablets' worth), and the
 * partition list's Tablet calls per answer (32 buckets' offsets), and the
 * characters of a partition's spec (400, so a lake file's R2 key fits).
 */
import { describe, expect, it } from "vitest";
import { partitionLimits } from "../../src/table/partitioning.ts";
import { describeBucketsMax } from "../../src/api/tablets.ts";
import { describePartitionsMax } from "../../src/api/tables.ts";
import { api, createTable, expectError, ok } from "./helpers.ts";

const byDay = (buckets: number) => ({
  columns: [{ name: "dt", type: "STRING" }, { name: "id", type: "BIGINT" }],
  partitionKeys: ["dt"],
  bucket: { num: buckets },
});

const path = (table: string, rest = "") => `/databases/limits/tables/${table}${rest}`;
const day = (n: number) => `p${String(n).padStart(4, "0")}`;
const oneRowEach = (from: number, count: number) => Array.from({ length: count }, (_, i) => ({ dt: day(from + i), id: from + i }));

describe("characters of a partition's spec", () => {
  it(`takes ${partitionLimits.specLengthMax} and refuses one more with 400, creating and writing nothing`, async () => {
    await createTable("limits", "longspecs", {
      columns: [{ name: "a", type: "STRING" }, { name: "b", type: "STRING" }, { name: "c", type: "STRING" }, { name: "id", type: "BIGINT" }],
      partitionKeys: ["a", "b", "c"],
      bucket: { num: 1 },
    });
    // `a=…/b=…/c=…`: 8 characters besides the values.
    const values = (total: number) => ["x".repeat(150), "y".repeat(150), "z".repeat(total - 308)];
    const spec = (total: number) => values(total).map((v, i) => `${"abc"[i]}=${v}`).join("/");
    const row = (total: number) => ({ a: values(total)[0], b: values(total)[1], c: values(total)[2], id: total });
    const max = partitionLimits.specLengthMax;
    expect(spec(max).length).toBe(max);
    expect((await api("PUT", path("longspecs", `/partitions/${spec(max)}`))).status).toBe(201);
    expectError(await api("PUT", path("longspecs", `/partitions/${spec(max + 1)}`)), 400, "bad_request", new RegExp(`spec has at most ${max} characters, got ${max + 1}`));
    await ok("POST", path("longspecs", "/rows"), [row(max)]);
    const refused = await api("POST", path("longspecs", "/rows?dynamicPartitions=true"), [row(max), row(max + 1)]);
    expectError(refused, 400, "bad_request", new RegExp(`row 1, a partition's spec has at most ${max} characters`));
    const { partitions } = await ok("GET", path("longspecs", "/partitions"));
    expect(partitions.map((p: { partition: string }) => p.partition)).toEqual([spec(max)]);
    const log = await ok("GET", path("longspecs", `/log?partition=${spec(max)}&bucket=0`));
    expect(log.rows.map((r: { id: number }) => r.id)).toEqual([max]);
  });
});

describe("partitions per table", () => {
  it(`holds ${partitionLimits.partitionsPerTableMax} and refuses one more with 409, writing nothing`, async () => {
    const max = partitionLimits.partitionsPerTableMax;
    await createTable("limits", "many", byDay(1));
    await ok("POST", path("many", "/rows?dynamicPartitions=true"), oneRowEach(0, max - 1));
    expect((await api("PUT", path("many", `/partitions/dt=${day(max - 1)}`))).status).toBe(201);
    expectError(await api("PUT", path("many", `/partitions/dt=${day(max)}`)), 409, "conflict", new RegExp(`has ${max} partitions, and 1 more would take it past ${max} partitions`));
    // A write that needs one partition more writes nothing, also in the partitions that exist.
    const refused = await api("POST", path("many", "/rows?dynamicPartitions=true"), [{ dt: day(0), id: 7 }, { dt: day(max), id: 8 }]);
    expectError(refused, 409, "conflict");
    const first = await ok("GET", path("many", `/log?partition=dt=${day(0)}&bucket=0`));
    expect(first.rows.map((r: { id: number }) => r.id)).toEqual([0]);
    // Describe lists the first partitions, and counts them all.
    const described = await ok("GET", path("many"));
    expect(described.partitionCount).toBe(max);
    expect(described.partitions.length).toBe(describePartitionsMax);
    // One dropped, one fits again.
    await ok("DELETE", path("many", `/partitions/dt=${day(0)}`));
    expect((await api("PUT", path("many", `/partitions/dt=${day(max)}`))).status).toBe(201);
  });
});

describe("Tablets per table", () => {
  it(`holds ${partitionLimits.tabletsPerTableMax} (4 partitions of 1,024 buckets) and refuses a partition more`, async () => {
    await createTable("limits", "wide", byDay(1024));
    const fit = partitionLimits.tabletsPerTableMax / 1024;
    for (let n = 0; n < fit; n++) expect((await api("PUT", path("wide", `/partitions/dt=${day(n)}`))).status).toBe(201);
    expectError(await api("PUT", path("wide", `/partitions/dt=${day(fit)}`)), 409, "conflict", new RegExp(`past ${partitionLimits.tabletsPerTableMax} Tablets: ${fit} partitions of 1024 buckets`));
    expect((await ok("GET", path("wide"))).partitionCount).toBe(fit);
  });
});

describe("partitions one write reaches", () => {
  it("takes 1,024 Tablets' worth (256 partitions of 4 buckets) and refuses one more with 413, creating and writing nothing", async () => {
    await createTable("limits", "fanout", byDay(4));
    const max = partitionLimits.tabletsPerWriteMax / 4;
    const written = await ok("POST", path("fanout", "/rows?dynamicPartitions=true"), oneRowEach(0, max));
    expect(new Set(written.buckets.map((b: { partition: string }) => b.partition)).size).toBe(max);
    const refused = await api("POST", path("fanout", "/rows?dynamicPartitions=true"), oneRowEach(1000, max + 1));
    expectError(refused, 413, "payload_too_large", new RegExp(`at most ${max} partitions of this table .*got ${max + 1}`));
    expect((await ok("GET", path("fanout"))).partitionCount).toBe(max);
  });
});

describe("the partition list", () => {
  it(`shows at most ${describeBucketsMax} buckets' offsets per answer, a partition continuing in the next`, async () => {
    await createTable("limits", "paged", byDay(5));
    const rows = Array.from({ length: 200 }, (_, id) => ({ dt: day(id % 10), id }));
    await ok("POST", path("paged", "/rows?dynamicPartitions=true"), rows);
    const seen: string[] = [];
    let total = 0;
    let cursor: string | null = null;
    let pages = 0;
    do {
      const page: any = await ok("GET", path("paged", `/partitions${cursor === null ? "" : `?cursor=${encodeURIComponent(cursor)}`}`));
      const buckets = page.partitions.flatMap((p: any) => p.buckets.map((b: any) => `${p.partition}:${b.bucket}`));
      expect(buckets.length).toBeLessThanOrEqual(describeBucketsMax);
      seen.push(...buckets);
      total += page.partitions.reduce((n: number, p: any) => n + p.buckets.reduce((m: number, b: any) => m + b.highWatermark, 0), 0);
      cursor = page.next;
      pages++;
    } while (cursor !== null);
    expect(pages).toBe(Math.ceil(50 / describeBucketsMax));
    expect(seen).toEqual(Array.from({ length: 10 }, (_, p) => [0, 1, 2, 3, 4].map((b) => `dt=${day(p)}:${b}`)).flat());
    expect(total).toBe(200);
    for (const bad of ["x", "dt=a:", ":1", `dt=a:${"9".repeat(5)}`]) {
      expectError(await api("GET", path("paged", `/partitions?cursor=${encodeURIComponent(bad)}`)), 400, "bad_request", /cursor must be/);
    }
  });
});
