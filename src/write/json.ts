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
import { requestLimits } from "../vocabulary.ts";
import type { RowBatch } from "./batch.ts";
import { assertRowCount, unexpectedColumn } from "./batch.ts";

export function parseJsonRows(text: string): unknown[] {
  refuseTooManyRows(text, jsonArrayElements);
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
  refuseTooManyRows(text, ndjsonLines);
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
 * Refuses a body holding more rows than a write may carry before parsing
 * it: millions of tiny rows (`[{},{},…]`) would take far more memory as
 * parsed objects than as text. A row takes at least two characters, so
 * only bodies that long are counted.
 */
function refuseTooManyRows(text: string, count: (text: string, stopAbove: number) => number): void {
  const rowsMax = requestLimits.rowsPerWriteMax;
  if (text.length <= 2 * rowsMax) return;
  const rows = count(text, rowsMax);
  if (rows > rowsMax) assertRowCount(rows);
}

/** The elements of a top-level JSON array, counted by its commas outside strings and nesting; stops once past `stopAbove`. */
function jsonArrayElements(text: string, stopAbove: number): number {
  if (text.trimStart()[0] !== "[") return 0; // not an array: the parser says what is wrong
  let depth = 0;
  let inString = false;
  let commas = 0;
  let hasElement = false;
  for (let i = 0; i < text.length && commas <= stopAbove; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++; // backslash: skip the escaped character
      else if (c === 0x22) inString = false;
      continue;
    }
    if (c === 0x22) inString = true;
    else if (c === 0x5b || c === 0x7b) depth++;
    else if (c === 0x5d || c === 0x7d) depth--;
    else if (c === 0x2c && depth === 1) commas++;
    if (depth >= 1 && !hasElement && c !== 0x5b && c > 0x20) hasElement = true;
  }
  return hasElement ? commas + 1 : 0;
}

/** The non-blank lines of NDJSON; stops once past `stopAbove`. */
function ndjsonLines(text: string, stopAbove: number): number {
  let lines = 0;
  let blank = true;
  for (let i = 0; i < text.length && lines <= stopAbove; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x0a) {
      if (!blank) lines++;
      blank = true;
    } else if (c > 0x20) {
      blank = false;
    }
  }
  return blank ? lines : lines + 1;
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
