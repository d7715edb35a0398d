/**
 * Gathering rows out of Arrow columns into new, compact columns: how a
 * request's batch is split into its buckets, how several record batches
 * become one column, and how a read cuts a stored batch to an offset range.
 *
 * Works on the buffers directly (fixed-width values, bit-packed booleans,
 * variable-width offsets + bytes); the output never shares memory with the
 * input and always starts at offset 0.
 */
import * as arrow from "apache-arrow";

/**
 * A column holding `rows` (indices into the concatenation of `chunks`), in
 * that order.
 */
export function gather(chunks: readonly arrow.Data[], rows: ArrayLike<number>): arrow.Data {
  const first = chunks[0];
  if (!first) throw new Error("gather needs at least one chunk");
  const length = rows.length;
  // Where each row comes from: its chunk and its index there, in two flat arrays (no object per row).
  const chunkOf = new Int32Array(length);
  const indexIn = new Int32Array(length);
  locate(chunks, rows, chunkOf, indexIn);
  const nullBitmap = new Uint8Array(Math.ceil(length / 8));
  let nullCount = 0;
  for (let i = 0; i < length; i++) {
    if (chunks[chunkOf[i]!]!.getValid(indexIn[i]!)) nullBitmap[i >> 3]! |= 1 << (i & 7);
    else nullCount++;
  }
  const sources = { chunks, chunkOf, indexIn };
  const props = { type: first.type, length, nullCount, nullBitmap: nullCount > 0 ? nullBitmap : undefined };
  if (first.valueOffsets) return makeColumn({ ...props, ...gatherVariableWidth(sources) });
  if (first.typeId === arrow.Type.Bool) return makeColumn({ ...props, data: gatherBits(sources) });
  return makeColumn({ ...props, data: gatherFixedWidth(sources, first) });
}

/** The rows `[begin, end)` of the concatenation of `chunks`. */
export function gatherRange(chunks: readonly arrow.Data[], begin: number, end: number): arrow.Data {
  const rows = new Uint32Array(Math.max(0, end - begin));
  for (let i = 0; i < rows.length; i++) rows[i] = begin + i;
  return gather(chunks, rows);
}

/** For each row, its chunk and its index in that chunk. */
function locate(chunks: readonly arrow.Data[], rows: ArrayLike<number>, chunkOf: Int32Array, indexIn: Int32Array): void {
  if (chunks.length === 1) {
    for (let i = 0; i < rows.length; i++) indexIn[i] = rows[i]!;
    return;
  }
  const starts: number[] = [];
  let total = 0;
  for (const chunk of chunks) {
    starts.push(total);
    total += chunk.length;
  }
  for (let i = 0; i < rows.length; i++) {
    const row = rows[i]!;
    let lo = 0;
    let hi = chunks.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (starts[mid]! <= row) lo = mid;
      else hi = mid - 1;
    }
    chunkOf[i] = lo;
    indexIn[i] = row - starts[lo]!;
  }
}

/** Where gathered rows come from. */
interface Sources {
  chunks: readonly arrow.Data[];
  chunkOf: Int32Array;
  indexIn: Int32Array;
}

/** `makeData` for props assembled at run time, whose type the overloads cannot narrow. */
export const makeColumn = arrow.makeData as (props: object) => arrow.Data;

type ValueArray = Int8Array | Int16Array | Int32Array | Uint8Array | Uint32Array | Float32Array | Float64Array | BigInt64Array;

function gatherFixedWidth({ chunks, chunkOf, indexIn }: Sources, first: arrow.Data): ValueArray {
  const stride = first.stride;
  const ArrayType = (first.values as ValueArray).constructor as new (n: number) => ValueArray;
  const out = new ArrayType(chunkOf.length * stride);
  const values = chunks.map((c) => c.values as ValueArray);
  for (let i = 0; i < chunkOf.length; i++) {
    const from = values[chunkOf[i]!]!;
    const at = indexIn[i]! * stride;
    for (let s = 0; s < stride; s++) out[i * stride + s] = from[at + s]!;
  }
  return out;
}

function gatherBits({ chunks, chunkOf, indexIn }: Sources): Uint8Array {
  const out = new Uint8Array(Math.ceil(chunkOf.length / 8));
  for (let i = 0; i < chunkOf.length; i++) {
    const data = chunks[chunkOf[i]!]!;
    const bit = data.offset + indexIn[i]!;
    if ((data.values[bit >> 3] & (1 << (bit & 7))) !== 0) out[i >> 3]! |= 1 << (i & 7);
  }
  return out;
}

function gatherVariableWidth({ chunks, chunkOf, indexIn }: Sources): { valueOffsets: Int32Array; data: Uint8Array } {
  const length = chunkOf.length;
  const offsets = chunks.map((c) => c.valueOffsets as Int32Array);
  const values = chunks.map((c) => c.values as Uint8Array);
  const valueOffsets = new Int32Array(length + 1);
  for (let i = 0; i < length; i++) {
    const from = offsets[chunkOf[i]!]!;
    const index = indexIn[i]!;
    valueOffsets[i + 1] = valueOffsets[i]! + from[index + 1]! - from[index]!;
  }
  const out = new Uint8Array(valueOffsets[length]!);
  for (let i = 0; i < length; i++) {
    const from = offsets[chunkOf[i]!]!;
    const index = indexIn[i]!;
    out.set(values[chunkOf[i]!]!.subarray(from[index]!, from[index + 1]!), valueOffsets[i]!);
  }
  return { valueOffsets, data: out };
}
