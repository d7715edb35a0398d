/**
 * A tiering pass: every lake-enabled table whose freshness has elapsed (or
 * every one, when forced) gets one tiering round, then its Tablets drop log
 * data that is tiered and older than `table.log.ttl`. Tables are tiered
 * concurrently, and one table's failure never stops the others.
 *
 * A table's failure is recorded in the catalog (`tiering-errors.ts`) and
 * cleared by its next round that commits or finds the lake up to date. That
 * record feeds metrics only, so failing to keep it never fails a table.
 */
import { listAllTables, type TableEntry } from "../catalog/catalog.ts";
import { getLakeState, type LakeState } from "../catalog/lake.ts";
import { clearTieringError, listTieringErrors, recordTieringError } from "../catalog/tiering-errors.ts";
import { parseDurationMs, propertyDefaults } from "../table/properties.ts";
import { bucketsOf, tabletStub } from "../tablet/stub.ts";
import type { TieringResult } from "./tiering.ts";
import { tierTable } from "./tiering.ts";
import { freshnessMs, lakeSchedulerStub, needsScheduler } from "./scheduler.ts";

export type TableTiering = { table: string } & (TieringResult | { kind: "not_due" } | { kind: "failed"; error: string });

export async function runTieringPass(env: Env, options: { force: boolean; nowMs: number }): Promise<TableTiering[]> {
  const tables = (await listAllTables(env.CATALOG)).filter(isLakeEnabled);
  // Read once per pass, so a healthy table costs no catalog write to clear an error it does not have.
  const errors = await bestEffort("every table", listTieringErrors(env.CATALOG), new Map());
  return Promise.all(tables.map(async (table): Promise<TableTiering> => {
    const name = `${table.database}.${table.name}`;
    try {
      // A lost alarm is restarted here; start() is idempotent.
      if (needsScheduler(table.definition)) await lakeSchedulerStub(env, table.tableId).start(table.tableId);
      const state = await getLakeState(env.CATALOG, table.tableId);
      const result = !options.force && !isDue(table, state, options.nowMs)
        ? { kind: "not_due" as const }
        : await tierTable(env, table, options.nowMs);
      // Offsets only move forward and Tablets keep the highest they are told, so a stale state is merely late.
      const tiered = result.kind === "committed" ? result.bucketOffsets : state?.bucketOffsets;
      if (tiered) await applyRetention(env, table, tiered);
      if ((result.kind === "committed" || result.kind === "up_to_date") && errors.has(table.tableId)) {
        await bestEffort(name, clearTieringError(env.CATALOG, table.tableId), undefined);
      }
      return { table: name, ...result };
    } catch (error) {
      console.error(JSON.stringify({ event: "tiering_failed", table: name, error: String(error) }));
      await bestEffort(name, recordTieringError(env.CATALOG, table.tableId, { message: String(error), atMs: Date.now() }), undefined);
      return { table: name, kind: "failed", error: String(error) };
    }
  }));
}

/** Keeping the error record must never fail tiering: a failure to keep it is logged and `fallback` used. */
async function bestEffort<T>(subject: string, work: Promise<T>, fallback: T): Promise<T> {
  try {
    return await work;
  } catch (error) {
    console.error(JSON.stringify({ event: "tiering_error_record_failed", subject, error: String(error) }));
    return fallback;
  }
}

export function isLakeEnabled(table: TableEntry): boolean {
  return table.definition.properties["table.datalake.enabled"] === "true";
}

/** Tells every Tablet how far the lake holds it, so it can drop log data past `table.log.ttl`. */
async function applyRetention(env: Env, table: TableEntry, tieredOffsets: LakeState["bucketOffsets"]): Promise<void> {
  const ttlMs = parseDurationMs(table.definition.properties["table.log.ttl"] ?? propertyDefaults["table.log.ttl"]!);
  await Promise.all(
    bucketsOf(table.definition.bucket.num).map((bucket) =>
      tabletStub(env, table.tableId, bucket).markTiered(tieredOffsets[String(bucket)] ?? 0, ttlMs),
    ),
  );
}

function isDue(table: TableEntry, state: LakeState | null, nowMs: number): boolean {
  return !state || (state.updatedAtMs ?? 0) + freshnessMs(table.definition) <= nowMs;
}
