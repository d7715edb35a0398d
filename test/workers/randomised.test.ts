import * as arrow from "apache-arrow";
import { describe, expect, it } from "vitest";
import { bucketOfHash, murmur3 } from "../../src/table/bucketing.ts";
import { createTable, ok, readAllBuckets } from "./helpers.ts";
import { random } from "../fixtures.ts";

/** A small deterministic PRNG, so a failure reproduces. */
interface Row {
  id: number;
  user: string;
  amount: string;
  ts: string;
  tags: string | null;
}

function encode(batch: Row[], how: number): [unknown, Record<string, string>] {
  if (how === 0) return [batch, {}];
  if (how === 1) return [batch.map((r) => JSON.stringify(r)).join("\n"), { "content-type": "application/x-ndjson" }];
  const table = new arrow.Table({
    id: arrow.vectorFromArray(batch.map((r) => BigInt(r.id)), new arrow.Int64()),
    user: arrow.vectorFromArray(batch.map((r) => r.user), new arrow.Utf8()),
    amount: arrow.vectorFromArray(
      batch.map((r) => {
        const words = new Uint32Array(4);
        const bits = BigInt.asUintN(128, BigInt(r.amount.replace(".", "")));
        for (let w = 0; w < 4; w++) words[w] = Number((bits >> BigInt(32 * w)) & 0xffffffffn);
        return words;
      }),
      new arrow.Decimal(2, 10, 128),
    ),
    ts: arrow.vectorFromArray(batch.map((r) => Date.parse(r.ts)), new arrow.TimestampMicrosecond("UTC")),
    tags: arrow.vectorFromArray(batch.map((r) => r.tags), new arrow.Utf8()),
  });
  return [arrow.tableToIPC(table, "stream"), { "content-type": "application/vnd.apache.arrow.stream" }];
}

describe("randomised appends", () => {
  it("10,000 rows in random batches and encodings read back complete and in order per bucket", async () => {
    const next = random(20261125);
    const buckets = 5;
    await createTable("rnd", "events", {
      columns: [
        { name: "id", type: "BIGINT", nullable: false },
        { name: "user", type: "STRING" },
        { name: "amount", type: "DECIMAL(10,2)", nullable: false },
        { name: "ts", type: "TIMESTAMP_LTZ(3)", nullable: false },
        { name: "tags", type: "STRING" },
      ],
      bucket: { num: buckets, key: ["user"] },
    });
    const users = Array.from({ length: 40 }, (_, i) => `user-${i}-${"é".repeat(i % 3)}`);
    const written: Row[] = [];
    while (written.length < 10_000) {
      const size = Math.min(10_000 - written.length, 1 + Math.floor(next() ** 3 * 2000));
      const batch = Array.from({ length: size }, (_, i): Row => ({
        id: written.length + i,
        user: users[Math.floor(next() * users.length)]!,
        amount: `${Math.floor(next() * 1e6)}.${String(Math.floor(next() * 100)).padStart(2, "0")}`,
        ts: new Date(1_700_000_000_000 + Math.floor(next() * 1e10)).toISOString(),
        tags: next() < 0.3 ? null : `t${Math.floor(next() * 10)}`,
      }));
      const [body, headers] = encode(batch, Math.floor(next() * 3));
      const answer = await ok("POST", "/databases/rnd/tables/events/rows", body, headers);
      expect(answer.buckets.reduce((n: number, b: { count: number }) => n + b.count, 0)).toBe(size);
      written.push(...batch);
    }
    const stored = await readAllBuckets("rnd", "events", buckets);
    const encoder = new TextEncoder();
    for (let bucket = 0; bucket < buckets; bucket++) {
      const expected = written.filter((r) => bucketOfHash(murmur3(encoder.encode(r.user)), buckets) === bucket);
      const actual = stored[bucket]!;
      expect(actual.map((r) => r._offset)).toEqual(actual.map((_, i) => i));
      expect(actual.map(({ _offset, _timestamp, _change, ...row }) => row)).toEqual(expected);
    }
    expect(stored.flat()).toHaveLength(10_000);
  });
});
