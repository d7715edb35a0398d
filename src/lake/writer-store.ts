/**
 * A lake writer's SQLite: the bucket's key → lake-position index (primary-key
 * tables) and the round it has prepared but not yet seen committed. Every
 * statement the writer runs is here; cursors are consumed before returning.
 *
 * Invariants: the index only ever holds positions of committed files
 * (`adoptRound` moves a prepared round's positions in, and only for a round
 * the coordinator saw committed); a prepared round names every file it
 * puts in R2 before putting it, so abandoning it can delete them all.
 * Rounds are prepared by id: the coordinator resolves each before the
 * next, and should two ever race (two coordinators), each is adopted or
 * abandoned on its own.
 */
const migrations: readonly string[] = [
  // 1: lake files by id (the index refers to them by number), the index, the
  // prepared round with the files it wrote and the positions it will adopt,
  // and whether the index covers the bucket's whole lake.
  `CREATE TABLE lake_file (
     file_id INTEGER PRIMARY KEY,
     path TEXT NOT NULL UNIQUE
   );
   CREATE TABLE key_position (
     key BLOB PRIMARY KEY,
     file_id INTEGER NOT NULL,
     pos INTEGER NOT NULL
   ) WITHOUT ROWID;
   CREATE INDEX key_position_by_file ON key_position (file_id);
   CREATE TABLE prepared_round (
     round_id INTEGER PRIMARY KEY,
     paths TEXT NOT NULL,
     prepared_at_ms INTEGER NOT NULL
   );
   CREATE TABLE prepared_position (
     round_id INTEGER NOT NULL,
     key BLOB NOT NULL,
     file_id INTEGER,
     pos INTEGER,
     PRIMARY KEY (round_id, key)
   ) WITHOUT ROWID;
   CREATE TABLE writer_state (
     singleton INTEGER PRIMARY KEY CHECK (singleton = 1),
     index_complete INTEGER NOT NULL
   );`,
  // 2: a compaction that rewrites every data file of the bucket leaves the
  // index holding every key; adopting it says so.
  `ALTER TABLE prepared_round ADD COLUMN completes_index INTEGER NOT NULL DEFAULT 0;`,
];

export function migrate(sql: SqlStorage): void {
  sql.exec("CREATE TABLE IF NOT EXISTS writer_migration (version INTEGER PRIMARY KEY)");
  const applied = sql.exec<{ version: number | null }>("SELECT max(version) AS version FROM writer_migration").one();
  for (let version = (applied.version ?? 0) + 1; version <= migrations.length; version++) {
    sql.exec(migrations[version - 1]!);
    sql.exec("INSERT INTO writer_migration (version) VALUES (?)", version);
  }
}

/**
 * Whether the index holds every key the bucket's lake holds. It does when
 * this writer has tiered the bucket from offset 0; a bucket tiered by an
 * older Floe (which wrote equality deletes and kept no index) does not,
 * until a compaction rewrites it.
 */
export function indexComplete(sql: SqlStorage): boolean | undefined {
  const row = sql.exec<{ complete: number }>("SELECT index_complete AS complete FROM writer_state").toArray()[0];
  return row === undefined ? undefined : row.complete !== 0;
}

export function setIndexComplete(sql: SqlStorage, complete: boolean): void {
  sql.exec(
    "INSERT INTO writer_state (singleton, index_complete) VALUES (1, ?) ON CONFLICT (singleton) DO UPDATE SET index_complete = excluded.index_complete",
    complete ? 1 : 0,
  );
}

export function fileId(sql: SqlStorage, path: string): number {
  return sql
    .exec<{ id: number }>("INSERT INTO lake_file (path) VALUES (?) ON CONFLICT (path) DO UPDATE SET path = path RETURNING file_id AS id", path)
    .one().id;
}

/** Durable Object SQLite binds at most 100 parameters per statement. */
const keysPerStatement = 100;

