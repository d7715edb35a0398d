import { describe, expect, it } from "vitest";
import { assignBuckets, bucketOfHash, minimalBigEndian, murmur3, signedBigEndian, singleValueBytes } from "../../src/table/bucketing.ts";
import { buildColumn } from "../../src/table/columns.ts";
import type { FloeType } from "../../src/table/types.ts";
import type { Scalar } from "../../src/table/values.ts";
import { scalarFromJson } from "../../src/table/values.ts";

function hashOf(type: FloeType, json: unknown): number {
  const value: Scalar = scalarFromJson(type, json);
  return murmur3(singleValueBytes({ type, data: buildColumn(type, [value]) }, 0));
}

describe("Iceberg bucket hash (spec appendix B vectors)", () => {
  it("hashes ints and longs as 8-byte longs", () => {
    expect(hashOf({ kind: "INT" }, 34)).toBe(2017239379);
    expect(hashOf({ kind: "BIGINT" }, 34)).toBe(2017239379);
    expect(hashOf({ kind: "TINYINT" }, 34)).toBe(2017239379);
    expect(hashOf({ kind: "SMALLINT" }, 34)).toBe(2017239379);
  });

  it("hashes decimals as minimal big-endian unscaled bytes", () => {
    expect(hashOf({ kind: "DECIMAL", precision: 9, scale: 2 }, "14.20")).toBe(-500754589);
    expect([...minimalBigEndian(0n)]).toEqual([0]);
    expect([...minimalBigEndian(-1n)]).toEqual([0xff]);
    expect([...minimalBigEndian(128n)]).toEqual([0x00, 0x80]);
    expect([...minimalBigEndian(-129n)]).toEqual([0xff, 0x7f]);
    for (const value of [0n, -1n, 127n, 128n, -128n, -129n, 10n ** 38n - 1n, -(10n ** 38n) + 1n]) {
      expect(signedBigEndian(minimalBigEndian(value))).toBe(value);
    }
  });

  it("hashes dates, times and timestamps", () => {
    expect(hashOf({ kind: "DATE" }, "2017-11-16")).toBe(-653330422);
    expect(hashOf({ kind: "TIME" }, "22:31:08")).toBe(-662762989);
    expect(hashOf({ kind: "TIMESTAMP", precision: 6 }, "2017-11-16T22:31:08")).toBe(-2047944441);
    expect(hashOf({ kind: "TIMESTAMP_LTZ", precision: 6 }, "2017-11-16T14:31:08-08:00")).toBe(-2047944441);
  });

  it("hashes strings as UTF-8 and bytes as they are", () => {
    expect(hashOf({ kind: "STRING" }, "iceberg")).toBe(1210000089);
    expect(hashOf({ kind: "BYTES" }, btoa(String.fromCharCode(0, 1, 2, 3)))).toBe(-188683207);
  });

  it("matches murmur3 x86_32 reference vectors", () => {
    expect(murmur3(new Uint8Array([]), 0)).toBe(0);
    expect(murmur3(new Uint8Array([]), 1) >>> 0).toBe(0x514e28b7);
    expect(murmur3(new Uint8Array([0xff, 0xff, 0xff, 0xff]), 0) >>> 0).toBe(0x76293b50);
    expect(murmur3(new Uint8Array([0x21, 0x43, 0x65, 0x87]), 0) >>> 0).toBe(0xf55b516b);
    expect(murmur3(new Uint8Array([0x21, 0x43, 0x65]), 0) >>> 0).toBe(0x7e4a8634);
    expect(murmur3(new Uint8Array([0x21, 0x43]), 0) >>> 0).toBe(0xa0f7b07a);
    expect(murmur3(new Uint8Array([0x21]), 0) >>> 0).toBe(0x72661cf4);
  });

  it("maps a hash to a bucket like Iceberg's bucket[N]", () => {
    // The spec's worked example: bucket[16] of int 34 is 3.
    expect(bucketOfHash(2017239379, 16)).toBe(3);
    expect(bucketOfHash(-500754589, 7)).toBe((-500754589 & 0x7fffffff) % 7);
  });
});

describe("Floe multi-column bucket keys (pinned forever)", () => {
  const region: FloeType = { kind: "STRING" };
  const id: FloeType = { kind: "BIGINT" };
  const key = (regions: string[], ids: bigint[]) => [
    { type: region, data: buildColumn(region, regions) },
    { type: id, data: buildColumn(id, ids) },
  ];

  it("hashes the length-prefixed concatenation of single-value bytes", () => {
    // ("eu", 7): 02000000 6575 08000000 0700000000000000
    const bytes = new Uint8Array([2, 0, 0, 0, 0x65, 0x75, 8, 0, 0, 0, 7, 0, 0, 0, 0, 0, 0, 0]);
    const expected = bucketOfHash(murmur3(bytes), 16);
    expect([...assignBuckets(key(["eu"], [7n]), 1, 16)]).toEqual([expected]);
  });

  it("keeps these vectors", () => {
    const buckets = assignBuckets(key(["eu", "us", "ap", ""], [1n, 2n, 3n, -1n]), 4, 8);
    expect([...buckets]).toEqual([1, 3, 3, 4]);
  });
});
