/**
 * Every SQL statement against the D1 catalog but the partitions'
 * (`partition-queries.ts`). The schema itself lives in `migrations/` and is
 * applied by wrangler (dev) and the test setup.
 *
 * A drop (of a database, a Floe table, an external Iceberg table, or a
 * rename away from a name) ends the token grants on what it dropped in the
 * same transaction (`endGrantsStatement`, which `auth/queries.ts` owns with
 * the rest of the tokens' SQL), so nothing re-created under the name is
 * reached by them.
 */
import { endGrantsStatement } from "../auth/queries.ts";
import { deletePartitionsStatement } from "./partition-queries.ts";

export interface DatabaseRow {
  name: string;
  createdAtMs: number;
}

export interface TableRow {
  databaseName: string;
  tableName: string;
  tableId: string;
  definition: string;
  createdAtMs: number;
}

const tableColumns = `database_name AS databaseName, table_name AS tableName, table_id AS tableId,
  definition, created_at_ms AS createdAtMs`;

export async function insertDatabase(db: D1Database, name: string, nowMs: number): Promise<boolean> {
  const result = await db
    .prepare("INSERT INTO databases (name, created_at_ms) VALUES (?, ?) ON CONFLICT (name) DO NOTHING")
    .bind(name, nowMs)
    .run();
  return result.meta.changes === 1;
}

export async function selectDatabase(db: D1Database, name: string): Promise<DatabaseRow | null> {
  return db.prepare("SELECT name, created_at_ms AS createdAtMs FROM databases WHERE name = ?").bind(name).first<DatabaseRow>();
}

export async function selectDatabases(db: D1Database): Promise<DatabaseRow[]> {
  const result = await db.prepare("SELECT name, created_at_ms AS createdAtMs FROM databases ORDER BY name").all<DatabaseRow>();
  return result.results;
}

/** The databases of the given names that exist, in name order. */
export async function selectDatabasesNamed(db: D1Database, names: readonly string[]): Promise<DatabaseRow[]> {
  const result = await db
    .prepare("SELECT name, created_at_ms AS createdAtMs FROM databases WHERE name IN (SELECT value FROM json_each(?)) ORDER BY name")
    .bind(JSON.stringify(names))
    .all<DatabaseRow>();
  return result.results;
}

/** Deletes a database that has no tables, and the grants on it; false when it has tables or does not exist. */
export async function deleteEmptyDatabase(db: D1Database, name: string): Promise<boolean> {
  return deleteDatabaseWhere(db, name, "NOT EXISTS (SELECT 1 FROM tables WHERE database_name = ?)", [name]);
}

/**
 * Deletes the current incarnation of a database where `condition` holds, and with it every grant on the
 * database: the grants end only if that incarnation is gone afterwards (dropped now, or by a racing drop).
 */
async function deleteDatabaseWhere(db: D1Database, name: string, condition: string, values: unknown[]): Promise<boolean> {
  const incarnation = await selectDatabase(db, name);
  if (!incarnation) return false;
  const [deleted] = await db.batch([
    db.prepare(`DELETE FROM databases WHERE name = ? AND created_at_ms = ? AND ${condition}`).bind(name, incarnation.createdAtMs, ...values),
    endGrantsStatement(db, { database: name, table: null }, "NOT EXISTS (SELECT 1 FROM databases WHERE name = ? AND created_at_ms = ?)", name, incarnation.createdAtMs),
  ]);
  return deleted!.meta.changes === 1;
}

export async function insertTable(db: D1Database, row: TableRow): Promise<boolean> {
  const result = await db
    .prepare(
      `INSERT INTO tables (database_name, table_name, table_id, definition, created_at_ms)
       SELECT ?, ?, ?, ?, ? WHERE EXISTS (SELECT 1 FROM databases WHERE name = ?)
       ON CONFLICT (database_name, table_name) DO NOTHING`,
    )
    .bind(row.databaseName, row.tableName, row.tableId, row.definition, row.createdAtMs, row.databaseName)
    .run();
  return result.meta.changes === 1;
}

export async function selectTable(db: D1Database, databaseName: string, tableName: string): Promise<TableRow | null> {
  return db
    .prepare(`SELECT ${tableColumns} FROM tables WHERE database_name = ? AND table_name = ?`)
    .bind(databaseName, tableName)
    .first<TableRow>();
}

export async function selectTables(db: D1Database, databaseName: string): Promise<TableRow[]> {
  const result = await db
    .prepare(`SELECT ${tableColumns} FROM tables WHERE database_name = ? ORDER BY table_name`)
    .bind(databaseName)
    .all<TableRow>();
  return result.results;
}

