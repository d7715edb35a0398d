/**
 * Reading one bucket's log from an offset: the stored record batches cut to
 * the asked range, projected to the asked columns, with the system columns
 * `_offset`, `_timestamp` (commit time) and `_change` on every row (`+I`
 * for log tables; a primary-key table's log is its changelog).
 *
 * Invariant: rows come back in offset order with no gap; `nextOffset` is the
 * offset after the last row returned, so reading from it continues exactly.
 */
import type * as arrow from "apache-arrow";
import { FloeError } from "../errors.ts";
import type { TableEntry } from "../catalog/catalog.ts";
import type { Column } from "../table/schema.ts";
import type { FloeType } from "../table/types.ts";
import { arrowSchemaOf, buildColumn, readScalar } from "../table/columns.ts";
import type { JsonValue, Scalar } from "../table/values.ts";
import { scalarToJson } from "../table/values.ts";
import { decodeStream, encodeStream, joinStream } from "../arrow/ipc.ts";
import { gather } from "../arrow/gather.ts";
import { tabletStub } from "../tablet/stub.ts";
import { changeColumnName, changeTypes } from "../table/change-type.ts";

export interface LogReadRequest {
  bucket: number;
  offset: number | "earliest";
  limit: number;
  /** Column names to return, in order; all columns when absent. */
  columns?: string[];
}

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

/** Log reads never pull more than this many stored bytes from a Tablet per call. */
const readBytesMax = 8 * 1024 * 1024;

const systemColumnTypes: Record<"_offset" | "_timestamp" | "_change", FloeType> = {
  _offset: { kind: "BIGINT" },
  _timestamp: { kind: "TIMESTAMP_LTZ", precision: 3 },
  _change: { kind: "STRING" },
};

export async function readLogPage(env: Env, table: TableEntry, request: LogReadRequest): Promise<LogPage> {
  const { definition } = table;
  if (request.bucket >= definition.bucket.num) {
    throw FloeError.badRequest(`bucket ${request.bucket} does not exist; the table has ${definition.bucket.num}`);
  }
  const projected = projectColumns(definition.columns, request.columns);
  const result = await tabletStub(env, table.tableId, request.bucket).read({
    offset: request.offset,
    rowsMax: request.limit,
    bytesMax: readBytesMax,
  });
  if (result.kind === "offset_out_of_range") {
    throw FloeError.badRequest(
      `offset ${request.offset} is outside bucket ${request.bucket}'s log [${result.logStartOffset}, ${result.highWatermark}]`,
    );
  }
  const end = result.offset + request.limit;
  const chunks: arrow.Table[] = [];
  const rows: number[] = [];
  const system: Record<keyof typeof systemColumnTypes, Scalar[]> = { _offset: [], _timestamp: [], _change: [] };
  let chunkStart = 0;
  for (const stored of result.batches) {
    const decoded = decodeStream(joinStream(result.schemas[stored.schemaId]!, [stored.ipcBatch]));
    const changeCodes = decoded.getChild(changeColumnName)?.data[0]?.values as Int8Array | undefined;
    const from = Math.max(result.offset, stored.baseOffset);
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
  const systemColumns = Object.entries(systemColumnTypes).map(([name, type], index) => {
    data.push(buildColumn(type, system[name as keyof typeof systemColumnTypes]));
    return { id: -1 - index, name, type, nullable: false };
  });
  return {
    bucket: request.bucket,
    logStartOffset: result.logStartOffset,
    highWatermark: result.highWatermark,
    nextOffset: result.offset + rows.length,
    columns: [...projected, ...systemColumns],
    rowCount: rows.length,
    data,
  };
}

/** The page's rows as JSON objects. */
export function pageToJsonRows(page: LogPage): Record<string, JsonValue>[] {
  const out: Record<string, JsonValue>[] = new Array(page.rowCount);
  for (let row = 0; row < page.rowCount; row++) {
    const object: Record<string, JsonValue> = {};
    page.columns.forEach((column, c) => {
      const value = readScalar(column.type, page.data[c]!, row);
      object[column.name] = value === null ? null : scalarToJson(column.type, value);
    });
    out[row] = object;
  }
  return out;
}

/** The page as one Arrow IPC stream. */
export function pageToArrow(page: LogPage): Uint8Array {
  return encodeStream(arrowSchemaOf(page.columns), page.data, page.rowCount);
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
