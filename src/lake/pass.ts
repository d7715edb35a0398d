/**
 * A tiering pass: every lake-enabled table whose freshness has elapsed (or
 * every one, when forced) gets one round (`round.ts`: tiering, retention,
 * the error record). Tables are tiered concurrently, and one table's
 * failure never stops the others.
 */
import { listAllTables } from "../catalog/catalog.ts";
import { listTieringErrors } from "../catalog/tiering-errors.ts";
import { needsScheduler } from "./freshness.ts";
import { isLakeEnabled } from "../table/schema.ts";
import type { TableTiering } from "./round.ts";
import { bestEffort, tableRound } from "./round.ts";
import { lakeSchedulerStub } from "./scheduler.ts";

export type { TableTiering } from "./round.ts";

export async function runTieringPass(env: Env, options: { force: boolean; nowMs: number }): Promise<TableTiering[]> {
  const tables = (await listAllTables(env.CATALOG)).filter((table) => isLakeEnabled(table.definition));
  // Read once per pass, so a healthy table costs no catalog write to clear an error it does not have.
  const errors = await bestEffort("every table", listTieringErrors(env.CATALOG), new Map());
  return Promise.all(tables.map(async (table): Promise<TableTiering> => {
    // A lost alarm is restarted here; start() is idempotent.
    if (needsScheduler(table.definition)) {
      await lakeSchedulerStub(env, table.tableId).start(table.tableId).catch((error: unknown) => {
        console.error(JSON.stringify({ event: "scheduler_start_failed", table: `${table.database}.${table.name}`, error: String(error) }));
      });
    }
    return tableRound(env, table, { ...options, errorOnRecord: errors.has(table.tableId) });
  }));
}
