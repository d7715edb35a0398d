/**
 * One table's turn at tiering, as the cron pass and a table's scheduler
 * alarm both take it: a tiering round (unless not yet due), then retention
 * on its Tablets, with a failure recorded in the catalog for metrics and
 * cleared by the next round that commits or finds the lake up to date.
 *
 * Invariant: keeping the error record never fails tiering; a failure to
 * keep it is logged.
 */
import type { TableEntry } from "../catalog/catalog.ts";
import { getLakeState, type LakeState } from "../catalog/lake.ts";
import { clearTieringError, recordTieringError } from "../catalog/tiering-errors.ts";
import { bucketsOf, live, tabletStub } from "../tablet/stub.ts";
import type { TieringResult } from "./tiering.ts";
import { tierTable } from "./tiering.ts";
import { freshnessMs } from "./freshness.ts";

export type TableTiering = { table: string } & (TieringResult | { kind: "not_due" } | { kind: "failed"; error: string });

export interface RoundOptions {
  /** Tier even when the table's freshness has not elapsed. */
  force: boolean;
  nowMs: number;
  /** Whether the catalog holds an error for this table, which a success must clear. */
  errorOnRecord: boolean;
}

export async function tableRound(env: Env, table: TableEntry, options: RoundOptions): Promise<TableTiering> {
  const name = `${table.database}.${table.name}`;
  try {
    const state = await getLakeState(env.CATALOG, table.tableId);
    const result = !options.force && !isDue(table, state, options.nowMs)
      ? { kind: "not_due" as const }
      : await tierTable(env, table, state, options.nowMs);
    // Offsets only move forward and Tablets keep the highest they are told, so a stale state is merely late.
    const tiered = result.kind === "committed" ? result.bucketOffsets : state?.bucketOffsets;
    if (tiered) await applyRetention(env, table, tiered);
    if ((result.kind === "committed" || result.kind === "up_to_date") && options.errorOnRecord) {
      await bestEffort(name, clearTieringError(env.CATALOG, table.tableId), undefined);
    }
    return { table: name, ...result };
  } catch (error) {
    console.error(JSON.stringify({ event: "tiering_failed", table: name, error: String(error) }));
    await bestEffort(name, recordTieringError(env.CATALOG, table.tableId, { message: String(error), atMs: Date.now() }), undefined);
    return { table: name, kind: "failed", error: String(error) };
  }
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

/** Tells every Tablet how far the lake holds it, so it can drop log data past `table.log.ttl`. */
async function applyRetention(env: Env, table: TableEntry, tieredOffsets: LakeState["bucketOffsets"]): Promise<void> {
  await Promise.all(
    bucketsOf(table.definition.bucket.num).map(async (bucket) =>
      live(await tabletStub(env, table.tableId, bucket).markTiered(tieredOffsets[String(bucket)] ?? 0)),
    ),
  );
}

function isDue(table: TableEntry, state: LakeState | null, nowMs: number): boolean {
  return !state || (state.updatedAtMs ?? 0) + freshnessMs(table.definition) <= nowMs;
}
