/**
 * Primary keys as order-preserving bytes: comparing two encoded keys byte by
 * byte (as SQLite compares BLOBs) orders them as their values order, column
 * by column, and no encoded column is a prefix of another. So every key under
 * a given leading set of columns is one contiguous byte range, which is how
 * prefix lookups scan.
 *
 * Per column: integers, DATE, TIME and timestamps as 8 big-endian bytes with
 * the sign bit flipped; DECIMAL as 16 such bytes of the unscaled value;
 * BOOLEAN as one byte; STRING and BYTES with 0x00 escaped as 0x00 0xFF and
 * terminated by 0x00 0x01. Key columns are NOT NULL, so there is no null form.
 */
import type * as arrow from "apache-arrow";
import type { FloeType } from "./types.ts";
import { readInt128, readScalar, valueBytes } from "./columns.ts";

export interface KeyColumn {
  type: FloeType;
  data: arrow.Data;
}

/** The encoded key of one row, from its key columns in key order. */
export function encodeKey(columns: readonly KeyColumn[], row: number): Uint8Array {
  const parts: number[] = [];
  for (const { type, data } of columns) appendColumn(parts, type, data, row);
  return Uint8Array.from(parts);
}

/** An encoded key as a Map key: one UTF-16 unit per byte. */
export function keyId(key: Uint8Array): string {
  let id = "";
  for (const byte of key) id += String.fromCharCode(byte);
  return id;
}

/** The smallest byte string greater than every key that starts with `prefix`, or undefined if none is. */
export function prefixEnd(prefix: Uint8Array): Uint8Array | undefined {
  const end = prefix.slice();
  for (let i = end.length - 1; i >= 0; i--) {
    if (end[i]! < 0xff) {
      end[i]!++;
      return end.subarray(0, i + 1);
    }
  }
  return undefined;
}

function appendColumn(parts: number[], type: FloeType, data: arrow.Data, row: number): void {
  switch (type.kind) {
    case "STRING":
    case "BYTES":
      for (const byte of valueBytes(data, row)) {
        parts.push(byte);
        if (byte === 0) parts.push(0xff);
      }
      parts.push(0, 1);
      return;
    case "BOOLEAN":
      parts.push(readScalar(type, data, row) ? 1 : 0);
      return;
    case "DECIMAL":
      appendSigned(parts, readInt128(data.values as Uint32Array, row), 16);
      return;
    default:
      appendSigned(parts, BigInt(data.values[row] as number | bigint), 8);
  }
}

/** Big-endian two's complement with the sign bit flipped, so unsigned byte order is numeric order. */
function appendSigned(parts: number[], value: bigint, bytes: number): void {
  const bits = BigInt(bytes * 8);
  const biased = BigInt.asUintN(Number(bits), value) ^ (1n << (bits - 1n));
  for (let shift = bits - 8n; shift >= 0n; shift -= 8n) parts.push(Number((biased >> shift) & 0xffn));
}
