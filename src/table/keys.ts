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
import { readScalar, valueBytes } from "./columns.ts";

export interface KeyColumn {
  type: FloeType;
  data: arrow.Data;
}

/** The encoded key of one row, from its key columns in key order. */
export function encodeKey(columns: readonly KeyColumn[], row: number): Uint8Array {
  let size = 0;
  for (const column of columns) size += encodedLength(column, row);
  const out = new Uint8Array(size);
  const view = new DataView(out.buffer);
  let at = 0;
  for (const column of columns) at = writeColumn(out, view, at, column, row);
  return out;
}

/** An encoded key as a Map key: one UTF-16 unit per byte. */
export function keyId(key: Uint8Array): string {
  return String.fromCharCode.apply(null, key as unknown as number[]);
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

function encodedLength({ type, data }: KeyColumn, row: number): number {
  switch (type.kind) {
    case "STRING":
    case "BYTES": {
      const bytes = valueBytes(data, row);
      let zeros = 0;
      for (const byte of bytes) if (byte === 0) zeros++;
      return bytes.length + zeros + 2;
    }
    case "BOOLEAN": return 1;
    case "DECIMAL": return 16;
    default: return 8;
  }
}

/**
 * Writes one column's bytes at `at`; answers where the next begins. Numbers
 * are big-endian two's complement with the sign bit flipped, so unsigned
 * byte order is numeric order; 32-bit values are widened to 8 bytes.
 */
function writeColumn(out: Uint8Array, view: DataView, at: number, { type, data }: KeyColumn, row: number): number {
  switch (type.kind) {
    case "STRING":
    case "BYTES": {
      for (const byte of valueBytes(data, row)) {
        out[at++] = byte;
        if (byte === 0) out[at++] = 0xff;
      }
      out[at] = 0;
      out[at + 1] = 1;
      return at + 2;
    }
    case "BOOLEAN":
      out[at] = readScalar(type, data, row) ? 1 : 0;
      return at + 1;
    case "DECIMAL": {
      const words = data.values as Uint32Array;
      for (let w = 0; w < 4; w++) view.setUint32(at + 4 * w, words[row * 4 + 3 - w]!);
      out[at]! ^= 0x80;
      return at + 16;
    }
    case "BIGINT":
    case "TIME":
    case "TIMESTAMP":
    case "TIMESTAMP_LTZ":
      view.setBigInt64(at, data.values[row] as bigint);
      out[at]! ^= 0x80;
      return at + 8;
    default: {
      const value = data.values[row] as number;
      view.setInt32(at, value < 0 ? -1 : 0);
      view.setInt32(at + 4, value);
      out[at]! ^= 0x80;
      return at + 8;
    }
  }
}
