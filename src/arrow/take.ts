/**
 * Rows of Arrow columns picked and joined on whole buffers: a selection
 * vector's rows of one column (`takeRows`), a column's rows from one
 * offset (`compact`), several chunks of one column as one
 * (`concatColumns`). These are how filters, limits and deletes cut columns
 * on the read path, with one tight loop over typed arrays per buffer and
 * no value ever read as a scalar.
 *
 * Buffers are read as apache-arrow slices them: fixed-width values and
 * value offsets from the slice's first row, validity and BOOLEAN bits from
 * `data.offset`.
 *
 * Fixed-width values are moved through 8-, 16- or 32-bit integer views of
 * their bytes, never as floats or BigInts, so every bit pattern (NaN
 * payloads, -0) is kept as stored. Outputs start at offset 0, own their
 * buffers and carry a validity bitmap only when a row is null.
 */
import * as arrow from "apache-arrow";
import { makeColumn } from "./gather.ts";

type IntView = Int8Array | Int16Array | Int32Array;

/** Bytes per value of a fixed-width column (0 for BOOLEAN, whose values are bits; -1 for variable width). */
function valueWidth(data: arrow.Data): number {
  if (data.valueOffsets) return -1;
  if (data.typeId === arrow.Type.Bool) return 0;
  const values = data.values as ArrayLike<number> & { BYTES_PER_ELEMENT: number };
  return values.BYTES_PER_ELEMENT * data.stride;
}

/** The bytes of a fixed-width column's values as the widest integer view that divides the value width. */
function intView(values: ArrayBufferView, width: number): { view: IntView; words: number } {
  const { buffer, byteOffset, byteLength } = values;
  if (width % 4 === 0 && byteOffset % 4 === 0) return { view: new Int32Array(buffer, byteOffset, byteLength >> 2), words: width >> 2 };
  if (width % 2 === 0 && byteOffset % 2 === 0) return { view: new Int16Array(buffer, byteOffset, byteLength >> 1), words: width >> 1 };
  return { view: new Int8Array(buffer, byteOffset, byteLength), words: width };
}

/** A values buffer of `length` values of `data`'s width, of the same typed array kind. */
function valuesLike(data: arrow.Data, length: number): ArrayBufferView {
  const values = data.values as { constructor: new (n: number) => ArrayBufferView };
  return new values.constructor(length * data.stride);
}

function isValid(bitmap: Uint8Array, bit: number): boolean {
  return (bitmap[bit >> 3]! & (1 << (bit & 7))) !== 0;
}

/** The validity of `rows` of `data` as a new bitmap, or undefined when none of them is null. */
function takeValidity(data: arrow.Data, rows: ArrayLike<number>): { nullBitmap: Uint8Array | undefined; nullCount: number } {
  const source = data.nullBitmap;
  if (data.nullCount === 0 || !source || source.length === 0) return { nullBitmap: undefined, nullCount: 0 };
  const length = rows.length;
  const bitmap = new Uint8Array((length + 7) >> 3);
  let nullCount = 0;
  const offset = data.offset;
  for (let i = 0; i < length; i++) {
    if (isValid(source, offset + rows[i]!)) bitmap[i >> 3]! |= 1 << (i & 7);
    else nullCount++;
  }
  return nullCount === 0 ? { nullBitmap: undefined, nullCount: 0 } : { nullBitmap: bitmap, nullCount };
}