/** The committed lake position of each key that has one, keyed by `keyId`. */
export function positionsOf(sql: SqlStorage, keys: readonly Uint8Array[], keyId: (key: Uint8Array) => string): Map<string, { path: string; pos: number }> {
  const found = new Map<string, { path: string; pos: number }>();
  for (let i = 0; i < keys.length; i += keysPerStatement) {
    const chunk = keys.slice(i, i + keysPerStatement);
    const cursor = sql.exec<{ key: ArrayBuffer; path: string; pos: number }>(
      `SELECT p.key AS key, f.path AS path, p.pos AS pos FROM key_position p JOIN lake_file f ON f.file_id = p.file_id
       WHERE p.key IN (${chunk.map(() => "?").join(",")})`,
      ...chunk,
    );
    for (const { key, path, pos } of cursor) found.set(keyId(new Uint8Array(key)), { path, pos });
  }
  return found;
}

/** Records a round as prepared, with the R2 keys of the files it writes, each before it is written. */
export function prepareRound(sql: SqlStorage, roundId: number, paths: readonly string[], nowMs: number, completesIndex = false): void {
  sql.exec(
    `INSERT INTO prepared_round (round_id, paths, prepared_at_ms, completes_index) VALUES (?, ?, ?, ?)
     ON CONFLICT (round_id) DO UPDATE SET paths = excluded.paths`,
    roundId,
    JSON.stringify(paths),
    nowMs,
    completesIndex ? 1 : 0,
  );
}

export interface PreparedRound {
  roundId: number;
  paths: string[];
  preparedAtMs: number;
}

export function preparedRounds(sql: SqlStorage): PreparedRound[] {
  return sql
    .exec<{ roundId: number; paths: string; preparedAtMs: number }>("SELECT round_id AS roundId, paths, prepared_at_ms AS preparedAtMs FROM prepared_round")
    .toArray()
    .map((row) => ({ ...row, paths: JSON.parse(row.paths) as string[] }));
}

/** A prepared round's new position of each key (null: the key has no lake row after the round). */
export function preparePositions(sql: SqlStorage, roundId: number, positions: readonly { key: Uint8Array; fileId: number | null; pos: number | null }[]): void {
  const rowsPerStatement = Math.floor(keysPerStatement / 4);
  for (let i = 0; i < positions.length; i += rowsPerStatement) {
    const chunk = positions.slice(i, i + rowsPerStatement);
    sql.exec(
      `INSERT INTO prepared_position (round_id, key, file_id, pos) VALUES ${chunk.map(() => "(?, ?, ?, ?)").join(",")}`,
      ...chunk.flatMap((p) => [roundId, p.key, p.fileId, p.pos]),
    );
  }
}

/** Moves a prepared round's positions into the index and forgets the round. */
export function adoptRound(sql: SqlStorage, roundId: number): void {
  const completes = sql.exec<{ completes: number }>("SELECT completes_index AS completes FROM prepared_round WHERE round_id = ?", roundId).toArray()[0];
  if (completes?.completes) setIndexComplete(sql, true);
  const replaced = sql
    .exec<{ id: number }>("SELECT DISTINCT p.file_id AS id FROM key_position p JOIN prepared_position q ON q.key = p.key WHERE q.round_id = ?", roundId)
    .toArray()
    .map((r) => r.id);
  sql.exec("DELETE FROM key_position WHERE key IN (SELECT key FROM prepared_position WHERE round_id = ? AND file_id IS NULL)", roundId);
  sql.exec(
    `INSERT INTO key_position (key, file_id, pos) SELECT key, file_id, pos FROM prepared_position WHERE round_id = ? AND file_id IS NOT NULL
     ON CONFLICT (key) DO UPDATE SET file_id = excluded.file_id, pos = excluded.pos`,
    roundId,
  );
  forgetRound(sql, roundId);
  // A file no key points at any more is not needed for position deletes.
  for (const id of replaced) {
    sql.exec("DELETE FROM lake_file WHERE file_id = ? AND NOT EXISTS (SELECT 1 FROM key_position WHERE file_id = ?)", id, id);
  }
}

export function forgetRound(sql: SqlStorage, roundId: number): void {
  // The round's new files, unless it was adopted, are named by no key.
  sql.exec(
    `DELETE FROM lake_file WHERE file_id IN (SELECT DISTINCT file_id FROM prepared_position WHERE round_id = ? AND file_id IS NOT NULL)
       AND NOT EXISTS (SELECT 1 FROM key_position p WHERE p.file_id = lake_file.file_id)`,
    roundId,
  );
  sql.exec("DELETE FROM prepared_position WHERE round_id = ?", roundId);
  sql.exec("DELETE FROM prepared_round WHERE round_id = ?", roundId);
}
