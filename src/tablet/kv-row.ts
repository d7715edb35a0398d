/**
 * The stored form of a primary-key table's current row in kv: one byte
 * string per row, laid out from the table's column types. Two rows hold the
 * same values exactly when their bytes are equal, and rows turn back into
 * Arrow columns by copying bytes, never through scalars or text.
 *
 * Layout: a validity bitmap (bit i set: column i holds a value), then each
 * present column's value in column order: fixed-width types as their Arrow
 * value bytes (little-endian; DECIMAL 16 bytes; BOOLEAN one byte, 0 or 1),
 * STRING and BYTES as a 4-byte little-endian length and the bytes.
 *
 * Rows are many per write, so the hot functions work on byte views made
 * once per batch (`rowEncoder`) and on one flat array of value spans
 * (`decodeRows`), allocating nothing per value.
 *
 * Rows written before this form are JSON arrays of the JSON spellings
 * (text); `rowFromLegacyJson` converts one when it is read, so a Tablet that
 * holds them keeps working and rewrites each in this form when it changes.
 */
import type * as arrow from "apache-arrow";
import type { Column } from "../table/schema.ts";
import type { FloeType } from "../table/types.ts";
import { arrowType } from "../table/types.ts";
import { buildColumn, fixedWidthValues } from "../table/columns.ts";
import type { JsonValue } from "../table/values.ts";
import { scalarFromJson } from "../table/values.ts";
import { makeColumn } from "../arrow/gather.ts";

/** How a table's rows are laid out: per column, its value width in bytes (0: variable, a length and the bytes). */
export interface RowLayout {
  columns: readonly Column[];
  widths: Int32Array;
  booleans: Uint8Array;
  bitmapBytes: number;
}

const variable = 0;

export function rowLayout(columns: readonly Column[]): RowLayout {
  return {
    columns,
    widths: Int32Array.from(columns, (c) => valueWidth(c.type)),
    booleans: Uint8Array.from(columns, (c) => (c.type.kind === "BOOLEAN" ? 1 : 0)),
    bitmapBytes: Math.ceil(columns.length / 8),
  };
}

function valueWidth(type: FloeType): number {
  switch (type.kind) {
    case "STRING":
    case "BYTES": return variable;
    case "BOOLEAN":
    case "TINYINT": return 1;
    case "SMALLINT": return 2;
    case "INT":
    case "DATE":
    case "FLOAT": return 4;
    case "DECIMAL": return 16;
    default: return 8;
  }
}

/** One column of a batch as bytes: its values (or variable-width data and offsets) and validity. */
interface ColumnBytes {
  data: arrow.Data;
  values: Uint8Array;
  offsets: Int32Array | undefined;
}

function columnBytes(data: arrow.Data): ColumnBytes {
  const values = data.values as ArrayBufferView;
  return { data, values: new Uint8Array(values.buffer, values.byteOffset, values.byteLength), offsets: data.valueOffsets as Int32Array | undefined };
}

/** Encodes rows of full-width Arrow columns (one per layout column, in order). */
export function rowEncoder(layout: RowLayout, columns: readonly arrow.Data[]): (row: number) => Uint8Array {
  const bytes = columns.map(columnBytes);
  const count = bytes.length;
  return (row) => {
    let size = layout.bitmapBytes;
    for (let c = 0; c < count; c++) {
      const column = bytes[c]!;
      if (!column.data.getValid(row)) continue;
      const width = layout.widths[c]!;
      size += width !== variable ? width : 4 + column.offsets![row + 1]! - column.offsets![row]!;
    }
    const out = new Uint8Array(size);
    let at = layout.bitmapBytes;
    for (let c = 0; c < count; c++) {
      const column = bytes[c]!;
      if (!column.data.getValid(row)) continue;
      out[c >> 3]! |= 1 << (c & 7);
      const width = layout.widths[c]!;
      if (width === variable) {
        const start = column.offsets![row]!;
        const length = column.offsets![row + 1]! - start;
        writeLength(out, at, length);
        out.set(column.values.subarray(start, start + length), at + 4);
        at += 4 + length;
      } else if (layout.booleans[c]) {
        const bit = column.data.offset + row;
        out[at++] = (column.values[bit >> 3]! >> (bit & 7)) & 1;
      } else {
        const from = row * width;
        for (let i = 0; i < width; i++) out[at + i] = column.values[from + i]!;
        at += width;
      }
    }
    return out;
  };
}

/**
 * A stored row (or nulls, when `base` is null) with some columns replaced
 * by row `row` of `present` (column index → Arrow column): a partial update.
 */
