/**
 * Scan filters: a conjunction of simple predicates on columns, parsed from
 * the `filter=` query parameter into plain predicates (`table/predicate.ts`,
 * which evaluates them on whole columns, in the Tablets and on lake row
 * groups), and checked against column statistics (file bounds, row-group
 * statistics) to skip data that cannot match.
 *
 * Grammar: `predicate (AND predicate)*`, where a predicate is
 * `column op literal` (op: = != < <= > >=), `column IN (literal, ...)`,
 * `column IS NULL` or `column IS NOT NULL`. Literals are numbers,
 * 'single-quoted strings' ('' escapes a quote), true or false, and take the
 * column's JSON spelling (docs/types.md), so `ts >= '2025-01-01T00:00:00Z'`.
 *
 * Invariant: `mayMatch` is conservative: it answers false only when no row
 * described by the statistics can satisfy every predicate. Comparisons with
 * null are false, as in SQL; NaN is unequal to everything, so only `!=`
 * holds for it (a NaN literal is refused); strings order by code point (as
 * UTF-8 bytes do); a literal finer than its column's precision is refused
 * rather than truncated.
 */
import { FloeError } from "../errors.ts";
import type { Column } from "../table/schema.ts";
import type { Scalar } from "../table/values.ts";
import type { ColumnStats } from "../table/stats.ts";
import type { Predicate, PredicateOp } from "../table/predicate.ts";
import { compareScalars } from "../table/predicate.ts";
import { ValueError, scalarFromJson } from "../table/values.ts";
import { formatType } from "../table/types.ts";

export type { Predicate };

/** Longest filter text accepted, so parsing stays cheap. */
export const filterLengthMax = 4096;

const tokenPattern = /\s*(?:(\d[\w.+-]*|-\d[\w.+-]*)|('(?:[^']|'')*')|([A-Za-z_][A-Za-z0-9_]*)|(<=|>=|!=|<>|[=<>(),]))/y;

type Token = { kind: "number" | "string" | "word" | "symbol"; text: string };

function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  tokenPattern.lastIndex = 0;
  while (tokenPattern.lastIndex < text.length) {
    if (/^\s*$/.test(text.slice(tokenPattern.lastIndex))) break;
    const at = tokenPattern.lastIndex;
    const match = tokenPattern.exec(text);
    if (!match) throw FloeError.badRequest(`filter: unexpected text at character ${at}: '${text.slice(at, at + 20)}'`);
    const [, number, string, word, symbol] = match;
    if (number !== undefined) tokens.push({ kind: "number", text: number });
    else if (string !== undefined) tokens.push({ kind: "string", text: string.slice(1, -1).replaceAll("''", "'") });
    else if (word !== undefined) tokens.push({ kind: "word", text: word });
    else tokens.push({ kind: "symbol", text: symbol === "<>" ? "!=" : symbol! });
  }
  return tokens;
}

/** The predicates of a filter over `columns`; none when the filter is absent. */
export function parseFilter(text: string | undefined, columns: readonly Column[]): Predicate[] {
  if (text === undefined || text.trim() === "") return [];
  if (text.length > filterLengthMax) throw FloeError.badRequest(`filter is longer than ${filterLengthMax} characters`);
  const tokens = tokenize(text);
  let at = 0;
  const peek = () => tokens[at];
  const next = (what: string) => {
    const token = tokens[at++];
    if (!token) throw FloeError.badRequest(`filter: expected ${what} at the end`);
    return token;
  };
  const keyword = (token: Token | undefined, word: string) => token?.kind === "word" && token.text.toUpperCase() === word;
  const byName = new Map(columns.map((c) => [c.name, c]));
  const predicates: Predicate[] = [];
  for (;;) {
    const name = next("a column name");
    const column = name.kind === "word" ? byName.get(name.text) : undefined;
    if (!column) throw FloeError.badRequest(`filter: unknown column '${name.text}'`);
    const op = next("an operator");
    if (keyword(op, "IS")) {
      const negated = keyword(peek(), "NOT");
      if (negated) at++;
      if (!keyword(next("NULL"), "NULL")) throw FloeError.badRequest(`filter: expected NULL after IS${negated ? " NOT" : ""}`);
      predicates.push({ column, op: negated ? "not_null" : "is_null", values: [] });
    } else if (keyword(op, "IN")) {
      if (next("(").text !== "(") throw FloeError.badRequest("filter: expected ( after IN");
      const values: Scalar[] = [];
      for (;;) {
        values.push(literal(column, next("a value")));
        const separator = next(") or ,").text;
        if (separator === ")") break;
        if (separator !== ",") throw FloeError.badRequest(`filter: expected , or ) in IN list, got '${separator}'`);
      }
      predicates.push({ column, op: "in", values });
    } else if (op.kind === "symbol" && ["=", "!=", "<", "<=", ">", ">="].includes(op.text)) {
      predicates.push({ column, op: op.text as PredicateOp, values: [literal(column, next("a value"))] });
    } else {
      throw FloeError.badRequest(`filter: expected an operator after '${column.name}', got '${op.text}'`);
    }
    if (at === tokens.length) return predicates;
    if (!keyword(next("AND"), "AND")) throw FloeError.badRequest(`filter: predicates are joined with AND, got '${tokens[at - 1]!.text}'`);
  }
}

