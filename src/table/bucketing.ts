/**
 * Which bucket a row lives in. Stable forever: it decides where data is.
 *
 * A row's bucket is Iceberg's bucket transform of its bucket key:
 * `(murmur3_x86_32(singleValueBytes(key), seed 0) & 0x7fffffff) % bucket.num`.
 * With a one-column key that is exactly the lake's `bucket[N]` partition, so
 * Tablets and lake partitions coincide and engines prune by key.
 *
 * A key of several columns hashes their canonical concatenation: for each
 * column in bucket-key order, its single-value bytes preceded by their length
 * as a 4-byte little-endian integer. (Bucket-key columns are NOT NULL.)
 *
 * Single-value bytes (Iceberg spec, appendix B): integers, DATE (days), TIME
 * and timestamps (microseconds) as an 8-byte little-endian long; DECIMAL as
 * the minimal big-endian two's-complement bytes of the unscaled value; STRING
 * as UTF-8; BYTES as they are.
 */
import type * as arrow from "apache-arrow";
import type { FloeType } from "./types.ts";
import { readInt128, valueBytes } from "./columns.ts";

export interface BucketKeyColumn {
  type: FloeType;
  data: arrow.Data;
}

/** The bucket of every row of a batch, from its bucket-key columns. */
export function assignBuckets(key: readonly BucketKeyColumn[], rowCount: number, bucketCount: number): Uint32Array {
  const buckets = new Uint32Array(rowCount);
  for (let row = 0; row < rowCount; row++) {
    const hash = key.length === 1 ? murmur3(singleValueBytes(key[0]!, row)) : murmur3(concatenatedKeyBytes(key, row));
    buckets[row] = bucketOfHash(hash, bucketCount);
  }
  return buckets;
}

export function bucketOfHash(hash: number, bucketCount: number): number {
  return (hash & 0x7fffffff) % bucketCount;
}

/** Iceberg's single-value binary form of one key value, as hashed by the bucket transform. */
export function singleValueBytes(column: BucketKeyColumn, row: number): Uint8Array {
  const { type, data } = column;
  switch (type.kind) {
    case "STRING":
    case "BYTES":
      return valueBytes(data, row);
    case "DECIMAL":
      return minimalBigEndian(readInt128(data.values as Uint32Array, row));
    case "TINYINT":
    case "SMALLINT":
    case "INT":
    case "DATE":
      return longBytes(BigInt(data.values[row] as number));
    case "BIGINT":
    case "TIME":
    case "TIMESTAMP":
    case "TIMESTAMP_LTZ":
      return longBytes(data.values[row] as bigint);
    default:
      throw new Error(`${type.kind} cannot be a bucket key`);
  }
}

function concatenatedKeyBytes(key: readonly BucketKeyColumn[], row: number): Uint8Array {
  const parts = key.map((column) => singleValueBytes(column, row).slice());
  const out = new Uint8Array(parts.reduce((n, p) => n + 4 + p.length, 0));
  const view = new DataView(out.buffer);
  let at = 0;
  for (const part of parts) {
    view.setUint32(at, part.length, true);
    out.set(part, at + 4);
    at += 4 + part.length;
  }
  return out;
}

const longScratch = new DataView(new ArrayBuffer(8));
const longScratchBytes = new Uint8Array(longScratch.buffer);

/** 8-byte little-endian form of a long; valid until the next call. */
function longBytes(value: bigint): Uint8Array {
  longScratch.setBigInt64(0, value, true);
  return longScratchBytes;
}

/** Java's `BigInteger.toByteArray()`: minimal two's complement, big-endian, at least one byte. */
export function minimalBigEndian(value: bigint): Uint8Array {
  const bytes: number[] = [];
  let rest = value;
  for (;;) {
    const byte = Number(rest & 0xffn);
    bytes.push(byte);
    rest >>= 8n;
    const signBitSet = (byte & 0x80) !== 0;
    if ((rest === 0n && !signBitSet) || (rest === -1n && signBitSet)) break;
  }
  return Uint8Array.from(bytes.reverse());
}

/** A two's-complement big-endian integer of any length, the inverse of `minimalBigEndian`. */
export function signedBigEndian(bytes: Uint8Array): bigint {
  let value = 0n;
  for (const byte of bytes) value = (value << 8n) | BigInt(byte);
  return bytes.length > 0 && bytes[0]! >= 0x80 ? value - (1n << BigInt(8 * bytes.length)) : value;
}

/** MurmurHash3 x86 32-bit, as a signed 32-bit integer (Java's `int`). */
export function murmur3(bytes: Uint8Array, seed = 0): number {
  const c1 = 0xcc9e2d51;
  const c2 = 0x1b873593;
  let h = seed | 0;
  const blocks = bytes.length >> 2;
  for (let i = 0; i < blocks; i++) {
    const at = i << 2;
    let k = bytes[at]! | (bytes[at + 1]! << 8) | (bytes[at + 2]! << 16) | (bytes[at + 3]! << 24);
    k = Math.imul(k, c1);
    k = (k << 15) | (k >>> 17);
    k = Math.imul(k, c2);
    h ^= k;
    h = (h << 13) | (h >>> 19);
    h = (Math.imul(h, 5) + 0xe6546b64) | 0;
  }
  const tail = blocks << 2;
  const remaining = bytes.length & 3;
  if (remaining > 0) {
    let k = bytes[tail]!;
    if (remaining >= 2) k ^= bytes[tail + 1]! << 8;
    if (remaining === 3) k ^= bytes[tail + 2]! << 16;
    k = Math.imul(k, c1);
    k = (k << 15) | (k >>> 17);
    k = Math.imul(k, c2);
    h ^= k;
  }
  h ^= bytes.length;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h | 0;
}
