/**
 * A per-isolate cache of table entries, so a data request does not pay a D1
 * round trip to find its table.
 *
 * Why it is safe: a table's definition never changes under its table id, and
 * a dropped table's Tablets keep a tombstone and refuse every call. A request
 * that used a stale entry gets that refusal, forgets the entry and resolves
 * the name again (finding the table gone, or its successor). Entries also
 * expire, so the cache never grows stale for long. The same holds for a
 * table's partitions (`partitions.ts`), which are forgotten with it.
 */
import type { TableEntry } from "./catalog.ts";
import { getTable } from "./catalog.ts";
import { TableDroppedError } from "../errors.ts";
import { forgetPartitions } from "./partitions.ts";

const entryTtlMs = 30_000;
const entriesMax = 10_000;
const entries = new Map<string, { table: TableEntry; expiresAtMs: number }>();

const cacheKey = (database: string, name: string) => `${database}.${name}`;

export async function resolveTable(db: D1Database, database: string, name: string): Promise<TableEntry> {
  const key = cacheKey(database, name);
  const cached = entries.get(key);
  if (cached && cached.expiresAtMs > Date.now()) return cached.table;
  const table = await getTable(db, database, name);
  if (entries.size >= entriesMax) entries.clear();
  entries.set(key, { table, expiresAtMs: Date.now() + entryTtlMs });
  return table;
}

export function forgetTable(database: string, name: string): void {
  entries.delete(cacheKey(database, name));
}

/**
 * Runs `use` with the named table; when it meets a dropped Tablet, runs it
 * once more with the table and its partitions resolved afresh.
 */
export async function withTable<T>(db: D1Database, database: string, name: string, use: (table: TableEntry) => Promise<T>): Promise<T> {
  const table = await resolveTable(db, database, name);
  try {
    return await use(table);
  } catch (error) {
    if (!(error instanceof TableDroppedError)) throw error;
    forgetTable(database, name);
    forgetPartitions(table.tableId);
    return use(await resolveTable(db, database, name));
  }
}