/** The given rows of one column, in the given order. */
export function takeRows(data: arrow.Data, rows: ArrayLike<number>): arrow.Data {
  const length = rows.length;
  const props = { type: data.type, length, ...takeValidity(data, rows) };
  const width = valueWidth(data);
  if (width < 0) {
    const sourceOffsets = data.valueOffsets as Int32Array;
    const sourceBytes = data.values as Uint8Array;
    const valueOffsets = new Int32Array(length + 1);
    let total = 0;
    for (let i = 0; i < length; i++) {
      const row = rows[i]!;
      total += sourceOffsets[row + 1]! - sourceOffsets[row]!;
      valueOffsets[i + 1] = total;
    }
    const bytes = new Uint8Array(total);
    for (let i = 0; i < length; i++) {
      const row = rows[i]!;
      const start = sourceOffsets[row]!;
      const end = sourceOffsets[row + 1]!;
      let at = valueOffsets[i]!;
      // Short values (most strings) copy faster by hand than through a subarray.
      if (end - start < 64) for (let b = start; b < end; b++) bytes[at++] = sourceBytes[b]!;
      else bytes.set(sourceBytes.subarray(start, end), at);
    }
    return makeColumn({ ...props, valueOffsets, data: bytes });
  }
  if (width === 0) {
    const source = data.values as Uint8Array;
    const bits = new Uint8Array((length + 7) >> 3);
    const offset = data.offset;
    for (let i = 0; i < length; i++) if (isValid(source, offset + rows[i]!)) bits[i >> 3]! |= 1 << (i & 7);
    return makeColumn({ ...props, data: bits });
  }
  const out = valuesLike(data, length);
  const { view: from, words } = intView(data.values as ArrayBufferView, width);
  const { view: to } = intView(out, width);
  if (words === 1) {
    for (let i = 0; i < length; i++) to[i] = from[rows[i]!]!;
  } else if (words === 2) {
    for (let i = 0; i < length; i++) {
      const at = rows[i]! * 2;
      to[2 * i] = from[at]!;
      to[2 * i + 1] = from[at + 1]!;
    }
  } else {
    for (let i = 0; i < length; i++) {
      const at = rows[i]! * words;
      for (let w = 0; w < words; w++) to[i * words + w] = from[at + w]!;
    }
  }
  return makeColumn({ ...props, data: out });
}

/** Rows `[begin, end)` of one column. */
export function takeRange(data: arrow.Data, begin: number, end: number): arrow.Data {
  const rows = new Int32Array(Math.max(0, end - begin));
  for (let i = 0; i < rows.length; i++) rows[i] = begin + i;
  return takeRows(data, rows);
}

/** The column itself when it starts at offset 0 with offsets from 0, else a copy that does. */
export function compact(data: arrow.Data): arrow.Data {
  const startsAtZero = data.offset === 0 && (!data.valueOffsets || data.valueOffsets[0] === 0);
  return startsAtZero ? data : takeRange(data, 0, data.length);
}

/** The chunks of one column as one column, rows in chunk order. */
export function concatColumns(chunks: readonly arrow.Data[]): arrow.Data {
  if (chunks.length === 1) return chunks[0]!;
  const first = chunks[0];
  if (!first) throw new Error("concatColumns needs at least one chunk");
  const parts = chunks.map(compact);
  const length = parts.reduce((n, p) => n + p.length, 0);
  const nullCount = parts.reduce((n, p) => n + p.nullCount, 0);
  let nullBitmap: Uint8Array | undefined;
  if (nullCount > 0) {
    nullBitmap = new Uint8Array((length + 7) >> 3);
    let at = 0;
    for (const part of parts) {
      const bitmap = part.nullBitmap;
      const all = part.nullCount === 0 || !bitmap || bitmap.length === 0;
      for (let i = 0; i < part.length; i++, at++) if (all || isValid(bitmap, i)) nullBitmap[at >> 3]! |= 1 << (at & 7);
    }
  }
  const props = { type: first.type, length, nullCount, nullBitmap };
  const width = valueWidth(first);
  if (width < 0) {
    const valueOffsets = new Int32Array(length + 1);
    const bytes = new Uint8Array(parts.reduce((n, p) => n + (p.valueOffsets as Int32Array)[p.length]!, 0));
    let row = 0;
    let base = 0;
    for (const part of parts) {
      const offsets = part.valueOffsets as Int32Array;
      for (let i = 1; i <= part.length; i++) valueOffsets[row + i] = base + offsets[i]!;
      bytes.set((part.values as Uint8Array).subarray(0, offsets[part.length]!), base);
      row += part.length;
      base += offsets[part.length]!;
    }
    return makeColumn({ ...props, valueOffsets, data: bytes });
  }
  if (width === 0) {
    const bits = new Uint8Array((length + 7) >> 3);
    let at = 0;
    for (const part of parts) {
      const source = part.values as Uint8Array;
      for (let i = 0; i < part.length; i++, at++) if (isValid(source, i)) bits[at >> 3]! |= 1 << (at & 7);
    }
    return makeColumn({ ...props, data: bits });
  }
  const out = valuesLike(first, length) as Uint8Array;
  const bytes = new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
  let at = 0;
  for (const part of parts) {
    const values = part.values as ArrayBufferView;
    const size = part.length * width;
    bytes.set(new Uint8Array(values.buffer, values.byteOffset, size), at);
    at += size;
  }
  return makeColumn({ ...props, data: out });
}
