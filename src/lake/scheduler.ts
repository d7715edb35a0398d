/**
 * The LakeScheduler Durable Object: one per table whose
 * `table.datalake.freshness` is under a minute, the cron's granularity. Its
 * alarm tiers the table every freshness interval.
 *
 * Invariants: at most one alarm per table (one object per table id); a
 * dropped table or one no longer fresher than a minute stops its alarm; a
 * failed round is retried at the next interval, never lost, because tiering
 * always resumes from the committed offsets. A round here is the same as
 * the cron pass's (`round.ts`): retention and the error record included.
 */
import { DurableObject } from "cloudflare:workers";
import { getTableById } from "../catalog/catalog.ts";
import { freshnessMs, needsScheduler } from "./freshness.ts";
import { tableRound } from "./round.ts";

export class LakeScheduler extends DurableObject<Env> {
  /** Starts (or keeps) the alarm for a table; idempotent. */
  async start(tableId: string): Promise<void> {
    await this.ctx.storage.put("tableId", tableId);
    if ((await this.ctx.storage.getAlarm()) === null) await this.ctx.storage.setAlarm(Date.now());
  }

  override async alarm(): Promise<void> {
    const tableId = await this.ctx.storage.get<string>("tableId");
    const table = tableId === undefined ? null : await getTableById(this.env.CATALOG, tableId);
    if (!table || !needsScheduler(table.definition)) return;
    // This object remembers whether its last round failed, so a healthy table costs no catalog write to clear an error.
    const errorOnRecord = (await this.ctx.storage.get<boolean>("failed")) ?? true;
    const result = await tableRound(this.env, table, { force: true, nowMs: Date.now(), errorOnRecord });
    await this.ctx.storage.put("failed", result.kind === "failed");
    await this.ctx.storage.setAlarm(Date.now() + freshnessMs(table.definition));
  }
}

/** The scheduler of one table. */
export function lakeSchedulerStub(env: Env, tableId: string): DurableObjectStub<LakeScheduler> {
  return env.LAKE_SCHEDULER.get(env.LAKE_SCHEDULER.idFromName(tableId));
}
