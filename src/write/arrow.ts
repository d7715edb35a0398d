/**
 * Rows sent as an Arrow IPC stream, checked against the table: every field
 * must be a table column with the column's Arrow type or one that widens to
 * it without changing a value (`arrow-widen.ts`; docs/types.md), the
 * stream's metadata must stay within bounds (`arrow/metadata.ts`) and its
 * buffers obey Arrow's layout (`arrow/layout.ts`: declared null counts,
 * buffer bounds, offsets, dictionary indexes, UTF-8), NOT NULL columns must
 * hold no nulls, and a missing column is allowed only when it is nullable.
 *
 * Floe's own system columns (`_offset`, `_timestamp`, `_change`), which a
 * log read or a scan answers with, are refused like any unknown field
 * unless the writer asks for them to be ignored (`ignoreSystemColumns`), so
 * a body read back from Floe can be posted again only on purpose.
 */
import * as arrow from "apache-arrow";
import { FloeError } from "../errors.ts";
import type { Column, TableDefinition } from "../table/schema.ts";
import { limits } from "../table/schema.ts";
import { formatType } from "../table/types.ts";
import { buildColumn, firstValueOutOfRange, truncateTimestamps } from "../table/columns.ts";
import { temporalRangeOf } from "../table/values.ts";
import { decodeStream } from "../arrow/ipc.ts";
import { LayoutError, checkStreamLayout } from "../arrow/layout.ts";
import { checkStreamMetadata } from "../arrow/metadata.ts";
import { gatherRange } from "../arrow/gather.ts";
import { logSystemColumns } from "../log/page.ts";
import type { Widening } from "./arrow-widen.ts";
import { WideningError, wideningOf } from "./arrow-widen.ts";
import type { RowBatch } from "./batch.ts";
import { assertRowCount, unexpectedColumn } from "./batch.ts";

/** Rows as Arrow columns for `columns` (all of the table's, or the subset a partial update or delete carries). */
export interface ArrowOptions {
  /** Skip fields named like the system columns a log read or scan answers with (`?ignoreSystemColumns=true`). */
  ignoreSystemColumns?: boolean;
}

const systemColumnNames = new Set(logSystemColumns.map((c) => c.name));

export function rowsFromArrow(definition: TableDefinition, columns: readonly Column[], body: Uint8Array, options: ArrowOptions = {}): RowBatch {
  let table: arrow.Table;
  try {
    // Bounded first: apache-arrow trusts the metadata's vector lengths, and a lying one exhausts memory. No table has more
    // columns than the limit; which fields this request takes is checked by name once decoded, with a clearer message.
    checkStreamMetadata(body, limits.columnCountMax);
    table = decodeStream(body);
  } catch (error) {
    throw malformed(error);
  }
  if (table.schema.fields.length === 0) throw FloeError.badRequest("malformed Arrow IPC stream: no schema");
  assertRowCount(table.numRows);
  const byName = new Map(columns.map((c) => [c.name, c]));
  const widenings = new Map<string, Widening>();
  for (const field of table.schema.fields) {
    const column = byName.get(field.name);
    if (!column) {
      if (options.ignoreSystemColumns && systemColumnNames.has(field.name)) continue;
      const hint = systemColumnNames.has(field.name) ? " (a system column of Floe's log and scan answers: add ?ignoreSystemColumns=true to skip them)" : "";
      throw FloeError.badRequest(`${unexpectedColumn(definition, "the Arrow stream", field.name)}${hint}`);
    }
    const widening = wideningOf(column.type, field.type);
    if (widening.kind === "refused") {
      throw FloeError.badRequest(`Arrow field '${column.name}' is ${field.type}, but ${formatType(column.type)} takes ${widening.accepted}`);
    }
    widenings.set(column.name, widening);
  }
  // Every field now has a Floe type, whose layout the check knows; the decoded data is used only once it passes.
  try {
    checkStreamLayout(body);
  } catch (error) {
    if (!(error instanceof LayoutError) || error.field === undefined) throw malformed(error);
    const where = `${error.row === undefined ? "" : `row ${error.row}, `}column '${table.schema.fields[error.field]!.name}'`;
    throw FloeError.badRequest(`${where}: ${error.message}`);
  }
  const data = columns.map((column) => {
    const index = table.schema.fields.findIndex((f) => f.name === column.name);
    if (index < 0) {
      if (!column.nullable) throw FloeError.badRequest(`Arrow stream lacks NOT NULL column '${column.name}'`);
      return buildColumn(column.type, new Array(table.numRows).fill(null));
    }
    const chunks = widened(column, widenings.get(column.name)!, table.getChildAt(index)!.data);
    const data = chunks.length === 1 && chunks[0]!.offset === 0 ? chunks[0]! : gatherRange(chunks, 0, table.numRows);
    if (!column.nullable && data.nullCount > 0) {
      let row = 0;
      while (data.getValid(row)) row++;
      throw FloeError.badRequest(`row ${row}, column '${column.name}': ${formatType(column.type)} NOT NULL needs a value`);
    }
    const outOfRange = firstValueOutOfRange(column.type, data);
    if (outOfRange >= 0) {
      const range = temporalRangeOf(column.type);
      throw FloeError.badRequest(
        `row ${outOfRange}, column '${column.name}': value does not fit ${formatType(column.type)}${range ? `, which holds ${range}` : ""}`,
      );
    }
    truncateTimestamps(column.type, data);
    return data;
  });
  return { rowCount: table.numRows, columns: data };
}

/** A field's chunks as the column's Arrow type; a value the widening would change is a 400 naming its row. */
function widened(column: Column, widening: Widening, chunks: readonly arrow.Data[]): readonly arrow.Data[] {
  if (widening.kind !== "widen") return chunks;
  let firstRow = 0;
  return chunks.map((chunk) => {
    try {
      return widening.widen(chunk);
    } catch (error) {
      if (!(error instanceof WideningError)) throw error;
      throw FloeError.badRequest(`row ${firstRow + error.row}, column '${column.name}': ${error.message}`);
    } finally {
      firstRow += chunk.length;
    }
  });
}

/** Whatever the Arrow reader or the layout check threw about an unreadable stream (an Error, a TypeError, a RangeError), as a 400. */
function malformed(error: unknown): FloeError {
  return FloeError.badRequest(`malformed Arrow IPC stream: ${error instanceof Error ? error.message : String(error)}`);
}