function literal(column: Column, token: Token): Scalar {
  let json: unknown;
  if (token.kind === "string") json = token.text;
  else if (token.kind === "number") json = Number(token.text);
  else if (token.kind === "word" && /^(true|false)$/i.test(token.text)) json = token.text.toLowerCase() === "true";
  else throw FloeError.badRequest(`filter: '${token.text}' is not a value`);
  if (typeof json === "number" && !Number.isFinite(json)) throw FloeError.badRequest(`filter: '${token.text}' is not a number`);
  // Integers beyond 2^53 keep their digits as text, which BIGINT and DECIMAL parse exactly.
  if (token.kind === "number" && (column.type.kind === "BIGINT" || column.type.kind === "DECIMAL")) json = token.text;
  let value: Scalar;
  try {
    value = scalarFromJson(column.type, json);
  } catch (error) {
    if (error instanceof ValueError) throw FloeError.badRequest(`filter: column '${column.name}': ${error.message}`);
    throw error;
  }
  if (typeof value === "number" && Number.isNaN(value)) {
    throw FloeError.badRequest(`filter: column '${column.name}': NaN equals and orders with nothing, so it cannot be compared with`);
  }
  // Writes truncate to the column's precision; a literal must not be truncated, or `<` and `=` would change meaning.
  if (isFinerThanColumn(column, json, value)) {
    throw FloeError.badRequest(`filter: column '${column.name}': '${token.text}' is more precise than ${formatType(column.type)} holds`);
  }
  return value;
}

function isFinerThanColumn(column: Column, json: unknown, value: Scalar): boolean {
  const { type } = column;
  if (type.kind === "TIMESTAMP" || type.kind === "TIMESTAMP_LTZ") return scalarFromJson({ kind: type.kind, precision: 6 }, json) !== value;
  if (type.kind === "TIME") return /\.\d{7,}/.test(String(json));
  return false;
}

/** False only when statistics prove no row can satisfy every predicate. */
export function mayMatch(predicates: readonly Predicate[], stats: (column: Column) => ColumnStats | undefined): boolean {
  return predicates.every((predicate) => {
    const s = stats(predicate.column);
    if (!s) return true;
    if (predicate.op === "is_null") return s.nullCount === undefined || s.nullCount > 0;
    const allNull = s.nullCount !== undefined && s.valueCount !== undefined && s.nullCount >= s.valueCount;
    if (allNull) return false;
    if (predicate.op === "not_null" || predicate.op === "!=") return true;
    const { type } = predicate.column;
    const below = (v: Scalar) => s.min !== undefined && compareScalars(type, v, s.min) < 0;
    const above = (v: Scalar) => s.max !== undefined && compareScalars(type, v, s.max) > 0;
    const v = predicate.values[0]!;
    switch (predicate.op) {
      case "=": return !below(v) && !above(v);
      case "in": return predicate.values.some((value) => !below(value) && !above(value));
      case "<": return s.min === undefined || compareScalars(type, s.min, v) < 0;
      case "<=": return s.min === undefined || compareScalars(type, s.min, v) <= 0;
      case ">": return s.max === undefined || compareScalars(type, s.max, v) > 0;
      case ">=": return s.max === undefined || compareScalars(type, s.max, v) >= 0;
    }
  });
}

/**
 * False only when no row of the partition with `values` (one per partition
 * key, in `keys` order) can satisfy every predicate: a partition holds one
 * value per partition key, so its statistics are exact.
 */
export function partitionMayMatch(predicates: readonly Predicate[], keys: readonly string[], values: readonly string[]): boolean {
  return mayMatch(predicates, (column) => {
    const key = keys.indexOf(column.name);
    return key < 0 ? undefined : { min: values[key]!, max: values[key]!, nullCount: 0, valueCount: 1 };
  });
}