/**
 * Deletes a table with its partitions, and the grants on it once no table has its id (table ids are never
 * reused); null when it was not there, else the ids of the partitions deleted with it.
 */
export async function deleteTable(db: D1Database, databaseName: string, tableName: string, tableId: string): Promise<number[] | null> {
  const [deleted, partitions] = await db.batch([
    db.prepare("DELETE FROM tables WHERE database_name = ? AND table_name = ? AND table_id = ?").bind(databaseName, tableName, tableId),
    deletePartitionsStatement(db, tableId),
    endGrantsStatement(db, { database: databaseName, table: tableName }, "NOT EXISTS (SELECT 1 FROM tables WHERE table_id = ?)", tableId),
  ]);
  if (deleted!.meta.changes !== 1) return null;
  return (partitions!.results as { partitionId: number }[]).map((row) => row.partitionId);
}

export interface LakeRow {
  tableId: string;
  metadataLocation: string;
  version: number;
  bucketOffsets: string;
  updatedAtMs: number;
  /** Null for a row committed before migration 0005. */
  snapshotId: number | null;
}

export async function selectLake(db: D1Database, tableId: string): Promise<LakeRow | null> {
  return db
    .prepare(
      `SELECT table_id AS tableId, metadata_location AS metadataLocation, version,
              bucket_offsets AS bucketOffsets, updated_at_ms AS updatedAtMs, snapshot_id AS snapshotId
       FROM lake_tables WHERE table_id = ?`,
    )
    .bind(tableId)
    .first<LakeRow>();
}

/** Compare-and-swap of a table's lake state: applies only if the stored version is `expectedVersion` (0: none yet). */
export async function swapLake(db: D1Database, row: LakeRow, expectedVersion: number): Promise<boolean> {
  const statement =
    expectedVersion === 0
      ? db
          .prepare(
            `INSERT INTO lake_tables (table_id, metadata_location, version, bucket_offsets, updated_at_ms, snapshot_id)
             VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (table_id) DO NOTHING`,
          )
          .bind(row.tableId, row.metadataLocation, row.version, row.bucketOffsets, row.updatedAtMs, row.snapshotId)
      : db
          .prepare(
            `UPDATE lake_tables SET metadata_location = ?, version = ?, bucket_offsets = ?, updated_at_ms = ?, snapshot_id = ?
             WHERE table_id = ? AND version = ?`,
          )
          .bind(row.metadataLocation, row.version, row.bucketOffsets, row.updatedAtMs, row.snapshotId, row.tableId, expectedVersion);
  return (await statement.run()).meta.changes === 1;
}

/** Every table of every database (for the tiering pass). */
export async function selectAllTables(db: D1Database): Promise<TableRow[]> {
  const result = await db.prepare(`SELECT ${tableColumns} FROM tables ORDER BY database_name, table_name`).all<TableRow>();
  return result.results;
}

/**
 * Up to `limit` tables from `(fromDatabase, fromTable)` on (inclusive), in database and name order,
 * of one database or (with `database` null) of all.
 */
export async function selectTablesFrom(
  db: D1Database,
  database: string | null,
  from: { database: string; table: string },
  limit: number,
): Promise<TableRow[]> {
  const result = await db
    .prepare(
      `SELECT ${tableColumns} FROM tables
       WHERE (database_name, table_name) >= (?, ?) AND (?3 IS NULL OR database_name = ?3)
       ORDER BY database_name, table_name LIMIT ?`,
    )
    .bind(from.database, from.table, database, limit)
    .all<TableRow>();
  return result.results;
}

export async function selectTableById(db: D1Database, tableId: string): Promise<TableRow | null> {
  return db.prepare(`SELECT ${tableColumns} FROM tables WHERE table_id = ?`).bind(tableId).first<TableRow>();
}

export interface TieringErrorRow {
  tableId: string;
  message: string;
  failedAtMs: number;
}

/** The errors on record of the given tables. */
export async function selectTieringErrorsOf(db: D1Database, tableIds: readonly string[]): Promise<TieringErrorRow[]> {
  const result = await db
    .prepare("SELECT table_id AS tableId, message, failed_at_ms AS failedAtMs FROM tiering_errors WHERE table_id IN (SELECT value FROM json_each(?))")
    .bind(JSON.stringify(tableIds))
    .all<TieringErrorRow>();
  return result.results;
}

