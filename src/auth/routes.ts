/**
 * The scope each route needs, decided from the method and path alone, before
 * any handler or catalog lookup runs, so a refusal reveals nothing about
 * which databases or tables exist.
 *
 * Invariant: a request that matches no rule here needs `admin`. A new route
 * stays closed to scoped tokens until a rule opens it.
 */
import type { Scope } from "./scopes.ts";
import { adminScope } from "./scopes.ts";
import { tableOfLakeName } from "../vocabulary.ts";

/** What a request needs: nothing (open), or a scope some held scope must grant. */
export type Need = { kind: "open" } | Scope;

/** The path parameters a rule captures (`:view` is captured but needs no name of its own). */
type Names = Record<"db" | "table", string>;

const read = (database: string, table: string | null = null): Need => ({ kind: "read", database, table });
const write = (database: string, table: string | null = null): Need => ({ kind: "write", database, table });

// `:name` captures one path segment; every other segment must match exactly.
const rules: [method: string, pattern: string, need: (names: Names) => Need][] = [
  ["GET", "/v1/health", () => ({ kind: "open" })],
  ["GET", "/v1/databases/:db/tables", ({ db }) => read(db)],
  // A table's writer may create it (so "make sure the table exists" at start-up works),
  // but dropping a table and all its data takes write on the whole database.
  ["PUT", "/v1/databases/:db/tables/:table", ({ db, table }) => write(db, table)],
  ["DELETE", "/v1/databases/:db/tables/:table", ({ db }) => write(db)],
  ["GET", "/v1/databases/:db/tables/:table", ({ db, table }) => read(db, table)],
  ["POST", "/v1/databases/:db/tables/:table/rows", ({ db, table }) => write(db, table)],
  // A lookup carries its keys in a body, so it is a POST, but it only reads.
  ["POST", "/v1/databases/:db/tables/:table/lookup", ({ db, table }) => read(db, table)],
  ["GET", "/v1/databases/:db/tables/:table/log", ({ db, table }) => read(db, table)],
  // `{table}$lake` is the same table read from its lake, so it needs the same scope.
  ["GET", "/v1/databases/:db/tables/:table/scan", ({ db, table }) => read(db, withoutLakeSuffix(table))],
  // Checked at upgrade time.
  ["GET", "/v1/databases/:db/tables/:table/subscribe", ({ db, table }) => read(db, table)],
  ["GET", "/v1/databases/:db/tables/:table/snapshots", ({ db, table }) => read(db, table)],
  // Named although admin is the default: metrics show every table's activity, so no data scope may ever open them.
  ["GET", "/v1/metrics", () => adminScope],
];

const compiled = rules.map(([method, pattern, need]) => ({ method, segments: pattern.split("/").slice(1), need }));

/** The need of a request; `pathname` as in `URL.pathname` (still percent-encoded). */
export function requiredScope(method: string, pathname: string): Need {
  // Hono answers HEAD with the GET route.
  const routeMethod = method === "HEAD" ? "GET" : method;
  const segments = pathname.split("/").slice(1).map(decodeSegment);
  for (const rule of compiled) {
    if (rule.method !== routeMethod || rule.segments.length !== segments.length) continue;
    const names = matchSegments(rule.segments, segments);
    if (names) return rule.need(names);
  }
  return adminScope;
}

function matchSegments(pattern: readonly string[], segments: readonly (string | null)[]): Names | null {
  const names: Record<string, string> = {};
  for (let i = 0; i < pattern.length; i++) {
    const expected = pattern[i]!;
    const actual = segments[i];
    if (actual === null || actual === undefined) return null;
    if (expected.startsWith(":")) names[expected.slice(1)] = actual;
    else if (expected !== actual) return null;
  }
  return names as Names;
}

function withoutLakeSuffix(table: string): string {
  return tableOfLakeName(table) ?? table;
}

/** Decoded as the router decodes path parameters, so the scope names what the handler will touch; null if malformed. */
function decodeSegment(segment: string): string | null {
  try {
    return decodeURIComponent(segment);
  } catch {
    return null;
  }
}
