/**
 * Filter predicates on columns, as plain data any layer can hold or send (a
 * Tablet evaluates them on its stored batches, a scan on lake row groups),
 * and their evaluation on whole Arrow columns: per predicate one pass over
 * the column's typed arrays, the passes ANDed into a selection of rows.
 *
 * Semantics (the same wherever rows are filtered): a comparison with null
 * is false, as in SQL; NaN is unordered, so only `!=` holds for it; strings
 * order by code point, which is the order of their UTF-8 bytes; BYTES by
 * unsigned bytes; BIGINT, TIME, timestamps and DECIMAL exactly, as signed
 * 64- and 128-bit integers, read as 32-bit words so no value becomes a
 * BigInt or a rounded number.
 */
import type * as arrow from "apache-arrow";
import type { Column } from "./schema.ts";
import type { FloeType } from "./types.ts";
import type { Scalar } from "./values.ts";

export type PredicateOp = "=" | "!=" | "<" | "<=" | ">" | ">=" | "in" | "is_null" | "not_null";

/** One condition on one column; `values` are the literal (one) or the IN list, as scalars of the column's type. */
export interface Predicate {
  column: Column;
  op: PredicateOp;
  values: Scalar[];
}

/** Orders two non-null scalars of one type; strings by code point, bytes unsigned. */
export function compareScalars(type: FloeType, a: Scalar, b: Scalar): number {
  if (type.kind === "STRING") return compareText(a as string, b as string);
  if (a instanceof Uint8Array && b instanceof Uint8Array) return compareBytes(a, 0, a.length, b);
  return a < b ? -1 : a > b ? 1 : 0;
}

/** UTF-16 order differs from code point order only between surrogates and units from U+E000; fix that case. */
function compareText(a: string, b: string): number {
  const length = Math.min(a.length, b.length);
  for (let i = 0; i < length; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x !== y) return codePointRank(x) - codePointRank(y);
  }
  return a.length - b.length;
}

const codePointRank = (unit: number) => (unit >= 0xd800 && unit <= 0xdfff ? unit + 0x2000 : unit >= 0xe000 ? unit - 0x800 : unit);

/** Orders `bytes[start, end)` against `literal`, unsigned, shorter first on a common prefix. */
function compareBytes(bytes: Uint8Array, start: number, end: number, literal: Uint8Array): number {
  const length = Math.min(end - start, literal.length);
  for (let i = 0; i < length; i++) {
    const difference = bytes[start + i]! - literal[i]!;
    if (difference !== 0) return difference;
  }
  return end - start - literal.length;
}

/** Row orders against a literal: below, equal, above, or unordered (NaN). */
const below = -1;
const equal = 0;
const above = 1;
const unordered = 2;

/** Per ordering operator, whether it holds for each order (indexed by order + 1). */
const accepts: Record<"=" | "!=" | "<" | "<=" | ">" | ">=", Uint8Array> = {
  "=": Uint8Array.of(0, 1, 0, 0),
  "!=": Uint8Array.of(1, 0, 1, 1),
  "<": Uint8Array.of(1, 0, 0, 0),
  "<=": Uint8Array.of(1, 1, 0, 0),
  ">": Uint8Array.of(0, 0, 1, 0),
  ">=": Uint8Array.of(0, 1, 1, 0),
};

/** How one column's rows compare with literals of its type, over its whole buffers. */
interface ColumnOrder<L> {
  literal(value: Scalar): L;
  /** Every row's order against `literal` into `out` (nulls included: they are masked afterwards). */
  orderAll(literal: L, out: Int8Array): void;
  /** A number equal for equal values (not necessarily unequal for unequal ones), for IN lists. */
  hashAt(row: number): number;
  hashOf(literal: L): number;
  orderAt(row: number, literal: L): number;
}

/**
 * The rows (indexes, in order) of a batch of `rowCount` rows that satisfy
 * every predicate; undefined when all of them do. `columnOf` gives a
 * predicate's column in the batch.
 */
