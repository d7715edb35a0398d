/**
 * Every SQL statement against the D1 catalog. The schema itself lives in
 * `migrations/` and is applied by wrangler (dev) and the test setup.
 */
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

/** Deletes a database that has no tables; false when it has tables or does not exist. */
export async function deleteEmptyDatabase(db: D1Database, name: string): Promise<boolean> {
  const result = await db
    .prepare("DELETE FROM databases WHERE name = ? AND NOT EXISTS (SELECT 1 FROM tables WHERE database_name = ?)")
    .bind(name, name)
    .run();
  return result.meta.changes === 1;
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

export async function deleteTable(db: D1Database, databaseName: string, tableName: string, tableId: string): Promise<boolean> {
  const result = await db
    .prepare("DELETE FROM tables WHERE database_name = ? AND table_name = ? AND table_id = ?")
    .bind(databaseName, tableName, tableId)
    .run();
  return result.meta.changes === 1;
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

export async function selectTableById(db: D1Database, tableId: string): Promise<TableRow | null> {
  return db.prepare(`SELECT ${tableColumns} FROM tables WHERE table_id = ?`).bind(tableId).first<TableRow>();
}

export interface TieringErrorRow {
  tableId: string;
  message: string;
  failedAtMs: number;
}

export async function selectTieringErrors(db: D1Database): Promise<TieringErrorRow[]> {
  const result = await db
    .prepare("SELECT table_id AS tableId, message, failed_at_ms AS failedAtMs FROM tiering_errors")
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