/** Keeps only a table's latest error. */
export async function upsertTieringError(db: D1Database, row: TieringErrorRow): Promise<void> {
  await db
    .prepare(
      `INSERT INTO tiering_errors (table_id, message, failed_at_ms) VALUES (?, ?, ?)
       ON CONFLICT (table_id) DO UPDATE SET message = excluded.message, failed_at_ms = excluded.failed_at_ms`,
    )
    .bind(row.tableId, row.message, row.failedAtMs)
    .run();
}

export async function deleteTieringError(db: D1Database, tableId: string): Promise<void> {
  await db.prepare("DELETE FROM tiering_errors WHERE table_id = ?").bind(tableId).run();
}

// The Iceberg REST catalog (migration 0007): namespace properties and external Iceberg tables, each row of one
// incarnation of its database (its name and created_at_ms), and the names of tables with a lake, listed in pages.

/** The current incarnation of the row's database: rows of a dropped (or dropped and re-created) database fail it. */
const liveDatabase = "database_created_at_ms = (SELECT created_at_ms FROM databases WHERE name = database_name)";

/** One page of database names after `afterName` (exclusive; "" for the first page), in name order; -1: no limit. */
export async function selectDatabaseNamesPage(db: D1Database, afterName: string, limit: number): Promise<string[]> {
  const result = await db
    .prepare("SELECT name FROM databases WHERE name > ? ORDER BY name LIMIT ?")
    .bind(afterName, limit)
    .all<{ name: string }>();
  return result.results.map((row) => row.name);
}

/** Deletes a database that has neither Floe tables nor Iceberg tables, and the grants on it; false otherwise or when it does not exist. */
export async function deleteEmptyNamespace(db: D1Database, name: string): Promise<boolean> {
  return deleteDatabaseWhere(
    db,
    name,
    `NOT EXISTS (SELECT 1 FROM tables WHERE database_name = ?)
     AND NOT EXISTS (SELECT 1 FROM iceberg_tables WHERE database_name = ? AND ${liveDatabase})`,
    [name, name],
  );
}

export async function selectNamespaceProperties(db: D1Database, databaseName: string): Promise<Record<string, string>> {
  const result = await db
    .prepare(`SELECT key, value FROM iceberg_namespace_properties WHERE database_name = ? AND ${liveDatabase} ORDER BY key`)
    .bind(databaseName)
    .all<{ key: string; value: string }>();
  return Object.fromEntries(result.results.map((row) => [row.key, row.value]));
}

/** Sets and removes namespace properties in one transaction; a database that does not exist gets none. */
export async function updateNamespaceProperties(
  db: D1Database,
  databaseName: string,
  updates: Record<string, string>,
  removals: readonly string[],
): Promise<void> {
  const statements = [
    ...Object.entries(updates).map(([key, value]) =>
      db
        .prepare(
          `INSERT INTO iceberg_namespace_properties (database_name, database_created_at_ms, key, value)
           SELECT name, created_at_ms, ?, ? FROM databases WHERE name = ?
           ON CONFLICT (database_name, database_created_at_ms, key) DO UPDATE SET value = excluded.value`,
        )
        .bind(key, value, databaseName),
    ),
    ...removals.map((key) =>
      db.prepare(`DELETE FROM iceberg_namespace_properties WHERE database_name = ? AND key = ? AND ${liveDatabase}`).bind(databaseName, key),
    ),
  ];
  if (statements.length > 0) await db.batch(statements);
}

export interface IcebergTableRow {
  databaseName: string;
  tableName: string;
  metadataLocation: string;
  version: number;
}

export async function selectIcebergTable(db: D1Database, databaseName: string, tableName: string): Promise<IcebergTableRow | null> {
  return db
    .prepare(
      `SELECT database_name AS databaseName, table_name AS tableName, metadata_location AS metadataLocation, version
       FROM iceberg_tables WHERE database_name = ? AND table_name = ? AND ${liveDatabase}`,
    )
    .bind(databaseName, tableName)
    .first<IcebergTableRow>();
}

/**
 * One page of the names the Iceberg catalog lists in a database, after `afterName`: Floe tables that
 * have tiered (they have a lake row) and Iceberg tables. A name held by both lists once.
 */
