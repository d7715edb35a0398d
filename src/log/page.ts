/**
 * A page of one bucket's log, as every layer sees it: record batches of the
 * asked columns followed by the system columns `_offset`, `_timestamp`
 * (commit time) and `_change` (`+I` for log tables; a primary-key table's
 * log is its changelog). A Tablet builds pages from its stored batches and
 * sends them as one Arrow IPC stream (`LogPageWire`); the Worker decodes
 * that stream without converting values. A read may carry a filter
 * (`table/predicate.ts`), which the Tablet applies to its stored batches, so
 * only matching rows of the asked columns cross the boundary.
 *
 * Invariant: rows come in offset order, with no gap unless a filter left
 * rows out; a page covers the offsets from where it was asked to
 * `nextOffset` (exclusive), every row of them that matched, so reading from
 * `nextOffset` continues exactly, filtered or not.
 */
import * as arrow from "apache-arrow";
import { FloeError } from "../errors.ts";
import type { Column } from "../table/schema.ts";
import { arrowSchemaOf, readScalar } from "../table/columns.ts";
import type { JsonValue } from "../table/values.ts";
import { scalarToJson } from "../table/values.ts";
import { changeTypes } from "../table/change-type.ts";
import { decodeStream } from "../arrow/ipc.ts";
import { batchMessage, endOfStream, schemaMessage } from "../arrow/ipc-write.ts";
import type { ColumnBatch } from "../arrow/batch.ts";
import { makeColumn } from "../arrow/gather.ts";

export interface LogPage {
  bucket: number;
  logStartOffset: number;
  highWatermark: number;
  /** The offset after the last one the page covers (rows a filter left out included). */
  nextOffset: number;
  /** The projected columns, then the system columns (`logSystemColumns`). */
  columns: Column[];
  rowCount: number;
  /** Record batches over `columns`, in offset order. */
  batches: ColumnBatch[];
  /** For a page decoded from its wire form: the bytes of its IPC stream. */
  ipcBytes?: number;
}

/** A page as it crosses the Tablet boundary: its bounds and its rows as one Arrow IPC stream. */
export interface LogPageWire {
  logStartOffset: number;
  highWatermark: number;
  nextOffset: number;
  rowCount: number;
  /** Schema and record batches of the page's columns, projected ones first. */
  ipc: Uint8Array;
}

/** The system columns every page ends with, in this order. */
export const logSystemColumns: readonly Column[] = [
  { id: -1, name: "_offset", type: { kind: "BIGINT" }, nullable: false },
  { id: -2, name: "_timestamp", type: { kind: "TIMESTAMP_LTZ", precision: 3 }, nullable: false },
  { id: -3, name: "_change", type: { kind: "STRING" }, nullable: false },
];

/** Where the system columns sit in a page of `projectedCount` asked columns. */
export function systemColumnIndexes(projectedCount: number): { offset: number; timestamp: number; change: number } {
  return { offset: projectedCount, timestamp: projectedCount + 1, change: projectedCount + 2 };
}

/** A page's column list: the projected columns, then the system columns. */
export function pageColumns(projected: readonly Column[]): Column[] {
  return [...projected, ...logSystemColumns];
}

/**
 * The system columns of `rowCount` rows committed at `commitMs`: the
 * consecutive offsets from `firstOffset`, or with `rows` the offsets
 * `firstOffset + rows[i]` (the rows a filter kept); `changeCodes` are a
 * changelog's change codes, one per row (absent for a log table, whose rows
 * are all inserts).
 */
export function systemColumnData(firstOffset: number, rowCount: number, commitMs: number, changeCodes?: Int8Array, rows?: ArrayLike<number>): arrow.Data[] {
  const offsets = new BigInt64Array(rowCount);
  // Written as 32-bit words: offsets stay far below 2^53, and no BigInt is made per row.
  const words = new Int32Array(offsets.buffer);
  for (let i = 0; i < rowCount; i++) {
    const offset = firstOffset + (rows ? rows[i]! : i);
    words[2 * i] = offset >>> 0;
    words[2 * i + 1] = Math.floor(offset / 4294967296);
  }
  const timestamps = new BigInt64Array(rowCount).fill(BigInt(commitMs) * 1000n);
  const [offsetColumn, timestampColumn] = arrowSchemaOf(logSystemColumns).fields;
  return [
    makeColumn({ type: offsetColumn!.type, length: rowCount, nullCount: 0, data: offsets }),
    makeColumn({ type: timestampColumn!.type, length: rowCount, nullCount: 0, data: timestamps }),
    changeColumnData(rowCount, changeCodes),
  ];
}

