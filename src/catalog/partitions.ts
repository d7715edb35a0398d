/**
 * The partitions of partitioned tables, kept in the catalog (D1), and a
 * per-isolate cache of them, so a write or read of a known partition pays
 * no D1 round trip.
 *
 * Invariants: a partition id is never reused, so the Tablets of a dropped
 * partition are never reached through one created again under its spec;
 * creating is idempotent (concurrent creators of one spec get one
 * partition) and all or nothing per call; a table never holds more than
 * `partitionsMaxOf(bucket.num)` partitions. The cache remembers only
 * partitions that exist (a miss asks D1); one dropped since is found out
 * by its Tablets' tombstones, and the caller then forgets that partition
 * (`forgetPartitions`) and asks again.
 */
import { FloeError, TableDroppedError } from "../errors.ts";
import { isPartitioned } from "../table/schema.ts";
import { formatPartitionSpec, parsePartitionSpec, partitionLimits, partitionsMaxOf } from "../table/partitioning.ts";
import type { TableEntry } from "./catalog.ts";
import * as queries from "./partition-queries.ts";

export interface PartitionEntry {
  partitionId: number;
  /** Its name: `key=value` pairs in partition-key order, joined with `/`. */
  spec: string;
  /** One value per partition key, in key order. */
  values: string[];
  createdAtMs: number;
}

/**
 * A table, or one partition of a partitioned table: what holds one set of
 * buckets, a Tablet each (Fluss's physical table). A partitioned table
 * itself holds none.
 */
export interface PhysicalTable extends TableEntry {
  partition?: PartitionEntry;
}

const entryTtlMs = 30_000;
const entriesMax = 10_000;
const cache = new Map<string, { partition: PartitionEntry; expiresAtMs: number }>();
const cacheKey = (tableId: string, spec: string) => `${tableId} ${spec}`;

/**
 * Forgets what this isolate knows of some of a table's partitions (found
 * dropped), or of all of them (the table was).
 */
export function forgetPartitions(tableId: string, specs?: readonly string[]): void {
  if (specs) for (const spec of specs) cache.delete(cacheKey(tableId, spec));
  else for (const key of cache.keys()) if (key.startsWith(`${tableId} `)) cache.delete(key);
}

function remember(tableId: string, partition: PartitionEntry): void {
  if (cache.size >= entriesMax) cache.clear();
  cache.set(cacheKey(tableId, partition.spec), { partition, expiresAtMs: Date.now() + entryTtlMs });
}

/** The canonical spec of a partition named by `text` (its keys in any order); 400 when it names none of this table's. */
export function canonicalSpec(table: TableEntry, text: string): string {
  const keys = table.definition.partitionKeys;
  return formatPartitionSpec(keys, parsePartitionSpec(keys, text));
}

export function describePartition(table: TableEntry, spec: string): string {
  return `partition ${spec} of ${table.database}.${table.name}`;
}

/**
 * The partitions of `specs` (canonical) that exist, by spec; with
 * `create`, every one of them, created as needed (409 past the table's
 * partition cap; `TableDroppedError` when the table is gone).
 */
export async function resolvePartitions(
  db: D1Database, table: TableEntry, specs: readonly string[], create: boolean,
): Promise<Map<string, PartitionEntry>> {
  const found = new Map<string, PartitionEntry>();
  const nowMs = Date.now();
  for (const spec of specs) {
    const hit = cache.get(cacheKey(table.tableId, spec));
    if (hit && hit.expiresAtMs > nowMs) found.set(spec, hit.partition);
  }
  const unknown = specs.filter((spec) => !found.has(spec));
  if (unknown.length === 0) return found;
  const rows = create ? (await createRows(db, table, unknown)).rows : await queries.selectPartitionsNamed(db, table.tableId, unknown);
  for (const row of rows) {
    const partition = entryOf(table, row);
    remember(table.tableId, partition);
    found.set(partition.spec, partition);
  }
  return found;
}