export async function selectIcebergTableNamesPage(db: D1Database, databaseName: string, afterName: string, limit: number): Promise<string[]> {
  const result = await db
    .prepare(
      `SELECT t.table_name AS name FROM tables t JOIN lake_tables l ON l.table_id = t.table_id
         WHERE t.database_name = ? AND t.table_name > ?
       UNION
       SELECT table_name AS name FROM iceberg_tables WHERE database_name = ? AND table_name > ? AND ${liveDatabase}
       ORDER BY name LIMIT ?`,
    )
    .bind(databaseName, afterName, databaseName, afterName, limit)
    .all<{ name: string }>();
  return result.results.map((row) => row.name);
}

/**
 * Statements of an Iceberg commit, run together by `runIcebergSwaps`. A create takes the name only if the
 * database exists and has no Floe table or Iceberg table of that name; an update or drop only if the version
 * is still the expected one; a rename only if the target name is free in the same sense.
 */
export type IcebergSwap =
  | { kind: "create"; databaseName: string; tableName: string; metadataLocation: string }
  | { kind: "update"; databaseName: string; tableName: string; metadataLocation: string; expectedVersion: number }
  | { kind: "drop"; databaseName: string; tableName: string; expectedVersion: number }
  | { kind: "rename"; databaseName: string; tableName: string; expectedVersion: number; toDatabase: string; toTable: string };

const nameFree = `NOT EXISTS (SELECT 1 FROM tables WHERE database_name = ?1 AND table_name = ?2)
  AND NOT EXISTS (SELECT 1 FROM iceberg_tables WHERE database_name = ?1 AND table_name = ?2 AND ${liveDatabase})`;

function swapStatement(db: D1Database, swap: IcebergSwap, nowMs: number): D1PreparedStatement {
  const current = `database_name = ?3 AND table_name = ?4 AND version = ?5 AND ${liveDatabase}`;
  switch (swap.kind) {
    case "create":
      return db
        .prepare(
          `INSERT INTO iceberg_tables (database_name, database_created_at_ms, table_name, metadata_location, version, created_at_ms, updated_at_ms)
           SELECT name, created_at_ms, ?2, ?3, 1, ?4, ?4 FROM databases WHERE name = ?1 AND ${nameFree}
           ON CONFLICT (database_name, database_created_at_ms, table_name) DO NOTHING`,
        )
        .bind(swap.databaseName, swap.tableName, swap.metadataLocation, nowMs);
    case "update":
      return db
        .prepare(`UPDATE iceberg_tables SET metadata_location = ?1, version = version + 1, updated_at_ms = ?2 WHERE ${current}`)
        .bind(swap.metadataLocation, nowMs, swap.databaseName, swap.tableName, swap.expectedVersion);
    case "drop":
      return db
        .prepare(`DELETE FROM iceberg_tables WHERE database_name = ?1 AND table_name = ?2 AND version = ?3 AND ${liveDatabase}`)
        .bind(swap.databaseName, swap.tableName, swap.expectedVersion);
    case "rename":
      return db
        .prepare(
          `UPDATE iceberg_tables SET database_name = ?1, table_name = ?2, version = version + 1, updated_at_ms = ?6,
             database_created_at_ms = (SELECT created_at_ms FROM databases WHERE name = ?1)
           WHERE ${current} AND EXISTS (SELECT 1 FROM databases WHERE name = ?1) AND ${nameFree}`,
        )
        .bind(swap.toDatabase, swap.toTable, swap.databaseName, swap.tableName, swap.expectedVersion, nowMs);
  }
}

/**
 * Runs the swaps as one transaction: all of them take, or none does (the guard row's CHECK fails the
 * batch when any swap changed no row, and D1 rolls a failed batch back). True when they took.
 */
export async function runIcebergSwaps(db: D1Database, swaps: readonly IcebergSwap[], nowMs: number): Promise<boolean> {
  const statements = swaps.flatMap((swap) => [
    swapStatement(db, swap, nowMs),
    // changes() is the row count of the statement just before, so each swap is checked right after it.
    db.prepare(
      `INSERT INTO iceberg_commit_guard (id, all_swapped) VALUES (1, changes() = 1)
       ON CONFLICT (id) DO UPDATE SET all_swapped = excluded.all_swapped`,
    ),
  ]);
  // A table dropped or renamed away takes the grants on its name with it (in the batch, so only if every swap takes).
  for (const swap of swaps) {
    if (swap.kind === "drop" || swap.kind === "rename") {
      statements.push(endGrantsStatement(db, { database: swap.databaseName, table: swap.tableName }));
    }
  }
  try {
    await db.batch(statements);
    return true;
  } catch (error) {
    if (/CHECK constraint failed.*all_swapped/.test(String(error))) return false;
    throw error;
  }
}
