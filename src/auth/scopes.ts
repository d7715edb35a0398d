/**
 * Scopes: what a token may do. A scope is `admin`, or `read` or `write` on a
 * database (`read:shop`) or on one table of it (`write:shop.events`).
 *
 * Invariants: `admin` grants everything; `write` grants `read` on the same
 * target; a database scope grants the same on every table of that database,
 * a table scope never grants anything on the database itself (dropping a
 * table). Nothing else grants anything. What a token may discover follows
 * from the same scopes: the databases it holds a scope on or in, and there
 * every table (a database scope) or the tables it holds a scope on.
 */
import { FloeError } from "../errors.ts";
import { assertName } from "../table/schema.ts";

type Action = "read" | "write";

/** A database or table scope; `table` is null for the whole database. */
interface DataScope {
  kind: Action;
  database: string;
  table: string | null;
}

export type Scope = { kind: "admin" } | DataScope;

export const adminScope: Scope = { kind: "admin" };

/** Parses `admin`, `read:<db>`, `read:<db>.<table>`, `write:<db>` or `write:<db>.<table>`. */
export function parseScope(text: unknown): Scope {
  if (text === "admin") return adminScope;
  const match = typeof text === "string" ? /^(read|write):([^.]*)(?:\.(.*))?$/.exec(text) : null;
  if (!match) {
    throw FloeError.badRequest(`a scope is admin, read:<db>, read:<db>.<table>, write:<db> or write:<db>.<table>; got ${JSON.stringify(text)}`);
  }
  const [, kind, database, table] = match;
  assertName("scope database", database);
  if (table !== undefined) assertName("scope table", table);
  return { kind: kind as Action, database, table: table ?? null };
}

export function formatScope(scope: Scope): string {
  if (scope.kind === "admin") return "admin";
  return `${scope.kind}:${scope.database}${scope.table === null ? "" : `.${scope.table}`}`;
}

/** Whether `held` grants what `needed` names. */
function grants(held: Scope, needed: Scope): boolean {
  if (held.kind === "admin") return true;
  if (needed.kind === "admin") return false;
  const actionCovered = held.kind === needed.kind || held.kind === "write";
  const targetCovered = held.database === needed.database && (held.table === null || held.table === needed.table);
  return actionCovered && targetCovered;
}

export function grantsAny(held: readonly Scope[], needed: Scope): boolean {
  return held.some((scope) => grants(scope, needed));
}

/** Whether `held` names `database` or a table in it (or is admin): enough to see that the database exists and list what it may read there. */
export function seesDatabase(held: readonly Scope[], database: string): boolean {
  return held.some((scope) => scope.kind === "admin" || scope.database === database);
}

/** The databases `held` names, or "all" for admin. */
export function visibleDatabases(held: readonly Scope[]): "all" | Set<string> {
  if (held.some((scope) => scope.kind === "admin")) return "all";
  return new Set(held.flatMap((scope) => (scope.kind === "admin" ? [] : [scope.database])));
}

/** The tables of `database` that `held` grants something on: all of them (admin or a database scope), or those named. */
export function visibleTables(held: readonly Scope[], database: string): "all" | Set<string> {
  const names = new Set<string>();
  for (const scope of held) {
    if (scope.kind === "admin" || (scope.database === database && scope.table === null)) return "all";
    if (scope.database === database && scope.table !== null) names.add(scope.table);
  }
  return names;
}
