/**
 * The catalog: databases and tables, kept in D1.
 *
 * Invariants: a table name maps to at most one table id at a time and a
 * table id is never reused, so Tablets of a dropped table are never visible
 * under a re-created one; creating a table is idempotent (same definition:
 * no change) and never replaces a different definition. Dropping a database
 * or table ends every token grant on it in the same transaction, so one
 * re-created under the name is not reached by them.
 */
import { FloeError } from "../errors.ts";
import { forgetKnownTokens } from "../auth/tokens.ts";
import type { TableDefinition, TableDefinitionJson } from "../table/schema.ts";
import { definitionFromJson, definitionToJson, sameDefinition } from "../table/schema.ts";
import * as queries from "./queries.ts";

export interface TableEntry {
  database: string;
  name: string;
  tableId: string;
  definition: TableDefinition;
  createdAtMs: number;
}

/**
 * The error a catalog failure means for a client, when it means one: D1
 * names a missing table when the catalog's migrations were never applied.
 * (D1 says so only in its message; this is the one place that reads it.)
 */
export function catalogFailure(error: unknown): FloeError | undefined {
  if (!String(error).includes("D1_ERROR: no such table")) return undefined;
  return new FloeError("unavailable", "the catalog database has no schema yet: run `npx wrangler d1 migrations apply CATALOG` (npm start does it)");
}

export async function createDatabase(db: D1Database, name: string): Promise<{ created: boolean }> {
  return { created: await queries.insertDatabase(db, name, Date.now()) };
}

/** Every database, or those of the given names that exist. */
export async function listDatabases(db: D1Database, names: "all" | ReadonlySet<string> = "all"): Promise<queries.DatabaseRow[]> {
  if (names === "all") return queries.selectDatabases(db);
  return names.size === 0 ? [] : queries.selectDatabasesNamed(db, [...names]);
}

export async function dropDatabase(db: D1Database, name: string): Promise<void> {
  if (await queries.deleteEmptyDatabase(db, name)) return forgetKnownTokens();
  await requireDatabase(db, name);
  throw FloeError.conflict(`database '${name}' still has tables; drop them first`);
}

export async function requireDatabase(db: D1Database, name: string): Promise<void> {
  if (!(await queries.selectDatabase(db, name))) throw FloeError.notFound(`database '${name}' does not exist`);
}

export async function createTable(
  db: D1Database,
  database: string,
  name: string,
  definition: TableDefinition,
): Promise<{ created: boolean; table: TableEntry }> {
  const row: queries.TableRow = {
    databaseName: database,
    tableName: name,
    tableId: crypto.randomUUID(),
    definition: JSON.stringify(definitionToJson(definition)),
    createdAtMs: Date.now(),
  };
  if (await queries.insertTable(db, row)) return { created: true, table: entryFromRow(row) };
  const existing = await findTable(db, database, name);
  if (!existing) {
    await requireDatabase(db, database);
    throw FloeError.conflict(`table '${database}.${name}' changed concurrently; retry`);
  }
  if (!sameDefinition(existing.definition, definition)) {
    throw FloeError.conflict(`table '${database}.${name}' already exists with a different definition`);
  }
  return { created: false, table: existing };
}

export async function findTable(db: D1Database, database: string, name: string): Promise<TableEntry | null> {
  const row = await queries.selectTable(db, database, name);
  return row ? entryFromRow(row) : null;
}

export async function getTable(db: D1Database, database: string, name: string): Promise<TableEntry> {
  const table = await findTable(db, database, name);
  if (table) return table;
  await requireDatabase(db, database);
  throw FloeError.notFound(`table '${database}.${name}' does not exist`);
}

export async function listTables(db: D1Database, database: string): Promise<TableEntry[]> {
  await requireDatabase(db, database);
  return (await queries.selectTables(db, database)).map(entryFromRow);
}

/** The live table with this id, or null once it is dropped. */
export async function getTableById(db: D1Database, tableId: string): Promise<TableEntry | null> {
  const row = await queries.selectTableById(db, tableId);
  return row ? entryFromRow(row) : null;
}

/** Every table of every database, ordered by database and name. */
export async function listAllTables(db: D1Database): Promise<TableEntry[]> {
  return (await queries.selectAllTables(db)).map(entryFromRow);
}

/**
 * Up to `limit` tables from the table `from` names on (inclusive; from the first when null), in
 * database and name order, of one database (404 when it does not exist) or of all.
 */
export async function listTablesFrom(
  db: D1Database,
  database: string | null,
  from: { database: string; table: string } | null,
  limit: number,
): Promise<TableEntry[]> {
  if (database !== null) await requireDatabase(db, database);
  return (await queries.selectTablesFrom(db, database, from ?? { database: "", table: "" }, limit)).map(entryFromRow);
}

/** Removes a table and its partitions from the catalog and returns what they were, so their Tablets can be dropped. */
export async function dropTable(db: D1Database, database: string, name: string): Promise<{ table: TableEntry; partitionIds: number[] }> {
  const table = await getTable(db, database, name);
  const partitionIds = await queries.deleteTable(db, database, name, table.tableId);
  if (partitionIds === null) throw FloeError.conflict(`table '${database}.${name}' changed concurrently; retry`);
  forgetKnownTokens();
  return { table, partitionIds };
}

function entryFromRow(row: queries.TableRow): TableEntry {
  return {
    database: row.databaseName,
    name: row.tableName,
    tableId: row.tableId,
    definition: definitionFromJson(JSON.parse(row.definition) as TableDefinitionJson),
    createdAtMs: row.createdAtMs,
  };
}
