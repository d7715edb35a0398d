/**
 * Rows sent as an Arrow IPC stream, checked against the table: every field
 * must be a table column with exactly the column's Arrow type (see the type
 * table in the README), the stream's metadata must stay within bounds
 * (`arrow/metadata.ts`) and its buffers obey Arrow's layout
 * (`arrow/layout.ts`: declared null counts, buffer bounds, offsets, UTF-8),
 * NOT NULL columns must hold no nulls, and a missing column is allowed only
 * when it is nullable.
 */
import * as arrow from "apache-arrow";
import { FloeError } from "../errors.ts";
import type { Column, TableDefinition } from "../table/schema.ts";
import { limits } from "../table/schema.ts";
import { arrowType, formatType } from "../table/types.ts";
import { buildColumn, firstValueOutOfRange, truncateTimestamps } from "../table/columns.ts";
import { temporalRangeOf } from "../table/values.ts";
import { decodeStream } from "../arrow/ipc.ts";
import { LayoutError, checkStreamLayout } from "../arrow/layout.ts";
import { checkStreamMetadata } from "../arrow/metadata.ts";
import { gatherRange } from "../arrow/gather.ts";
import type { RowBatch } from "./batch.ts";
import { assertRowCount, unexpectedColumn } from "./batch.ts";

/** Rows as Arrow columns for `columns` (all of the table's, or the subset a partial update or delete carries). */
export function rowsFromArrow(definition: TableDefinition, columns: readonly Column[], body: Uint8Array): RowBatch {
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
  for (const field of table.schema.fields) {
    const column = byName.get(field.name);
    if (!column) throw FloeError.badRequest(unexpectedColumn(definition, "the Arrow stream", field.name));
    const expected = arrowType(column.type);
    if (String(expected) !== String(field.type)) {
      throw FloeError.badRequest(`Arrow field '${column.name}' is ${field.type}, but ${formatType(column.type)} is stored as ${expected}`);
    }
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
    const chunks = table.getChildAt(index)!.data;
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

/** Whatever the Arrow reader or the layout check threw about an unreadable stream (an Error, a TypeError, a RangeError), as a 400. */
function malformed(error: unknown): FloeError {
  return FloeError.badRequest(`malformed Arrow IPC stream: ${error instanceof Error ? error.message : String(error)}`);
}
