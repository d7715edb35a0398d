/** Path and query parameters, parsed with clear errors. */
import type { Context } from "hono";
import type { TableEntry } from "../catalog/catalog.ts";
import { withTable } from "../catalog/cache.ts";
import { FloeError } from "../errors.ts";
import { assertName } from "../table/schema.ts";
import type { WriterSeq } from "../tablet/contract.ts";
import { headers, requestLimits } from "../vocabulary.ts";

export function nameParam(what: "database" | "table", value: string | undefined): string {
  assertName(what, value);
  return value;
}

/** Runs `use` with the table the `{db}` and `{table}` path parameters name (a 404 when there is none). */
export function withTableParam<T>(c: Context<{ Bindings: Env }>, use: (table: TableEntry) => Promise<T>): Promise<T> {
  return withTable(c.env.CATALOG, nameParam("database", c.req.param("db")), nameParam("table", c.req.param("table")), use);
}

/** A non-negative integer query parameter, or `fallback` when absent. */
export function integerParam(name: string, value: string | undefined, fallback?: number): number {
  if (value === undefined || value === "") {
    if (fallback === undefined) throw FloeError.badRequest(`query parameter '${name}' is required`);
    return fallback;
  }
  if (!/^\d{1,16}$/.test(value) || !Number.isSafeInteger(Number(value))) {
    throw FloeError.badRequest(`query parameter '${name}' must be a non-negative integer, got '${value}'`);
  }
  return Number(value);
}

/** A comma-separated list of column names, or undefined when absent. */
export function columnsParam(value: string | undefined): string[] | undefined {
  if (value === undefined || value.trim() === "") return undefined;
  return value.split(",").map((name) => name.trim());
}

export function enumParam<T extends string>(name: string, value: string | undefined, allowed: readonly T[], fallback: T): T {
  if (value === undefined || value === "") return fallback;
  if (!allowed.includes(value as T)) {
    throw FloeError.badRequest(`query parameter '${name}' must be one of ${allowed.join(", ")}, got '${value}'`);
  }
  return value as T;
}

/** The idempotent-writer headers: both or neither. */
export function writerParam(request: Request): WriterSeq | undefined {
  const id = request.headers.get(headers.writerId);
  const seq = request.headers.get(headers.writerSeq);
  if (id === null && seq === null) return undefined;
  if (id === null || seq === null) {
    throw FloeError.badRequest(`send both ${headers.writerId} and ${headers.writerSeq}, or neither`);
  }
  if (id.length === 0 || id.length > requestLimits.writerIdLengthMax) {
    throw FloeError.badRequest(`${headers.writerId} must be 1..${requestLimits.writerIdLengthMax} characters`);
  }
  if (!/^\d{1,16}$/.test(seq) || !Number.isSafeInteger(Number(seq))) {
    throw FloeError.badRequest(`${headers.writerSeq} must be a non-negative integer, got '${seq}'`);
  }
  return { id, seq: Number(seq) };
}
