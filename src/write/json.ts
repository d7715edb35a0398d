/**
 * Rows sent as JSON (an array of objects) or NDJSON (one object per line),
 * validated against the table and turned into Arrow columns.
 *
 * Errors name the row (0-based, in request order) and the column; a request
 * with any bad row is refused whole.
 */
import { FloeError } from "../errors.ts";
import type { Column, TableDefinition } from "../table/schema.ts";
import { buildColumn } from "../table/columns.ts";
import type { Scalar } from "../table/values.ts";
import { ValueError, scalarFromJson } from "../table/values.ts";
import { formatType } from "../table/types.ts";
import type { RowBatch } from "./batch.ts";
import { assertRowCount, unexpectedColumn } from "./batch.ts";

export function parseJsonRows(text: string): unknown[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw FloeError.badRequest(`malformed JSON: ${(error as Error).message}`);
  }
  if (!Array.isArray(parsed)) throw FloeError.badRequest("a JSON write body must be an array of row objects");
  return parsed;
}

export function parseNdjsonRows(text: string): unknown[] {
  const rows: unknown[] = [];
  const lines = text.split("\n");
  lines.forEach((line, index) => {
    if (line.trim() === "") return;
    try {
      rows.push(JSON.parse(line));
    } catch (error) {
      throw FloeError.badRequest(`malformed NDJSON on line ${index + 1}: ${(error as Error).message}`);
    }
  });
  return rows;
}

/**
 * Rows as Arrow columns for `columns` (all of the table's, or the subset a
 * partial update or delete carries).
 */
export function rowsFromJson(
  definition: TableDefinition,
  columns: readonly Column[],
  rows: readonly unknown[],
  noun = "row",
): RowBatch {
  assertRowCount(rows.length);
  const columnIndex = new Map(columns.map((c, i) => [c.name, i]));
  const values: (Scalar | null)[][] = columns.map(() => new Array<Scalar | null>(rows.length));
  rows.forEach((row, r) => {
    if (typeof row !== "object" || row === null || Array.isArray(row)) {
      throw FloeError.badRequest(`${noun} ${r} must be a JSON object`);
    }
    for (const name of Object.keys(row)) {
      if (!columnIndex.has(name)) throw FloeError.badRequest(unexpectedColumn(definition, `${noun} ${r}`, name));
    }
    columns.forEach((column, c) => {
      const value = (row as Record<string, unknown>)[column.name];
      if (value === null || value === undefined) {
        if (!column.nullable) {
          throw FloeError.badRequest(`${noun} ${r}, column '${column.name}': ${formatType(column.type)} NOT NULL needs a value`);
        }
        values[c]![r] = null;
        return;
      }
      try {
        values[c]![r] = scalarFromJson(column.type, value);
      } catch (error) {
        if (!(error instanceof ValueError)) throw error;
        throw FloeError.badRequest(`${noun} ${r}, column '${column.name}': ${error.message}`);
      }
    });
  });
  return { rowCount: rows.length, columns: columns.map((column, c) => buildColumn(column.type, values[c]!)) };
}
