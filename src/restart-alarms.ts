/**
 * The cron's one job: every table's Durable Objects that live on alarms
 * have one, restarting any that was lost. A lake table's coordinator tiers
 * on its alarm, an auto-partitioned table's scheduler creates and expires
 * partitions on its own. The catalog's tables are listed once for both;
 * tables are handled concurrently, with a bound, and one table's failure
 * never stops the others.
 */
import type { TableEntry } from "./catalog/catalog.ts";
import { listAllTables } from "./catalog/catalog.ts";
import { partitionSchedulerStub } from "./auto-partition/scheduler.ts";
import { lakeSchedulerStub } from "./lake/scheduler.ts";
import { mapLimited } from "./read-ahead.ts";
import { autoPartitioningOf } from "./table/auto-partitioning.ts";
import { isLakeEnabled } from "./table/schema.ts";

/** Tables whose alarms are checked at once. */
const tablesAtOnce = 8;

export async function restartAlarms(env: Env): Promise<void> {
  await mapLimited(await listAllTables(env.CATALOG), tablesAtOnce, async (table) => {
    if (isLakeEnabled(table.definition)) await start(table, "scheduler_start_failed", () => lakeSchedulerStub(env, table.tableId).start(table.tableId));
    if (autoPartitioningOf(table.definition)) await start(table, "partition_scheduler_start_failed", () => partitionSchedulerStub(env, table.tableId).start(table.tableId));
  });
}

async function start(table: TableEntry, event: string, call: () => Promise<unknown>): Promise<void> {
  await call().catch((error: unknown) => {
    console.error(JSON.stringify({ event, table: `${table.database}.${table.name}`, error: String(error) }));
  });
}
