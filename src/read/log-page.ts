/**
 * A page of one bucket's log: stored record batches cut to an offset range,
 * projected to the asked columns, with the system columns `_offset`,
 * `_timestamp` (commit time) and `_change` on every row (`+I` for log tables;
 * a primary-key table's log is its changelog). Pure functions, used by the
 * log route, scans and tiering in the Worker, by subscriptions in the
 * Tablet, and by the lake replay of a subscription.
 *
 * Invariant: rows come in offset order with no gap; `nextOffset` is the
 * offset after the last row, so reading from it continues exactly.
 */
import type * as arrow from "apache-arrow";
import { FloeError } from "../errors.ts";
import type { Column } from "../table/schema.ts";
import type { FloeType } from "../table/types.ts";
import { arrowSchemaOf, buildColumn, readScalar } from "../table/columns.ts";
import type { JsonValue, Scalar } from "../table/values.ts";
import { scalarToJson } from "../table/values.ts";
import { changeColumnName, changeTypes } from "../table/change-type.ts";
import { decodeStream, encodeStream, joinStream } from "../arrow/ipc.ts";
import { gather } from "../arrow/gather.ts";
import type { StoredBatch } from "../tablet/queries.ts";

export interface LogPage {
  bucket: number;
  logStartOffset: number;
  highWatermark: number;
  nextOffset: number;
  /** The projected columns followed by the system columns. */
  columns: Column[];
  rowCount: number;
  data: arrow.Data[];
}

/** What a Tablet read returns: stored batches from `offset`, with the schemas they use. */
export interface StoredRange {
  offset: number;
  logStartOffset: number;
  highWatermark: number;
  schemas: Record<number, Uint8Array>;
  batches: StoredBatch[];
}

const systemColumnTypes: Record<"_offset" | "_timestamp" | "_change", FloeType> = {
  _offset: { kind: "BIGINT" },
  _timestamp: { kind: "TIMESTAMP_LTZ", precision: 3 },
  _change: { kind: "STRING" },
};

/** At most `limit` rows of `range`, from its offset, projected to `projected`. */
export function pageFromRange(bucket: number, range: StoredRange, projected: readonly Column[], limit: number): LogPage {
  const end = range.offset + limit;
  const chunks: arrow.Table[] = [];
  const rows: number[] = [];
  const system: SystemValues = { _offset: [], _timestamp: [], _change: [] };
  let chunkStart = 0;
  for (const stored of range.batches) {
    const decoded = decodeStream(joinStream(range.schemas[stored.schemaId]!, [stored.ipcBatch]));
    const changeCodes = decoded.getChild(changeColumnName)?.data[0]?.values as Int8Array | undefined;
    const from = Math.max(range.offset, stored.baseOffset);
    const to = Math.min(end, stored.baseOffset + stored.recordCount);
    for (let offset = from; offset < to; offset++) {
      rows.push(chunkStart + offset - stored.baseOffset);
      system._offset.push(BigInt(offset));
      system._timestamp.push(BigInt(stored.commitMs) * 1000n);
      system._change.push(changeCodes ? changeTypes[changeCodes[offset - stored.baseOffset]!]! : "+I");
    }
    chunks.push(decoded);
    chunkStart += stored.recordCount;
  }
  const data = projected.map((column) => {
    const parts = chunks.map((t) => t.getChild(column.name)!.data[0]!);
    return parts.length === 0 ? buildColumn(column.type, []) : gather(parts, rows);
  });
  return pageOf(bucket, range, range.offset, projected, data, system);
}

/** Per row, the values of the system columns. */
export type SystemValues = Record<keyof typeof systemColumnTypes, Scalar[]>;

/** A page of consecutive offsets from the projected columns' data and the rows' system values. */
export function pageOf(
  bucket: number,
  bounds: { logStartOffset: number; highWatermark: number },
  firstOffset: number,
  projected: readonly Column[],
  data: arrow.Data[],
  system: SystemValues,
): LogPage {
  const rowCount = system._offset.length;
  const systemColumns = Object.entries(systemColumnTypes).map(([name, type], index) => {
    data.push(buildColumn(type, system[name as keyof typeof systemColumnTypes]));
    return { id: -1 - index, name, type, nullable: false };
  });
  return {
    bucket,
    logStartOffset: bounds.logStartOffset,
    highWatermark: bounds.highWatermark,
    nextOffset: firstOffset + rowCount,
    columns: [...projected, ...systemColumns],
    rowCount,
    data,
  };
}

/** The page's rows as JSON objects. */
export function pageToJsonRows(page: LogPage): Record<string, JsonValue>[] {
  return columnsToJsonRows(page.columns, page.data, page.rowCount);
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

/** The page as one Arrow IPC stream; `metadata` goes into the schema's custom metadata. */
export function pageToArrow(page: LogPage, metadata?: Record<string, string>): Uint8Array {
  return encodeStream(arrowSchemaOf(page.columns, metadata), page.data, page.rowCount);
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
