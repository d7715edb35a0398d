/**
 * The forced pass over every lake table of `POST /v1/tiering/run`, which
 * asks each coordinator for a round now (the cron only restarts lost
 * alarms: `restart-alarms.ts`). Tables are handled concurrently, with a
 * bound.
 */
import { listAllTables } from "../catalog/catalog.ts";
import { isLakeEnabled } from "../table/schema.ts";
import { mapLimited } from "../read-ahead.ts";
import type { TableTiering } from "./round.ts";
import { lakeSchedulerStub } from "./scheduler.ts";

export type { TableTiering } from "./round.ts";

/** Coordinators asked at once. */
const tablesAtOnce = 8;

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
