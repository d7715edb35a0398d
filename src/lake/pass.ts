/**
 * Passes over every lake table: the cron's, which makes sure each table's
 * coordinator has its alarm (restarting lost ones), and the forced one of
 * `POST /v1/tiering/run`, which asks each coordinator for a round now.
 * Tables are handled concurrently, with a bound, and one table's failure
 * never stops the others.
 */
import { listAllTables } from "../catalog/catalog.ts";
import { isLakeEnabled } from "../table/schema.ts";
import { mapLimited } from "../read-ahead.ts";
import type { TableTiering } from "./round.ts";
import { lakeSchedulerStub } from "./scheduler.ts";

export type { TableTiering } from "./round.ts";

/** Coordinators asked at once. */
const tablesAtOnce = 8;

/** Makes sure every lake table's coordinator has its alarm. */
export async function restartAlarms(env: Env): Promise<void> {
  const tables = (await listAllTables(env.CATALOG)).filter((table) => isLakeEnabled(table.definition));
  await mapLimited(tables, tablesAtOnce, async (table) => {
    await lakeSchedulerStub(env, table.tableId).start(table.tableId).catch((error: unknown) => {
      console.error(JSON.stringify({ event: "scheduler_start_failed", table: `${table.database}.${table.name}`, error: String(error) }));
    });
  });
}

/** A round of every lake table now, each after any round its coordinator is running. */
export async function runTieringPass(env: Env): Promise<TableTiering[]> {
  const tables = (await listAllTables(env.CATALOG)).filter((table) => isLakeEnabled(table.definition));
  const results = await mapLimited(tables, tablesAtOnce, async (table): Promise<TableTiering | null> => {
    const scheduler = lakeSchedulerStub(env, table.tableId);
    await scheduler.start(table.tableId);
    return scheduler.runNow();
  });
  return results.filter((r) => r !== null);
}
