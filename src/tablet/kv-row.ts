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

/** How a table's rows are laid out: per column, its value width in bytes, or `variable`. */
export interface RowLayout {
  columns: readonly Column[];
  widths: readonly (number | "variable")[];
  bitmapBytes: number;
}

export function rowLayout(columns: readonly Column[]): RowLayout {
  return { columns, widths: columns.map((c) => valueWidth(c.type)), bitmapBytes: Math.ceil(columns.length / 8) };
}

function valueWidth(type: FloeType): number | "variable" {
  switch (type.kind) {
    case "STRING":
    case "BYTES": return "variable";
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

/** Where a cell's value comes from: an Arrow column's row, a stored row's bytes, or nothing (null). */
type Cell = { data: arrow.Data; row: number } | { bytes: Uint8Array; start: number; end: number } | null;

/** The row `row` of full-width Arrow columns (one per layout column, in order). */
export function encodeRow(layout: RowLayout, columns: readonly arrow.Data[], row: number): Uint8Array {
  return writeCells(layout, columns.map((data) => ({ data, row })));
}

/**
 * A stored row (or nulls, when `base` is null) with some columns replaced
 * by row `row` of `present` (column index → Arrow column): a partial update.
 */
export function mergeRow(layout: RowLayout, base: Uint8Array | null, present: ReadonlyMap<number, arrow.Data>, row: number): Uint8Array {
  const spans = base === null ? null : cellSpans(layout, base);
  return writeCells(layout, layout.columns.map((_, i) => {
    const data = present.get(i);
    if (data) return { data, row };
    const span = spans?.[i];
    return span ? { bytes: base!, start: span[0], end: span[1] } : null;
  }));
}

export function sameRow(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** An integer column's value (the versioned merge engine's version), or null. */
export function integerAt(layout: RowLayout, row: Uint8Array, column: number): bigint | null {
  const span = cellSpans(layout, row)[column];
  if (!span) return null;
  const view = new DataView(row.buffer, row.byteOffset + span[0], span[1] - span[0]);
  return span[1] - span[0] === 4 ? BigInt(view.getInt32(0, true)) : view.getBigInt64(0, true);
}

/** Stored rows as Arrow columns, one per layout column. */
export function decodeRows(layout: RowLayout, rows: readonly Uint8Array[]): arrow.Data[] {
  const spans = rows.map((row) => cellSpans(layout, row));
  return layout.columns.map((column, c) => {
    const width = layout.widths[c]!;
    const length = rows.length;
    const validity = new Uint8Array(Math.ceil(length / 8));
    let nullCount = 0;
    for (let r = 0; r < length; r++) {
      if (spans[r]![c]) validity[r >> 3]! |= 1 << (r & 7);
      else nullCount++;
    }
    const props = { type: arrowType(column.type), length, nullCount, nullBitmap: nullCount > 0 ? validity : undefined };
    if (width === "variable") {
      const valueOffsets = new Int32Array(length + 1);
      for (let r = 0; r < length; r++) {
        const span = spans[r]![c];
        valueOffsets[r + 1] = valueOffsets[r]! + (span ? span[1] - span[0] : 0);
      }
      const data = new Uint8Array(valueOffsets[length]!);
      for (let r = 0; r < length; r++) {
        const span = spans[r]![c];
        if (span) data.set(rows[r]!.subarray(span[0], span[1]), valueOffsets[r]!);
      }
      return makeColumn({ ...props, valueOffsets, data });
    }
    if (column.type.kind === "BOOLEAN") {
      const bits = new Uint8Array(Math.ceil(length / 8));
      for (let r = 0; r < length; r++) {
        const span = spans[r]![c];
        if (span && rows[r]![span[0]] !== 0) bits[r >> 3]! |= 1 << (r & 7);
      }
      return makeColumn({ ...props, data: bits });
    }
    const values = fixedWidthValues(column.type, length);
    const bytes = new Uint8Array(values.buffer);
    for (let r = 0; r < length; r++) {
      const span = spans[r]![c];
      if (span) bytes.set(rows[r]!.subarray(span[0], span[1]), r * width);
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
  return encodeRow(layout, columns, 0);
}

/** Per column, the `[start, end)` of its value in `row`, or null when the column is null. */
function cellSpans(layout: RowLayout, row: Uint8Array): ([number, number] | null)[] {
  let at = layout.bitmapBytes;
  return layout.widths.map((width, i) => {
    if ((row[i >> 3]! & (1 << (i & 7))) === 0) return null;
    if (width === "variable") {
      const length = (row[at]! | (row[at + 1]! << 8) | (row[at + 2]! << 16) | (row[at + 3]! << 24)) >>> 0;
      const span: [number, number] = [at + 4, at + 4 + length];
      at = span[1];
      return span;
    }
    const span: [number, number] = [at, at + width];
    at += width;
    return span;
  });
}

function writeCells(layout: RowLayout, cells: readonly Cell[]): Uint8Array {
  const sources = cells.map((cell, i) => (cell !== null && "data" in cell && !cell.data.getValid(cell.row) ? null : cellBytes(layout, i, cell)));
  let size = layout.bitmapBytes;
  sources.forEach((bytes, i) => {
    if (bytes !== null) size += bytes.length + (layout.widths[i] === "variable" ? 4 : 0);
  });
  const out = new Uint8Array(size);
  let at = layout.bitmapBytes;
  sources.forEach((bytes, i) => {
    if (bytes === null) return;
    out[i >> 3]! |= 1 << (i & 7);
    if (layout.widths[i] === "variable") {
      out[at++] = bytes.length & 0xff;
      out[at++] = (bytes.length >>> 8) & 0xff;
      out[at++] = (bytes.length >>> 16) & 0xff;
      out[at++] = (bytes.length >>> 24) & 0xff;
    }
    out.set(bytes, at);
    at += bytes.length;
  });
  return out;
}

const booleanBytes = [new Uint8Array([0]), new Uint8Array([1])] as const;

/** The value bytes of a non-null cell, as views where possible (copied into the row by `writeCells`). */
function cellBytes(layout: RowLayout, column: number, cell: Cell): Uint8Array | null {
  if (cell === null) return null;
  if ("bytes" in cell) return cell.bytes.subarray(cell.start, cell.end);
  const { data, row } = cell;
  const width = layout.widths[column]!;
  if (width === "variable") {
    const offsets = data.valueOffsets as Int32Array;
    return (data.values as Uint8Array).subarray(offsets[row]!, offsets[row + 1]!);
  }
  if (layout.columns[column]!.type.kind === "BOOLEAN") {
    const bit = data.offset + row;
    return booleanBytes[(data.values[bit >> 3] & (1 << (bit & 7))) !== 0 ? 1 : 0];
  }
  const values = data.values as ArrayBufferView;
  return new Uint8Array(values.buffer, values.byteOffset + row * width, width);
}