/** Creates the partitions of `specs` that do not exist: all of them, or none and an error. */
async function createRows(db: D1Database, table: TableEntry, specs: readonly string[]): Promise<queries.InsertedPartitions> {
  const bucketCount = table.definition.bucket.num;
  const partitionsMax = partitionsMaxOf(bucketCount);
  const inserted = await queries.insertPartitions(db, table.tableId, specs, Date.now(), partitionsMax);
  if (inserted.rows.length === specs.length) return inserted;
  // The caller's table entry is stale: `withTable` resolves the name again.
  if (!inserted.tableExists) throw new TableDroppedError();
  const missing = specs.length - inserted.rows.length;
  const bound = partitionsMax < partitionLimits.partitionsPerTableMax
    ? `${partitionLimits.tabletsPerTableMax} Tablets: ${partitionsMax} partitions of ${bucketCount} buckets`
    : `${partitionLimits.partitionsPerTableMax} partitions`;
  throw FloeError.conflict(
    `table '${table.database}.${table.name}' has ${inserted.count} partitions, and ${missing} more would take it past ${bound}, the most a table holds; drop some first`,
  );
}

/** Creates one partition (idempotent): whether this call created it. */
export async function createPartition(db: D1Database, table: TableEntry, spec: string): Promise<{ created: boolean; partition: PartitionEntry }> {
  const inserted = await createRows(db, table, [spec]);
  const partition = entryOf(table, inserted.rows[0]!);
  remember(table.tableId, partition);
  return { created: inserted.created === 1, partition };
}

/** The partition `spec` (canonical) names; 404 when it does not exist. */
export async function findPartition(db: D1Database, table: TableEntry, spec: string): Promise<PartitionEntry> {
  const partition = (await resolvePartitions(db, table, [spec], false)).get(spec);
  if (!partition) throw FloeError.notFound(`${describePartition(table, spec)} does not exist`);
  return partition;
}

/**
 * The physical table a request names: the table itself when it is not
 * partitioned, else the partition `spec` names (400 without one, 404 when
 * it does not exist).
 */
export async function physicalTable(db: D1Database, table: TableEntry, spec: string | undefined): Promise<PhysicalTable> {
  const keys = table.definition.partitionKeys;
  if (!isPartitioned(table.definition)) {
    if (spec !== undefined) throw FloeError.badRequest(`table '${table.database}.${table.name}' is not partitioned, so it takes no partition`);
    return table;
  }
  if (spec === undefined) {
    throw FloeError.badRequest(
      `table '${table.database}.${table.name}' is partitioned by ${keys.join(", ")}: name a partition, e.g. partition=${formatPartitionSpec(keys, keys.map(() => "<value>"))}`,
    );
  }
  return { ...table, partition: await findPartition(db, table, canonicalSpec(table, spec)) };
}

/** Removes a partition from the catalog and returns its id, so its Tablets can be dropped; 404 when it does not exist. */
export async function dropPartition(db: D1Database, table: TableEntry, spec: string): Promise<number> {
  const partitionId = await queries.deletePartition(db, table.tableId, spec);
  cache.delete(cacheKey(table.tableId, spec));
  if (partitionId === null) throw FloeError.notFound(`${describePartition(table, spec)} does not exist`);
  return partitionId;
}

/** Up to `limit` partitions from `fromSpec` on (inclusive; from the first when null), in spec order. */
export async function listPartitions(db: D1Database, table: TableEntry, fromSpec: string | null, limit: number): Promise<PartitionEntry[]> {
  return (await queries.selectPartitionsFrom(db, table.tableId, fromSpec ?? "", limit)).map((row) => entryOf(table, row));
}

/** Up to `limit` partitions created after the one of id `afterId` (0: all), in id order; null when the table is gone. */
export async function partitionsCreatedAfter(db: D1Database, table: TableEntry, afterId: number, limit: number): Promise<PartitionEntry[] | null> {
  const { rows, tableExists } = await queries.selectPartitionsCreatedAfter(db, table.tableId, afterId, limit);
  return tableExists ? rows.map((row) => entryOf(table, row)) : null;
}

export async function countPartitions(db: D1Database, table: TableEntry): Promise<number> {
  return queries.countPartitions(db, table.tableId);
}

function entryOf(table: TableEntry, row: queries.PartitionRow): PartitionEntry {
  return { ...row, values: parsePartitionSpec(table.definition.partitionKeys, row.spec) };
}
