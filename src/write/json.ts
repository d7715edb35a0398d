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
  refuseHostileBody(text, "json");
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
  refuseHostileBody(text, "ndjson");
  const rows: unknown[] = [];
  // Line by line without splitting: a body of millions of empty lines must not become millions of strings.
  for (let start = 0, line = 1; start < text.length; line++) {
    const newline = text.indexOf("\n", start);
    const end = newline < 0 ? text.length : newline;
    const content = text.slice(start, end);
    start = end + 1;
    if (content.trim() === "") continue;
    try {
      rows.push(JSON.parse(content));
    } catch (error) {
      throw FloeError.badRequest(`malformed NDJSON on line ${line}: ${(error as Error).message}`);
    }
  }
  return rows;
}

/**
 * Refuses, before parsing, a large body that would take far more memory
 * parsed than as text: more rows than a write may carry (millions of tiny
 * rows, `[{},{},…]`), or values nested in rows (which no column takes, and
 * which a 16 MiB body can nest millions deep). Bodies below twice the row
 * limit in characters cannot hold too many rows and parse cheaply, so only
 * larger ones are scanned.
 */
function refuseHostileBody(text: string, format: "json" | "ndjson"): void {
  const rowsMax = requestLimits.rowsPerWriteMax;
  if (text.length <= 2 * rowsMax) return;
  if (format === "json" && text.trimStart()[0] !== "[") return; // not an array: the parser says what is wrong
  const rows = countRows(text, format, rowsMax);
  if (rows > rowsMax) assertRowCount(rows);
}

/**
 * The rows of a body, counted outside strings without parsing it: the
 * elements of its array (JSON) or its non-blank lines (NDJSON); stops once
 * past `stopAbove`. Refuses a container nested in a row.
 */
function countRows(text: string, format: "json" | "ndjson", stopAbove: number): number {
  const json = format === "json";
  // Rows sit inside the array (JSON), or at the top of a line (NDJSON); a row object is one level deeper.
  const rowDepth = json ? 1 : 0;
  let depth = rowDepth;
  let rows = 0;
  let rowStarted = false;
  let inString = false;
  const endRow = () => {
    if (rowStarted) rows++;
    rowStarted = false;
  };
  for (let i = json ? text.indexOf("[") + 1 : 0; i < text.length && rows <= stopAbove; i++) {
    const c = text.charCodeAt(i);
    if (!json && c === 0x0a) {
      endRow();
      depth = 0;
      inString = false;
      continue;
    }
    if (inString) {
      if (c === 0x5c) i++; // backslash: skip the escaped character
      else if (c === 0x22) inString = false;
      continue;
    }
    if (c === 0x5b || c === 0x7b) {
      if (++depth > rowDepth + 1) throw FloeError.badRequest(`row values are scalars, but the body nests an array or object at character ${i}`);
    } else if (c === 0x5d || c === 0x7d) depth--;
    else if (c === 0x22) inString = true;
    if (json && c === 0x2c && depth === rowDepth) endRow();
    else if (c > 0x20 && depth >= rowDepth) rowStarted = true;
  }
  endRow();
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
