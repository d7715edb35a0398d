/**
 * The Tablet's SQLite schema, as numbered migrations applied in order when
 * the object starts. A migration never changes once released: add a new one.
 */
const migrations: readonly string[] = [
  // 1: the log (Arrow IPC record batches keyed by their first offset), the
  // schemas those batches use, offsets and writer sequences.
  `CREATE TABLE log_schema (
     schema_id INTEGER PRIMARY KEY,
     ipc_schema BLOB NOT NULL
   );
   CREATE TABLE log_batch (
     base_offset INTEGER PRIMARY KEY,
     record_count INTEGER NOT NULL,
     commit_ms INTEGER NOT NULL,
     schema_id INTEGER NOT NULL REFERENCES log_schema (schema_id),
     ipc_batch BLOB NOT NULL
   );
   CREATE INDEX log_batch_by_commit ON log_batch (commit_ms);
   CREATE TABLE tablet_offsets (
     singleton INTEGER PRIMARY KEY CHECK (singleton = 1),
     log_start_offset INTEGER NOT NULL,
     high_watermark INTEGER NOT NULL,
     last_commit_ms INTEGER NOT NULL
   );
   INSERT INTO tablet_offsets VALUES (1, 0, 0, 0);
   CREATE TABLE writer_batch (
     writer_id TEXT NOT NULL,
     seq INTEGER NOT NULL,
     base_offset INTEGER NOT NULL,
     record_count INTEGER NOT NULL,
     commit_ms INTEGER NOT NULL,
     PRIMARY KEY (writer_id, seq)
   );
   CREATE INDEX writer_batch_by_commit ON writer_batch (commit_ms);`,
  // 2: the current row per primary key (primary-key tables), keyed by the
  // order-preserving key encoding of table/keys.ts, the row a JSON array.
  `CREATE TABLE kv (
     key BLOB PRIMARY KEY,
     row TEXT NOT NULL
   ) WITHOUT ROWID;`,
  // 3: a dropped Tablet's tombstone, so a Worker holding a cached catalog
  // entry learns the table is gone instead of writing into it.
  `CREATE TABLE tablet_tombstone (
     singleton INTEGER PRIMARY KEY CHECK (singleton = 1),
     dropped_at_ms INTEGER NOT NULL
   );`,
  // 4: how far the lake holds this bucket; log data is dropped only below it.
  `ALTER TABLE tablet_offsets ADD COLUMN tiered_offset INTEGER NOT NULL DEFAULT 0;`,
  // 5: usage counters for GET /v1/metrics, stored beside what they count so
  // they survive restarts; a Tablet older than this migration counts from it.
  `CREATE TABLE tablet_counters (
     singleton INTEGER PRIMARY KEY CHECK (singleton = 1),
     rows_written INTEGER NOT NULL,
     bytes_written INTEGER NOT NULL,
     lookup_calls INTEGER NOT NULL,
     keys_looked_up INTEGER NOT NULL
   );
   INSERT INTO tablet_counters VALUES (1, 0, 0, 0, 0);`,
  // 6: the bucket's retention policy (`table.log.ttl`, and whether only
  // tiered log may go), as the last write carried it, for the alarm that
  // drops expired log. Also: kv rows are written in the binary row form from
  // here on (kv-row.ts); rows in the older JSON text form are converted as
  // they are read, so nothing is rewritten here.
  `CREATE TABLE tablet_retention (
     singleton INTEGER PRIMARY KEY CHECK (singleton = 1),
     ttl_ms INTEGER NOT NULL,
     keep_untiered INTEGER NOT NULL
   );`,
];

/** Brings the Tablet's database up to the newest migration. */
export function migrate(sql: SqlStorage): void {
  sql.exec("CREATE TABLE IF NOT EXISTS tablet_migration (version INTEGER PRIMARY KEY)");
  const applied = sql.exec<{ version: number | null }>("SELECT max(version) AS version FROM tablet_migration").one();
  for (let version = (applied.version ?? 0) + 1; version <= migrations.length; version++) {
    sql.exec(migrations[version - 1]!);
    sql.exec("INSERT INTO tablet_migration (version) VALUES (?)", version);
  }
}