export function mergeRow(layout: RowLayout, base: Uint8Array | null, present: ReadonlyMap<number, arrow.Data>, row: number): Uint8Array {
  const count = layout.widths.length;
  const spans = new Int32Array(count * 2).fill(-1);
  if (base !== null) valueSpans(layout, base, spans, 0);
  const replaced = new Map([...present].map(([c, data]) => [c, columnBytes(data)]));
  let size = layout.bitmapBytes;
  for (let c = 0; c < count; c++) {
    const column = replaced.get(c);
    if (column) {
      if (!column.data.getValid(row)) continue;
      const width = layout.widths[c]!;
      size += width !== variable ? width : 4 + column.offsets![row + 1]! - column.offsets![row]!;
    } else if (spans[2 * c]! >= 0) {
      size += spans[2 * c + 1]! - spans[2 * c]! + (layout.widths[c] === variable ? 4 : 0);
    }
  }
  const out = new Uint8Array(size);
  let at = layout.bitmapBytes;
  for (let c = 0; c < count; c++) {
    const column = replaced.get(c);
    let value: Uint8Array;
    if (column) {
      if (!column.data.getValid(row)) continue;
      const width = layout.widths[c]!;
      if (width === variable) value = column.values.subarray(column.offsets![row]!, column.offsets![row + 1]!);
      else if (layout.booleans[c]) {
        const bit = column.data.offset + row;
        value = Uint8Array.of((column.values[bit >> 3]! >> (bit & 7)) & 1);
      } else value = column.values.subarray(row * width, row * width + width);
    } else if (spans[2 * c]! >= 0) {
      value = base!.subarray(spans[2 * c]!, spans[2 * c + 1]!);
    } else continue;
    out[c >> 3]! |= 1 << (c & 7);
    if (layout.widths[c] === variable) {
      writeLength(out, at, value.length);
      at += 4;
    }
    out.set(value, at);
    at += value.length;
  }
  return out;
}

export function sameRow(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** An integer column's value (the versioned merge engine's version), or null. */
export function integerAt(layout: RowLayout, row: Uint8Array, column: number): bigint | null {
  const spans = new Int32Array(layout.widths.length * 2).fill(-1);
  valueSpans(layout, row, spans, 0);
  const start = spans[2 * column]!;
  if (start < 0) return null;
  const view = new DataView(row.buffer, row.byteOffset + start, spans[2 * column + 1]! - start);
  return view.byteLength === 4 ? BigInt(view.getInt32(0, true)) : view.getBigInt64(0, true);
}

/** Stored rows as Arrow columns, one per layout column. */
export function decodeRows(layout: RowLayout, rows: readonly Uint8Array[]): arrow.Data[] {
  const count = layout.widths.length;
  const length = rows.length;
  const spans = new Int32Array(length * count * 2).fill(-1);
  for (let r = 0; r < length; r++) valueSpans(layout, rows[r]!, spans, r * count * 2);
  return layout.columns.map((column, c) => {
    const width = layout.widths[c]!;
    const at = (r: number) => (r * count + c) * 2;
    const validity = new Uint8Array(Math.ceil(length / 8));
    let nullCount = 0;
    for (let r = 0; r < length; r++) {
      if (spans[at(r)]! >= 0) validity[r >> 3]! |= 1 << (r & 7);
      else nullCount++;
    }
    const props = { type: arrowType(column.type), length, nullCount, nullBitmap: nullCount > 0 ? validity : undefined };
    if (width === variable) {
      const valueOffsets = new Int32Array(length + 1);
      for (let r = 0; r < length; r++) {
        const start = spans[at(r)]!;
        valueOffsets[r + 1] = valueOffsets[r]! + (start >= 0 ? spans[at(r) + 1]! - start : 0);
      }
      const data = new Uint8Array(valueOffsets[length]!);
      for (let r = 0; r < length; r++) {
        const start = spans[at(r)]!;
        if (start >= 0) data.set(rows[r]!.subarray(start, spans[at(r) + 1]!), valueOffsets[r]!);
      }
      return makeColumn({ ...props, valueOffsets, data });
    }
    if (layout.booleans[c]) {
      const bits = new Uint8Array(Math.ceil(length / 8));
      for (let r = 0; r < length; r++) {
        const start = spans[at(r)]!;
        if (start >= 0 && rows[r]![start] !== 0) bits[r >> 3]! |= 1 << (r & 7);
      }
      return makeColumn({ ...props, data: bits });
    }
    const values = fixedWidthValues(column.type, length);
    const bytes = new Uint8Array(values.buffer);
    for (let r = 0; r < length; r++) {
      const start = spans[at(r)]!;
      if (start < 0) continue;
      const row = rows[r]!;
      for (let i = 0; i < width; i++) bytes[r * width + i] = row[start + i]!;
    }
    return makeColumn({ ...props, data: values });
  });
}

/** A row in the JSON-array form Tablets stored before this one, in this form. */
export function rowFromLegacyJson(layout: RowLayout, text: string): Uint8Array {
  const values = JSON.parse(text) as JsonValue[];
  const columns = layout.columns.map((column, i) => {
    const value = values[i] ?? null;
    return buildColumn(column.type, [value === null ? null : scalarFromJson(column.type, value)]);
  });
  return rowEncoder(layout, columns)(0);
}

/** Writes each column's `[start, end)` in `row` into `spans` from `at` (start -1: the column is null). */
function valueSpans(layout: RowLayout, row: Uint8Array, spans: Int32Array, at: number): void {
  let position = layout.bitmapBytes;
  const count = layout.widths.length;
  for (let c = 0; c < count; c++) {
    if ((row[c >> 3]! & (1 << (c & 7))) === 0) continue;
    let width = layout.widths[c]!;
    if (width === variable) {
      width = (row[position]! | (row[position + 1]! << 8) | (row[position + 2]! << 16) | (row[position + 3]! << 24)) >>> 0;
      position += 4;
    }
    spans[at + 2 * c] = position;
    spans[at + 2 * c + 1] = position + width;
    position += width;
  }
}

function writeLength(out: Uint8Array, at: number, length: number): void {
  out[at] = length & 0xff;
  out[at + 1] = (length >>> 8) & 0xff;
  out[at + 2] = (length >>> 16) & 0xff;
  out[at + 3] = (length >>> 24) & 0xff;
}
