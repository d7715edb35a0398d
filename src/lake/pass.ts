/**
 * A tiering pass: every lake-enabled table whose freshness has elapsed (or
 * every one, when forced) gets one tiering round. Tables are tiered
 * concurrently, and one table's failure never stops the others.
 */
import { entryFromRow, type TableEntry } from "../catalog/catalog.ts";
import { getLakeState } from "../catalog/lake.ts";
import * as queries from "../catalog/queries.ts";
import { parseDurationMs, propertyDefaults } from "../table/properties.ts";
import { isPrimaryKeyTable } from "../table/schema.ts";
import type { TieringResult } from "./tiering.ts";
import { tierTable } from "./tiering.ts";

export type TableTiering = { table: string } & (TieringResult | { kind: "not_due" } | { kind: "skipped"; reason: string } | { kind: "failed"; error: string });

export async function runTieringPass(env: Env, options: { force: boolean; nowMs: number }): Promise<TableTiering[]> {
  const tables = (await queries.selectAllTables(env.CATALOG)).map(entryFromRow).filter(isLakeEnabled);
  return Promise.all(tables.map(async (table): Promise<TableTiering> => {
    const name = `${table.database}.${table.name}`;
    if (isPrimaryKeyTable(table.definition)) {
      return { table: name, kind: "skipped", reason: "primary-key tables tier with equality deletes, which are not built yet" };
    }
    try {
      if (!options.force && !(await isDue(env, table, options.nowMs))) return { table: name, kind: "not_due" };
      return { table: name, ...(await tierTable(env, table, options.nowMs)) };
    } catch (error) {
      console.error(JSON.stringify({ event: "tiering_failed", table: name, error: String(error) }));
      return { table: name, kind: "failed", error: String(error) };
    }
  }));
}

function isLakeEnabled(table: TableEntry): boolean {
  return table.definition.properties["table.datalake.enabled"] === "true";
}

async function isDue(env: Env, table: TableEntry, nowMs: number): Promise<boolean> {
  const freshness = table.definition.properties["table.datalake.freshness"] ?? propertyDefaults["table.datalake.freshness"]!;
  const state = await getLakeState(env.CATALOG, table.tableId);
  return !state || (state.updatedAtMs ?? 0) + parseDurationMs(freshness) <= nowMs;
}
