/**
 * One turn of a table's coordinator: a tiering round, a compaction when
 * the table asks for it and a bucket is due, then the deletions the
 * table's commits have made due; a failure is recorded in the catalog
 * for metrics and cleared by the next round that commits or finds the lake
 * up to date.
 *
 * Invariant: keeping the error record never fails tiering; a failure to
 * keep it is logged.
 */
import type { TableEntry } from "../catalog/catalog.ts";
import { clearTieringError, recordTieringError } from "../catalog/tiering-errors.ts";
import * as store from "./coordinator-store.ts";
import { getLakeState } from "../catalog/lake.ts";
import { sweepOrphans } from "./orphans.ts";
import { expiryPolicy } from "./policy.ts";
import type { TieringResult } from "./tiering.ts";
import { tierTable } from "./tiering.ts";
import type { CompactionResult } from "./compaction.ts";
import { compactTable } from "./compaction.ts";

export type TableTiering = { table: string } & (TieringResult | { kind: "failed"; error: string }) & { compaction?: CompactionResult };

export interface RoundOptions {
  nowMs: number;
  /** Whether the catalog holds an error for this table, which a success must clear. */
  errorOnRecord: boolean;
}

/** Lake objects deleted per R2 call (its limit). */
const deletesPerCall = 1000;

export async function tableRound(env: Env, sql: SqlStorage, table: TableEntry, options: RoundOptions): Promise<TableTiering> {
  const name = `${table.database}.${table.name}`;
  try {
    const result = await tierTable(env, sql, table, options.nowMs);
    const compaction = await compactTable(env, sql, table, options.nowMs);
    await deleteDue(env, sql);
    await sweepWhenDue(env, sql, table, options.nowMs);
    if ((result.kind === "committed" || result.kind === "up_to_date") && options.errorOnRecord) {
      await bestEffort(name, clearTieringError(env.CATALOG, table.tableId), undefined);
    }
    return { table: name, ...result, ...(compaction.kind === "not_needed" ? {} : { compaction }) };
  } catch (error) {
    console.error(JSON.stringify({ event: "tiering_failed", table: name, error: String(error) }));
    await bestEffort(name, recordTieringError(env.CATALOG, table.tableId, { message: String(error), atMs: Date.now() }), undefined);
    return { table: name, kind: "failed", error: String(error) };
  }
}

/** Deletes the lake objects commits have made obsolete; what fails stays recorded for the next round. */
async function deleteDue(env: Env, sql: SqlStorage): Promise<void> {
  for (let due = store.pendingDeletes(sql, deletesPerCall); due.length > 0; due = store.pendingDeletes(sql, deletesPerCall)) {
    await env.LAKE.delete(due);
    store.removePendingDeletes(sql, due);
  }
}

/** How often a table's lake is swept for orphans. */
const orphanSweepIntervalMs = 6 * 3_600_000;

/** Sweeps the lake for orphans every `orphanSweepIntervalMs`, for tables that expire snapshots (whose kept snapshots are few enough to read). */
async function sweepWhenDue(env: Env, sql: SqlStorage, table: TableEntry, nowMs: number): Promise<void> {
  if (!expiryPolicy(table.definition).enabled || store.lastSweepMs(sql) + orphanSweepIntervalMs > nowMs) return;
  const state = await getLakeState(env.CATALOG, table.tableId);
  if (state) await sweepOrphans(env, table, state, nowMs);
  store.recordSweep(sql, nowMs);
}

/** Keeping the error record must never fail tiering: a failure to keep it is logged and `fallback` used. */
export async function bestEffort<T>(subject: string, work: Promise<T>, fallback: T): Promise<T> {
  try {
    return await work;
  } catch (error) {
    console.error(JSON.stringify({ event: "tiering_error_record_failed", subject, error: String(error) }));
    return fallback;
  }
}
