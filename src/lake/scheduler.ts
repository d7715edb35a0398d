/**
 * The LakeScheduler Durable Object: one per table whose
 * `table.datalake.freshness` is under a minute, the cron's granularity. Its
 * alarm tiers the table every freshness interval.
 *
 * Invariants: at most one alarm per table (one object per table id); a
 * dropped table or one no longer fresher than a minute stops its alarm; a
 * failed round is retried at the next interval, never lost, because tiering
 * always resumes from the committed offsets.
 */
import { DurableObject } from "cloudflare:workers";
import { entryFromRow } from "../catalog/catalog.ts";
import * as queries from "../catalog/queries.ts";
import { parseDurationMs, propertyDefaults } from "../table/properties.ts";
import type { TableDefinition } from "../table/schema.ts";
import { tierTable } from "./tiering.ts";

/** Freshness the minute cron already honours; below it a table gets its own alarm. */
export const cronIntervalMs = 60_000;

export function freshnessMs(definition: TableDefinition): number {
  return parseDurationMs(definition.properties["table.datalake.freshness"] ?? propertyDefaults["table.datalake.freshness"]!);
}

export function needsScheduler(definition: TableDefinition): boolean {
  return definition.properties["table.datalake.enabled"] === "true" && freshnessMs(definition) < cronIntervalMs;
}

export class LakeScheduler extends DurableObject<Env> {
  /** Starts (or keeps) the alarm for a table; idempotent. */
  async start(tableId: string): Promise<void> {
    await this.ctx.storage.put("tableId", tableId);
    if ((await this.ctx.storage.getAlarm()) === null) await this.ctx.storage.setAlarm(Date.now());
  }

  override async alarm(): Promise<void> {
    const tableId = await this.ctx.storage.get<string>("tableId");
    const row = tableId === undefined ? null : await queries.selectTableById(this.env.CATALOG, tableId);
    if (!row) return;
    const table = entryFromRow(row);
    if (!needsScheduler(table.definition)) return;
    try {
      await tierTable(this.env, table, Date.now());
    } catch (error) {
      console.error(JSON.stringify({ event: "scheduled_tiering_failed", tableId, error: String(error) }));
    }
    await this.ctx.storage.setAlarm(Date.now() + freshnessMs(table.definition));
  }
}

/** The scheduler of one table. */
export function lakeSchedulerStub(env: Env, tableId: string): DurableObjectStub<LakeScheduler> {
  return env.LAKE_SCHEDULER.get(env.LAKE_SCHEDULER.idFromName(tableId));
}