export function selectRows(predicates: readonly Predicate[], columnOf: (column: Column) => arrow.Data, rowCount: number): Int32Array | undefined {
  if (predicates.length === 0) return undefined;
  const keep = new Uint8Array(rowCount).fill(1);
  for (const predicate of predicates) applyPredicate(predicate, columnOf(predicate.column), keep);
  let kept = 0;
  for (let row = 0; row < rowCount; row++) kept += keep[row]!;
  if (kept === rowCount) return undefined;
  const rows = new Int32Array(kept);
  for (let row = 0, at = 0; row < rowCount; row++) if (keep[row] === 1) rows[at++] = row;
  return rows;
}

/** ANDs one predicate's result for every row into `keep`. */
function applyPredicate(predicate: Predicate, data: arrow.Data, keep: Uint8Array): void {
  const rowCount = keep.length;
  const bitmap = data.nullCount > 0 ? data.nullBitmap : undefined;
  const isValid = (row: number) => bitmap === undefined || (bitmap[(data.offset + row) >> 3]! & (1 << ((data.offset + row) & 7))) !== 0;
  if (predicate.op === "is_null" || predicate.op === "not_null") {
    const wanted = predicate.op === "not_null";
    for (let row = 0; row < rowCount; row++) if (isValid(row) !== wanted) keep[row] = 0;
    return;
  }
  const order = columnOrder(predicate.column.type, data);
  const matched = predicate.op === "in" ? inList(order, predicate.values, rowCount) : compared(order, predicate.op, predicate.values[0]!, rowCount);
  for (let row = 0; row < rowCount; row++) keep[row]! &= matched[row]!;
  if (bitmap !== undefined) for (let row = 0; row < rowCount; row++) if (!isValid(row)) keep[row] = 0;
}

function compared<L>(order: ColumnOrder<L>, op: keyof typeof accepts, value: Scalar, rowCount: number): Uint8Array {
  const orders = new Int8Array(rowCount);
  order.orderAll(order.literal(value), orders);
  const accept = accepts[op];
  const matched = new Uint8Array(rowCount);
  for (let row = 0; row < rowCount; row++) matched[row] = accept[orders[row]! + 1]!;
  return matched;
}

/** Short IN lists are a pass per value; longer ones one pass, each row's hash looked up and confirmed exactly. */
const inListPassesMax = 8;

function inList<L>(order: ColumnOrder<L>, values: readonly Scalar[], rowCount: number): Uint8Array {
  const literals = values.map((v) => order.literal(v));
  const matched = new Uint8Array(rowCount);
  if (literals.length <= inListPassesMax) {
    const orders = new Int8Array(rowCount);
    for (const literal of literals) {
      order.orderAll(literal, orders);
      for (let row = 0; row < rowCount; row++) if (orders[row] === equal) matched[row] = 1;
    }
    return matched;
  }
  const byHash = new Map<number, L[]>();
  for (const literal of literals) {
    const hash = order.hashOf(literal);
    (byHash.get(hash) ?? byHash.set(hash, []).get(hash)!).push(literal);
  }
  for (let row = 0; row < rowCount; row++) {
    const candidates = byHash.get(order.hashAt(row));
    if (candidates?.some((literal) => order.orderAt(row, literal) === equal)) matched[row] = 1;
  }
  return matched;
}

function columnOrder(type: FloeType, data: arrow.Data): ColumnOrder<unknown> {
  switch (type.kind) {
    case "BOOLEAN": return booleanOrder(data) as ColumnOrder<unknown>;
    case "TINYINT":
    case "SMALLINT":
    case "INT":
    case "FLOAT":
    case "DOUBLE":
    case "DATE": return numberOrder(data.values as Int8Array | Int16Array | Int32Array | Float32Array | Float64Array) as ColumnOrder<unknown>;
    case "BIGINT":
    case "TIME":
    case "TIMESTAMP":
    case "TIMESTAMP_LTZ": return wordsOrder(data, 2) as ColumnOrder<unknown>;
    case "DECIMAL": return wordsOrder(data, 4) as ColumnOrder<unknown>;
    case "STRING":
    case "BYTES": return bytesOrder(data) as ColumnOrder<unknown>;
  }
}

const orderOfNumbers = (v: number, literal: number) => (v < literal ? below : v > literal ? above : v === literal ? equal : unordered);

