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
  const locate = chunkLocator(chunks);
  const length = rows.length;
  const nullBitmap = new Uint8Array(Math.ceil(length / 8));
  let nullCount = 0;
  const sources: [arrow.Data, number][] = new Array(length);
  for (let i = 0; i < length; i++) {
    const source = locate(rows[i]!);
    sources[i] = source;
    if (source[0].getValid(source[1])) nullBitmap[i >> 3]! |= 1 << (i & 7);
    else nullCount++;
  }
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

function chunkLocator(chunks: readonly arrow.Data[]): (row: number) => [arrow.Data, number] {
  if (chunks.length === 1) {
    const only = chunks[0]!;
    return (row) => [only, row];
  }
  const starts: number[] = [];
  let total = 0;
  for (const chunk of chunks) {
    starts.push(total);
    total += chunk.length;
  }
  return (row) => {
    let lo = 0;
    let hi = chunks.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (starts[mid]! <= row) lo = mid;
      else hi = mid - 1;
    }
    return [chunks[lo]!, row - starts[lo]!];
  };
}

/** `makeData` for props assembled at run time, whose type the overloads cannot narrow. */
export const makeColumn = arrow.makeData as (props: object) => arrow.Data;

type ValueArray = Int8Array | Int16Array | Int32Array | Uint8Array | Uint32Array | Float32Array | Float64Array | BigInt64Array;

function gatherFixedWidth(sources: readonly [arrow.Data, number][], first: arrow.Data): ValueArray {
  const stride = first.stride;
  const ArrayType = (first.values as ValueArray).constructor as new (n: number) => ValueArray;
  const out = new ArrayType(sources.length * stride);
  sources.forEach(([data, index], i) => {
    const values = data.values as ValueArray;
    for (let s = 0; s < stride; s++) out[i * stride + s] = values[index * stride + s]!;
  });
  return out;
}

function gatherBits(sources: readonly [arrow.Data, number][]): Uint8Array {
  const out = new Uint8Array(Math.ceil(sources.length / 8));
  sources.forEach(([data, index], i) => {
    const bit = data.offset + index;
    if ((data.values[bit >> 3] & (1 << (bit & 7))) !== 0) out[i >> 3]! |= 1 << (i & 7);
  });
  return out;
}

function gatherVariableWidth(sources: readonly [arrow.Data, number][]): { valueOffsets: Int32Array; data: Uint8Array } {
  const valueOffsets = new Int32Array(sources.length + 1);
  sources.forEach(([data, index], i) => {
    const offsets = data.valueOffsets as Int32Array;
    valueOffsets[i + 1] = valueOffsets[i]! + offsets[index + 1]! - offsets[index]!;
  });
  const out = new Uint8Array(valueOffsets[sources.length]!);
  sources.forEach(([data, index], i) => {
    const offsets = data.valueOffsets as Int32Array;
    out.set((data.values as Uint8Array).subarray(offsets[index]!, offsets[index + 1]!), valueOffsets[i]!);
  });
  return { valueOffsets, data: out };
}
