/**
 * Every SQL statement on the catalog's partitions (migration 0009): one row
 * per partition of a partitioned table, named by its spec, with an id never
 * reused.
 */

export interface PartitionRow {
  partitionId: number;
  spec: string;
  createdAtMs: number;
}

const partitionColumns = "partition_id AS partitionId, spec, created_at_ms AS createdAtMs";

/** The partitions of the given specs that exist, in spec order. */
export async function selectPartitionsNamed(db: D1Database, tableId: string, specs: readonly string[]): Promise<PartitionRow[]> {
  const result = await db
    .prepare(`SELECT ${partitionColumns} FROM partitions WHERE table_id = ? AND spec IN (SELECT value FROM json_each(?)) ORDER BY spec`)
    .bind(tableId, JSON.stringify(specs))
    .all<PartitionRow>();
  return result.results;
}

export interface InsertedPartitions {
  /** The partitions of the specs asked for that exist now (created or found), in spec order. */
  rows: PartitionRow[];
  /** How many of them this call created. */
  created: number;
  /** The table's partitions now. */
  count: number;
  tableExists: boolean;
}

/**
 * Creates the partitions of `specs` that do not exist, all or none: none
 * when the table is gone, or when they would take it past `partitionsMax`.
 * One transaction, so concurrent creators of one spec get one partition.
 */
export async function insertPartitions(
  db: D1Database, tableId: string, specs: readonly string[], nowMs: number, partitionsMax: number,
): Promise<InsertedPartitions> {
  const named = JSON.stringify(specs);
  const [inserted, rows, totals] = await db.batch([
    // SQLite reads the SELECT whole before inserting (it reads the table it inserts into), so the count holds for the batch.
    db
      .prepare(
        `INSERT INTO partitions (table_id, spec, created_at_ms)
         SELECT ?1, value, ?2 FROM json_each(?3)
         WHERE EXISTS (SELECT 1 FROM tables WHERE table_id = ?1)
           AND (SELECT COUNT(*) FROM partitions WHERE table_id = ?1)
             + (SELECT COUNT(*) FROM json_each(?3) AS asked
                WHERE NOT EXISTS (SELECT 1 FROM partitions WHERE table_id = ?1 AND spec = asked.value)) <= ?4
         ON CONFLICT (table_id, spec) DO NOTHING`,
      )
      .bind(tableId, nowMs, named, partitionsMax),
    db.prepare(`SELECT ${partitionColumns} FROM partitions WHERE table_id = ? AND spec IN (SELECT value FROM json_each(?)) ORDER BY spec`).bind(tableId, named),
    db
      .prepare("SELECT (SELECT COUNT(*) FROM partitions WHERE table_id = ?1) AS count, EXISTS (SELECT 1 FROM tables WHERE table_id = ?1) AS tableExists")
      .bind(tableId),
  ]);
  const total = totals!.results[0] as { count: number; tableExists: number };
  return { rows: rows!.results as PartitionRow[], created: inserted!.meta.changes, count: total.count, tableExists: total.tableExists === 1 };
}

/** Up to `limit` partitions from `fromSpec` on (inclusive), in spec order. */
export async function selectPartitionsFrom(db: D1Database, tableId: string, fromSpec: string, limit: number): Promise<PartitionRow[]> {
  const result = await db
    .prepare(`SELECT ${partitionColumns} FROM partitions WHERE table_id = ? AND spec >= ? ORDER BY spec LIMIT ?`)
    .bind(tableId, fromSpec, limit)
    .all<PartitionRow>();
  return result.results;
}

export async function countPartitions(db: D1Database, tableId: string): Promise<number> {
  const row = await db.prepare("SELECT COUNT(*) AS count FROM partitions WHERE table_id = ?").bind(tableId).first<{ count: number }>();
  return row!.count;
}

/** Deletes one partition; its id, or null when it does not exist. */
export async function deletePartition(db: D1Database, tableId: string, spec: string): Promise<number | null> {
  const row = await db
    .prepare("DELETE FROM partitions WHERE table_id = ? AND spec = ? RETURNING partition_id AS partitionId")
    .bind(tableId, spec)
    .first<{ partitionId: number }>();
  return row?.partitionId ?? null;
}

/** Deletes every partition of a table, answering their ids: part of the table's drop (`queries.deleteTable`). */
export function deletePartitionsStatement(db: D1Database, tableId: string): D1PreparedStatement {
  return db.prepare("DELETE FROM partitions WHERE table_id = ? RETURNING partition_id AS partitionId").bind(tableId);
}

/**
 * Up to `limit` partitions of a table with an id above `afterId`, in id
 * order (ids only grow, so: those created since), and whether the table
 * still exists; one round trip.
 */
export async function selectPartitionsCreatedAfter(
  db: D1Database, tableId: string, afterId: number, limit: number,
): Promise<{ rows: PartitionRow[]; tableExists: boolean }> {
  const [rows, exists] = await db.batch([
    db.prepare(`SELECT ${partitionColumns} FROM partitions WHERE table_id = ? AND partition_id > ? ORDER BY partition_id LIMIT ?`).bind(tableId, afterId, limit),
    db.prepare("SELECT EXISTS (SELECT 1 FROM tables WHERE table_id = ?) AS tableExists").bind(tableId),
  ]);
  return { rows: rows!.results as PartitionRow[], tableExists: (exists!.results[0] as { tableExists: number }).tableExists === 1 };
}