function numberOrder(values: Int8Array | Int16Array | Int32Array | Float32Array | Float64Array): ColumnOrder<number> {
  return {
    literal: (value) => value as number,
    orderAll(literal, out) {
      for (let row = 0; row < out.length; row++) out[row] = orderOfNumbers(values[row]!, literal);
    },
    // -0 and 0 are equal and hash alike (a Map key treats them as one); NaN rows never equal a literal.
    hashAt: (row) => values[row]! + 0,
    hashOf: (literal) => literal + 0,
    orderAt: (row, literal) => orderOfNumbers(values[row]!, literal),
  };
}

function booleanOrder(data: arrow.Data): ColumnOrder<number> {
  const bits = data.values as Uint8Array;
  const bit = (row: number) => (bits[(data.offset + row) >> 3]! >> ((data.offset + row) & 7)) & 1;
  return {
    literal: (value) => (value ? 1 : 0),
    orderAll(literal, out) {
      for (let row = 0; row < out.length; row++) out[row] = bit(row) - literal;
    },
    hashAt: bit,
    hashOf: (literal) => literal,
    orderAt: (row, literal) => bit(row) - literal,
  };
}

/**
 * Signed integers of `words` 32-bit words (2: BIGINT, TIME and timestamps;
 * 4: DECIMAL's 128 bits), little-endian: the top word compares signed, the
 * others unsigned.
 */
function wordsOrder(data: arrow.Data, words: 2 | 4): ColumnOrder<Int32Array> {
  const values = data.values as ArrayBufferView;
  const view = new Int32Array(values.buffer, values.byteOffset, values.byteLength >> 2);
  const top = words - 1;
  const orderAt = (row: number, literal: Int32Array) => {
    const at = row * words;
    const high = view[at + top]!;
    if (high !== literal[top]) return high < literal[top]! ? below : above;
    for (let w = top - 1; w >= 0; w--) {
      const x = view[at + w]! >>> 0;
      const y = literal[w]! >>> 0;
      if (x !== y) return x < y ? below : above;
    }
    return equal;
  };
  return {
    literal(value) {
      const literal = new Int32Array(words);
      let rest = BigInt.asUintN(32 * words, BigInt(value as bigint));
      for (let w = 0; w < words; w++, rest >>= 32n) literal[w] = Number(rest & 0xffffffffn) | 0;
      return literal;
    },
    orderAll(literal, out) {
      if (words === 2) {
        const [low, high] = [literal[0]! >>> 0, literal[1]!];
        for (let row = 0; row < out.length; row++) {
          const h = view[2 * row + 1]!;
          const l = view[2 * row]! >>> 0;
          out[row] = h < high ? below : h > high ? above : l < low ? below : l > low ? above : equal;
        }
      } else {
        for (let row = 0; row < out.length; row++) out[row] = orderAt(row, literal);
      }
    },
    hashAt: (row) => Math.imul(view[row * words]!, 0x9e3779b1) ^ view[row * words + 1]!,
    hashOf: (literal) => Math.imul(literal[0]!, 0x9e3779b1) ^ literal[1]!,
    orderAt,
  };
}

const utf8 = new TextEncoder();

function bytesOrder(data: arrow.Data): ColumnOrder<Uint8Array> {
  const offsets = data.valueOffsets as Int32Array;
  const bytes = data.values as Uint8Array;
  const hashBytes = (source: Uint8Array, start: number, end: number) => {
    let hash = 0x811c9dc5;
    for (let i = start; i < end; i++) hash = Math.imul(hash ^ source[i]!, 0x01000193);
    return hash;
  };
  const orderAt = (row: number, literal: Uint8Array) => Math.sign(compareBytes(bytes, offsets[row]!, offsets[row + 1]!, literal));
  return {
    literal: (value) => (typeof value === "string" ? utf8.encode(value) : (value as Uint8Array)),
    orderAll(literal, out) {
      for (let row = 0; row < out.length; row++) out[row] = orderAt(row, literal);
    },
    hashAt: (row) => hashBytes(bytes, offsets[row]!, offsets[row + 1]!),
    hashOf: (literal) => hashBytes(literal, 0, literal.length),
    orderAt,
  };
}
