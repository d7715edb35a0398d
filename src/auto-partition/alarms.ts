/**
 * The cron's part in automatic partitioning: makes sure every table with
 * `table.auto-partition.enabled` has its scheduler's alarm, restarting one
 * that was lost. Tables are handled concurrently, with a bound, and one
 * table's failure never stops the others.
 */
import { listAllTables } from "../catalog/catalog.ts";
import { mapLimited } from "../read-ahead.ts";
import { autoPartitioningOf } from "../table/auto-partitioning.ts";
import { partitionSchedulerStub } from "./scheduler.ts";

/** Schedulers asked at once. */
const tablesAtOnce = 8;

export async function restartPartitionAlarms(env: Env): Promise<void> {
  const tables = (await listAllTables(env.CATALOG)).filter((table) => autoPartitioningOf(table.definition) !== null);
  await mapLimited(tables, tablesAtOnce, async (table) => {
    await partitionSchedulerStub(env, table.tableId).start(table.tableId).catch((error: unknown) => {
      console.error(JSON.stringify({ event: "partition_scheduler_start_failed", table: `${table.database}.${table.name}`, error: String(error) }));
    });
  });
}
