/**
 * One pass of automatic partitioning over one table at an instant: drop
 * from the hot tier the partitions whose time value is more than
 * `num-retention` units before the current one, then create the
 * `num-precreate` partitions from the current one on (Fluss counts the
 * current one: 2 is today and tomorrow). A table with several partition
 * keys pre-creates nothing, its other keys' values being unknown.
 * A function of the instant, so tests choose it.
 *
 * Invariants: only partitions whose time-key value parses in the unit's
 * format are ever dropped (others were made by hand or by writes, and are
 * the user's); a partition is dropped through the same path as by hand
 * (catalog first, then its Tablets), so its id is never reused; the pass
 * never takes the table past its partition cap (what does not fit is
 * logged and left for later passes) and drops at most
 * `tabletsDroppedPerPassMax` Tablets, leaving the rest to the next pass.
 */
import type { TableEntry } from "../catalog/catalog.ts";
import type { PartitionEntry } from "../catalog/partitions.ts";
import { countPartitions, describePartition, dropPartition, listPartitions, resolvePartitions } from "../catalog/partitions.ts";
import { FloeError } from "../errors.ts";
import type { AutoPartitioning } from "../table/auto-partitioning.ts";
import { autoPartitioningOf } from "../table/auto-partitioning.ts";
import { formatPartitionSpec, partitionLimits, partitionsMaxOf } from "../table/partitioning.ts";
import { formatValue, nextBoundaryMs, ordinalAt, parseValue } from "../table/time-units.ts";
import { dropTablets } from "../tablet/stub.ts";

/**
 * Tablets one pass drops at most: with the catalog call per partition, a
 * pass stays well inside the 10,000 subrequests an alarm may make.
 */
const tabletsDroppedPerPassMax = 4096;

export interface AutoPartitionPass {
  /** Specs of the partitions this pass created. */
  created: string[];
  /** Specs of the partitions this pass dropped. */
  dropped: string[];
  /** Expired partitions are left past the pass's bound: the next pass should come soon. */
  more: boolean;
}

/**
 * Runs one pass over `table` as if the time were `nowMs`; nothing for a
 * table without automatic partitioning. `tabletsDroppedMax` is lowered
 * only by tests, which reach the bound without thousands of Tablets.
 */
export async function autoPartitionPass(env: Env, table: TableEntry, nowMs: number, tabletsDroppedMax = tabletsDroppedPerPassMax): Promise<AutoPartitionPass> {
  const options = autoPartitioningOf(table.definition);
  if (!options) return { created: [], dropped: [], more: false };
  const { dropped, more } = await dropExpired(env, table, options, nowMs, tabletsDroppedMax);
  const created = options.precreateCount > 0 ? await precreate(env, table, options, nowMs) : [];
  if (created.length > 0 || dropped.length > 0) {
    console.log(JSON.stringify({ event: "auto_partition_pass", table: `${table.database}.${table.name}`, created, dropped, more }));
  }
  return { created, dropped, more };
}

/** The partitions whose time value is older than the retention, oldest first. */
function expiredPartitions(partitions: readonly PartitionEntry[], keyIndex: number, options: AutoPartitioning, nowMs: number): PartitionEntry[] {
  const oldestKept = ordinalAt(nowMs, options.unit, options.timeZone) - options.retentionCount;
  return partitions
    .map((partition) => ({ partition, ordinal: parseValue(partition.values[keyIndex]!, options.unit) }))
    .filter((p): p is { partition: PartitionEntry; ordinal: number } => p.ordinal !== undefined && p.ordinal < oldestKept)
    .sort((a, b) => a.ordinal - b.ordinal)
    .map((p) => p.partition);
}

async function dropExpired(env: Env, table: TableEntry, options: AutoPartitioning, nowMs: number, tabletsDroppedMax: number): Promise<{ dropped: string[]; more: boolean }> {
  const keyIndex = table.definition.partitionKeys.indexOf(options.key);
  const bucketCount = table.definition.bucket.num;
  const partitions = await listPartitions(env.CATALOG, table, null, partitionLimits.partitionsPerTableMax);
  const expired = expiredPartitions(partitions, keyIndex, options, nowMs);
  const dropping = expired.slice(0, Math.max(1, Math.floor(tabletsDroppedMax / bucketCount)));
  const dropped: string[] = [];
  for (const partition of dropping) {
    const what = describePartition(table, partition.spec);
    const partitionId = await dropPartition(env.CATALOG, table, partition.spec).catch((error: unknown) => {
      // Dropped by hand meanwhile: nothing left to do.
      if (error instanceof FloeError && error.kind === "not_found") return null;
      throw error;
    });
    if (partitionId === null) continue;
    await dropTablets(env, [{ ...table, partition: { partitionId } }], bucketCount, what);
    dropped.push(partition.spec);
  }
  return { dropped, more: dropping.length < expired.length };
}

/** The time values of the current unit and the next `count - 1`, as the wall clock will show them (an hour skipped by a clock change is none). */
function upcomingValues(nowMs: number, options: AutoPartitioning, count: number): string[] {
  const values: string[] = [];
  for (let atMs = nowMs; values.length < count; atMs = nextBoundaryMs(atMs, options.unit, options.timeZone)) {
    values.push(formatValue(ordinalAt(atMs, options.unit, options.timeZone), options.unit));
  }
  return values;
}

async function precreate(env: Env, table: TableEntry, options: AutoPartitioning, nowMs: number): Promise<string[]> {
  const keys = table.definition.partitionKeys;
  const partitionsMax = partitionsMaxOf(table.definition.bucket.num);
  const specs = upcomingValues(nowMs, options, Math.min(options.precreateCount, partitionsMax)).map((value) => formatPartitionSpec(keys, [value]));
  const existing = await resolvePartitions(env.CATALOG, table, specs, false);
  const missing = specs.filter((spec) => !existing.has(spec));
  if (missing.length === 0) return [];
  const room = partitionsMax - (await countPartitions(env.CATALOG, table));
  const creating = missing.slice(0, Math.max(0, room));
  const capped = () => console.error(JSON.stringify({
    event: "auto_partition_capped",
    table: `${table.database}.${table.name}`,
    wanted: missing,
    partitionsMax,
    message: "the table's partition cap leaves no room for these partitions; they are created once older ones are dropped",
  }));
  if (creating.length < missing.length) capped();
  if (creating.length === 0) return [];
  try {
    await resolvePartitions(env.CATALOG, table, creating, true);
  } catch (error) {
    // Writes took the room between the count and the insert.
    if (!(error instanceof FloeError && error.kind === "conflict")) throw error;
    capped();
    return [];
  }
  return creating;
}
