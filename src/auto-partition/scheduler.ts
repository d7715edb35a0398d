/**
 * The PartitionScheduler Durable Object: runs the automatic-partitioning
 * pass of one table on its alarm, at the next unit boundary of the table's
 * time zone and at least every `checkIntervalMs` (Fluss's
 * `auto-partition.check.interval`). Creating the table starts it, the cron
 * restarts an alarm that was lost, and dropping the table stops it (as
 * does any alarm that finds the table gone). A thin shell
 * over `pass.ts`: alarms fire under `wrangler dev`, where cron never does.
 *
 * Invariants: one object, so one alarm, per table id; passes never overlap
 * (an object runs one alarm at a time); a failed pass is logged and the
 * alarm is set again, so a table is never left without one while it exists.
 */
import { DurableObject } from "cloudflare:workers";
import { getTableById } from "../catalog/catalog.ts";
import { TableDroppedError } from "../errors.ts";
import type { AutoPartitioning } from "../table/auto-partitioning.ts";
import { autoPartitioningOf } from "../table/auto-partitioning.ts";
import { nextBoundaryMs } from "../table/time-units.ts";
import { autoPartitionPass } from "./pass.ts";

/** The longest wait between passes, as Fluss's `auto-partition.check.interval`. */
export const checkIntervalMs = 10 * 60_000;
/** The wait before the next pass when one left expired partitions past its bound. */
const continueAfterMs = 1_000;

export class PartitionScheduler extends DurableObject<Env> {
  /** Starts (or keeps) the alarm of a table; idempotent. The first pass runs at once. */
  async start(tableId: string): Promise<void> {
    await this.ctx.storage.put("tableId", tableId);
    if ((await this.ctx.storage.getAlarm()) === null) await this.ctx.storage.setAlarm(Date.now());
  }

  /** Stops the alarm and forgets the table (it was dropped). A pass running now sets an alarm again, which then finds no table. */
  async stop(): Promise<void> {
    // deleteAll also removes the alarm (compatibility date 2026-02-24 on).
    await this.ctx.storage.deleteAll();
  }

  override async alarm(): Promise<void> {
    const tableId = await this.ctx.storage.get<string>("tableId");
    const table = tableId === undefined ? null : await getTableById(this.env.CATALOG, tableId);
    const options = table && autoPartitioningOf(table.definition);
    if (!table || !options) return this.stop();
    const nowMs = Date.now();
    let more = false;
    try {
      more = (await autoPartitionPass(this.env, table, nowMs)).more;
    } catch (error) {
      if (error instanceof TableDroppedError) return this.stop();
      console.error(JSON.stringify({ event: "auto_partition_failed", table: `${table.database}.${table.name}`, error: String(error) }));
    }
    await this.ctx.storage.setAlarm(more ? nowMs + continueAfterMs : nextPassMs(nowMs, options));
  }
}

/** When the pass after one at `nowMs` runs: at the next unit boundary, or after the check interval if sooner. */
export function nextPassMs(nowMs: number, options: AutoPartitioning): number {
  return Math.min(nextBoundaryMs(nowMs, options.unit, options.timeZone), nowMs + checkIntervalMs);
}

/** The scheduler of one table. */
export function partitionSchedulerStub(env: Env, tableId: string): DurableObjectStub<PartitionScheduler> {
  return env.PARTITION_SCHEDULER.get(env.PARTITION_SCHEDULER.idFromName(tableId));
}