/** The `_change` column of `rowCount` rows: their change codes spelled out, or `+I` for every row when there are none. */
export function changeColumnData(rowCount: number, changeCodes?: Int8Array): arrow.Data {
  // Every change type is two ASCII characters: each row's text is one 16-bit unit (little-endian, as Arrow and every
  // platform Floe runs on lay them out), so the strings are written unit by unit, or filled when all are inserts.
  const valueOffsets = new Int32Array(rowCount + 1);
  for (let i = 1; i <= rowCount; i++) valueOffsets[i] = 2 * i;
  const units = new Uint16Array(rowCount);
  if (changeCodes) for (let i = 0; i < rowCount; i++) units[i] = spelledUnits[changeCodes[i]!]!;
  else units.fill(spelledUnits[0]!);
  return makeColumn({ type: new arrow.Utf8(), length: rowCount, nullCount: 0, valueOffsets, data: new Uint8Array(units.buffer) });
}

/** Each change type's two characters as one little-endian 16-bit unit. */
const spelledUnits = Uint16Array.from(changeTypes, (t) => t.charCodeAt(0) | (t.charCodeAt(1) << 8));

/** A `_change` column's change codes (`table/change-type.ts`), read back from their two-character spellings. */
export function changeCodesOf(change: arrow.Data): Int8Array {
  const codes = new Int8Array(change.length);
  const text = change.values as Uint8Array;
  const offsets = change.valueOffsets as Int32Array;
  const bySpelling = new Map(changeTypes.map((t, code) => [t.charCodeAt(0) * 256 + t.charCodeAt(1), code]));
  for (let i = 0; i < change.length; i++) {
    const at = offsets[i]!;
    codes[i] = bySpelling.get(text[at]! * 256 + text[at + 1]!)!;
  }
  return codes;
}

/** The page's rows as one Arrow IPC stream; `metadata` goes into the schema's custom metadata. */
export function pageToIpc(page: Pick<LogPage, "columns" | "batches">, metadata?: Record<string, string>): Uint8Array {
  const messages = [schemaMessage(arrowSchemaOf(page.columns, metadata)), ...page.batches.map((b) => batchMessage(b.columns, b.rowCount)), endOfStream];
  const out = new Uint8Array(messages.reduce((n, m) => n + m.byteLength, 0));
  messages.reduce((at, m) => (out.set(m, at), at + m.byteLength), 0);
  return out;
}

export function pageToWire(page: LogPage): LogPageWire {
  const { logStartOffset, highWatermark, nextOffset, rowCount } = page;
  return { logStartOffset, highWatermark, nextOffset, rowCount, ipc: pageToIpc(page) };
}

/** A page of `bucket` from its wire form; `projected` are the columns it was asked for. */
export function pageFromWire(wire: LogPageWire, bucket: number, projected: readonly Column[]): LogPage {
  const table = decodeStream(wire.ipc);
  const columns = pageColumns(projected);
  const batches = table.batches.map((b) => ({ rowCount: b.numRows, columns: b.data.children as arrow.Data[] }));
  if (table.schema.fields.length !== columns.length) {
    throw new Error(`a log page of ${table.schema.fields.length} columns arrived for ${columns.length} asked`);
  }
  const { logStartOffset, highWatermark, nextOffset, rowCount } = wire;
  return { bucket, logStartOffset, highWatermark, nextOffset, columns, rowCount, batches, ipcBytes: wire.ipc.byteLength };
}

/** The page's rows as JSON objects. */
export function pageToJsonRows(page: Pick<LogPage, "columns" | "batches">): Record<string, JsonValue>[] {
  return page.batches.flatMap((batch) => columnsToJsonRows(page.columns, batch.columns, batch.rowCount));
}

/** Rows of Arrow columns as JSON objects, one key per column, in column order. */
export function columnsToJsonRows(columns: readonly Column[], data: readonly arrow.Data[], rowCount: number): Record<string, JsonValue>[] {
  const out: Record<string, JsonValue>[] = new Array(rowCount);
  for (let row = 0; row < rowCount; row++) {
    const object: Record<string, JsonValue> = {};
    columns.forEach((column, c) => {
      const value = readScalar(column.type, data[c]!, row);
      object[column.name] = value === null ? null : scalarToJson(column.type, value);
    });
    out[row] = object;
  }
  return out;
}

/** The named columns of a table, in the asked order; all of them when none are named. */
export function projectColumns(columns: readonly Column[], names: readonly string[] | undefined): Column[] {
  if (names === undefined) return [...columns];
  const byName = new Map(columns.map((c) => [c.name, c]));
  if (new Set(names).size !== names.length) throw FloeError.badRequest("columns names a column twice");
  return names.map((name) => {
    const column = byName.get(name);
    if (!column) throw FloeError.badRequest(`unknown column '${name}'`);
    return column;
  });
}
