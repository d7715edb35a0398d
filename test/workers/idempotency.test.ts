import { describe, expect, it } from "vitest";
import { api, createTable, expectError, highWatermarks, ok, readAllBuckets } from "./helpers.ts";

const rows = (from: number, count: number) =>
  Array.from({ length: count }, (_, i) => ({ id: from + i, user: `u${(from + i) % 7}`, amount: "1.00", ts: from + i }));

const writer = (id: string, seq: number) => ({ "Floe-Writer-Id": id, "Floe-Writer-Seq": String(seq) });

describe("idempotent writers", () => {
  it("writes a retried sequence once and answers with the original offsets", async () => {
    await createTable("idem", "t");
    const first = await ok("POST", "/databases/idem/tables/t/rows", rows(0, 20), writer("w1", 1));
    const retry = await ok("POST", "/databases/idem/tables/t/rows", rows(0, 20), writer("w1", 1));
    expect(retry.buckets).toEqual(first.buckets.map((b: object) => ({ ...b, duplicate: true })));
    expect((await readAllBuckets("idem", "t", 4)).flat()).toHaveLength(20);
    const next = await ok("POST", "/databases/idem/tables/t/rows", rows(20, 20), writer("w1", 2));
    expect(next.buckets.some((b: { duplicate?: boolean }) => b.duplicate)).toBe(false);
    expect((await readAllBuckets("idem", "t", 4)).flat()).toHaveLength(40);
  });

  it("refuses a sequence older than the last committed one with 409 and writes nothing", async () => {
    await createTable("idem", "order");
    await ok("POST", "/databases/idem/tables/order/rows", rows(0, 20), writer("w", 5));
    const before = await highWatermarks("idem", "order");
    expectError(await api("POST", "/databases/idem/tables/order/rows", rows(100, 20), writer("w", 3)), 409, "conflict", /older than 5/);
    expect(await highWatermarks("idem", "order")).toEqual(before);
  });

  it("keeps writers apart", async () => {
    await createTable("idem", "apart");
    await ok("POST", "/databases/idem/tables/apart/rows", rows(0, 10), writer("a", 1));
    const other = await ok("POST", "/databases/idem/tables/apart/rows", rows(10, 10), writer("b", 1));
    expect(other.buckets.some((b: { duplicate?: boolean }) => b.duplicate)).toBe(false);
    expect((await readAllBuckets("idem", "apart", 4)).flat()).toHaveLength(20);
  });

  it("sends a keyless retry to the same buckets, so it is still written once", async () => {
    await createTable("idem", "keyless", {
      columns: [{ name: "n", type: "INT" }],
      bucket: { num: 8 },
    });
    const body = Array.from({ length: 2500 }, (_, n) => ({ n }));
    const first = await ok("POST", "/databases/idem/tables/keyless/rows", body, writer("k", 1));
    expect(first.buckets.length).toBe(3);
    const retry = await ok("POST", "/databases/idem/tables/keyless/rows", body, writer("k", 1));
    expect(retry.buckets).toEqual(first.buckets.map((b: object) => ({ ...b, duplicate: true })));
    const all = (await readAllBuckets("idem", "keyless", 8)).flat().map((r) => r.n).sort((a, b) => a - b);
    expect(all).toEqual(body.map((r) => r.n));
  });

  it("validates the writer headers", async () => {
    await createTable("idem", "headers");
    const path = "/databases/idem/tables/headers/rows";
    expectError(await api("POST", path, rows(0, 1), { "Floe-Writer-Id": "w" }), 400, "bad_request", /both/);
    expectError(await api("POST", path, rows(0, 1), writer("w", -1)), 400, "bad_request", /non-negative integer/);
    expectError(await api("POST", path, rows(0, 1), { "Floe-Writer-Id": "x".repeat(129), "Floe-Writer-Seq": "1" }), 400, "bad_request");
  });
});
