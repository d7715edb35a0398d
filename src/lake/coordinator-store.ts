/**
 * The table coordinator's SQLite (the `LakeScheduler` of one table): the
 * round it has open and the lake objects it still has to delete.
 *
 * Invariants: a round is recorded open, with the Tablets whose writers it
 * asked and the R2 keys of the metadata files it writes, before any of them
 * is written; it is closed only once every writer was told whether it
 * committed. An object a commit stops referencing is recorded before the
 * commit, as due only if it commits, and stays recorded until R2 deleted
 * it, so a failed delete is retried by the next round.
 */
const migrations: readonly string[] = [
  // 1: the table this coordinator serves, the open round, the deletions due.
  `CREATE TABLE coordinator_table (
     singleton INTEGER PRIMARY KEY CHECK (singleton = 1),
     table_id TEXT NOT NULL
   );
   CREATE TABLE open_round (
     singleton INTEGER PRIMARY KEY CHECK (singleton = 1),
     round_id INTEGER NOT NULL,
     buckets TEXT NOT NULL,
     written TEXT NOT NULL
   );
   CREATE TABLE pending_delete (
     key TEXT PRIMARY KEY,
     if_round INTEGER
   );`,
  // 2: when the table's lake was last swept for orphans.
  `CREATE TABLE orphan_sweep (
     singleton INTEGER PRIMARY KEY CHECK (singleton = 1),
     swept_at_ms INTEGER NOT NULL
   );`,
];

export function migrate(sql: SqlStorage): void {
  sql.exec("CREATE TABLE IF NOT EXISTS coordinator_migration (version INTEGER PRIMARY KEY)");
  const applied = sql.exec<{ version: number | null }>("SELECT max(version) AS version FROM coordinator_migration").one();
  for (let version = (applied.version ?? 0) + 1; version <= migrations.length; version++) {
    sql.exec(migrations[version - 1]!);
    sql.exec("INSERT INTO coordinator_migration (version) VALUES (?)", version);
  }
}

export function tableId(sql: SqlStorage): string | undefined {
  return sql.exec<{ tableId: string }>("SELECT table_id AS tableId FROM coordinator_table").toArray()[0]?.tableId;
}

export function setTableId(sql: SqlStorage, id: string): void {
  sql.exec("INSERT INTO coordinator_table (singleton, table_id) VALUES (1, ?) ON CONFLICT (singleton) DO UPDATE SET table_id = excluded.table_id", id);
}

export interface OpenRound {
  roundId: number;
  /** The Tablets (by `tabletOffsetKey`) whose writers may hold a prepared round under this id. */
  tablets: string[];
  /** R2 keys of the manifests, manifest list and metadata the round writes. */
  written: string[];
}

export function openRound(sql: SqlStorage): OpenRound | undefined {
  const row = sql.exec<{ roundId: number; buckets: string; written: string }>("SELECT round_id AS roundId, buckets, written FROM open_round").toArray()[0];
  // Rounds opened before partitions were tiered name their buckets as numbers: the same keys.
  return row && { roundId: row.roundId, tablets: (JSON.parse(row.buckets) as (number | string)[]).map(String), written: JSON.parse(row.written) as string[] };
}

export function recordRound(sql: SqlStorage, round: OpenRound): void {
  sql.exec(
    `INSERT INTO open_round (singleton, round_id, buckets, written) VALUES (1, ?, ?, ?)
     ON CONFLICT (singleton) DO UPDATE SET round_id = excluded.round_id, buckets = excluded.buckets, written = excluded.written`,
    round.roundId,
    JSON.stringify(round.tablets),
    JSON.stringify(round.written),
  );
}

export function closeRound(sql: SqlStorage): void {
  sql.exec("DELETE FROM open_round");
}

export function lastSweepMs(sql: SqlStorage): number {
  return sql.exec<{ at: number }>("SELECT swept_at_ms AS at FROM orphan_sweep").toArray()[0]?.at ?? 0;
}

export function recordSweep(sql: SqlStorage, nowMs: number): void {
  sql.exec("INSERT INTO orphan_sweep (singleton, swept_at_ms) VALUES (1, ?) ON CONFLICT (singleton) DO UPDATE SET swept_at_ms = excluded.swept_at_ms", nowMs);
}

/** Keys to delete once round `ifRound` is known to have committed (the objects its snapshot stops referencing). */
export function addObsolete(sql: SqlStorage, ifRound: number, keys: readonly string[]): void {
  for (const key of keys) sql.exec("INSERT INTO pending_delete (key, if_round) VALUES (?, ?) ON CONFLICT (key) DO NOTHING", key, ifRound);
}

/** The round committed: what it made obsolete is due for deletion; or it did not: nothing of it is. */
export function resolveObsolete(sql: SqlStorage, roundId: number, committed: boolean): void {
  if (committed) sql.exec("UPDATE pending_delete SET if_round = NULL WHERE if_round = ?", roundId);
  else sql.exec("DELETE FROM pending_delete WHERE if_round = ?", roundId);
}

/** Keys due for deletion. */
export function pendingDeletes(sql: SqlStorage, limit: number): string[] {
  return sql.exec<{ key: string }>("SELECT key FROM pending_delete WHERE if_round IS NULL LIMIT ?", limit).toArray().map((r) => r.key);
}

export function removePendingDeletes(sql: SqlStorage, keys: readonly string[]): void {
  for (const key of keys) sql.exec("DELETE FROM pending_delete WHERE key = ?", key);
}
