/**
 * The LakeScheduler Durable Object: the coordinator of one lake table. Its
 * alarm runs a round every `table.datalake.freshness`; `runNow` runs one on
 * demand (`POST /v1/tiering/run`); the cron only restarts alarms that were
 * lost; `dropPartition` drops a partition from the lake between rounds. A thin shell over `round.ts`; its storage is `coordinator-store.ts`.
 *
 * Invariants: at most one alarm per table (one object per table id) and
 * one round at a time (rounds are chained), so rounds, compactions,
 * partition drops and expiry of a table never race each other; a dropped
 * table or one no longer tiered stops its alarm; a failed round is retried at the next
 * interval, never lost, because rounds always resume from the committed
 * offsets and first settle the round a failure left open.
 */
import { DurableObject } from "cloudflare:workers";
import { getTableById } from "../catalog/catalog.ts";
import type { TableEntry } from "../catalog/catalog.ts";
import { isLakeEnabled } from "../table/schema.ts";
import * as store from "./coordinator-store.ts";
import { freshnessMs } from "./freshness.ts";
import type { LakePartitionDrop } from "./partition-drop.ts";
import { dropPartitionFromLake } from "./partition-drop.ts";
import type { TableTiering } from "./round.ts";
import { tableRound } from "./round.ts";

export class LakeScheduler extends DurableObject<Env> {
  /** The round running now, if any: the next one starts after it. */
  private running: Promise<unknown> = Promise.resolve();

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    ctx.storage.transactionSync(() => store.migrate(ctx.storage.sql));
  }

  /** Starts (or keeps) the alarm for a table; idempotent. */
  async start(tableId: string): Promise<void> {
    store.setTableId(this.ctx.storage.sql, tableId);
    if ((await this.ctx.storage.getAlarm()) === null) await this.ctx.storage.setAlarm(Date.now());
  }

  /** Runs a round now, after any round already running; null when the table is gone or has no lake. */
  async runNow(): Promise<TableTiering | null> {
    return this.exclusively(async () => {
      const table = await this.table();
      return table && this.round(table);
    });
  }

  /**
   * Drops from the lake the files of the dropped incarnations of the
   * partition `spec` (canonical) names, after any round running; null when
   * the table is gone or has no lake.
   */
  async dropPartition(tableId: string, spec: string): Promise<LakePartitionDrop | null> {
    store.setTableId(this.ctx.storage.sql, tableId);
    return this.exclusively(async () => {
      const table = await this.table();
      return table && dropPartitionFromLake(this.env, this.ctx.storage.sql, table, spec, Date.now());
    });
  }

  override async alarm(): Promise<void> {
    await this.exclusively(async () => {
      const table = await this.table();
      if (!table) return;
      await this.round(table);
      await this.ctx.storage.setAlarm(Date.now() + freshnessMs(table.definition));
    });
  }

  private async round(table: TableEntry): Promise<TableTiering> {
    // This object remembers whether its last round failed, so a healthy table costs no catalog write to clear an error.
    const errorOnRecord = (await this.ctx.storage.get<boolean>("failed")) ?? true;
    const result = await tableRound(this.env, this.ctx.storage.sql, table, { nowMs: Date.now(), errorOnRecord });
    await this.ctx.storage.put("failed", result.kind === "failed");
    return result;
  }

  /** The table this object coordinates, while it exists and has a lake. */
  private async table(): Promise<TableEntry | null> {
    const tableId = store.tableId(this.ctx.storage.sql);
    const table = tableId === undefined ? null : await getTableById(this.env.CATALOG, tableId);
    return table && isLakeEnabled(table.definition) ? table : null;
  }

  private exclusively<T>(work: () => Promise<T>): Promise<T> {
    const next = this.running.then(work, work);
    this.running = next.catch(() => {});
    return next;
  }
}

/** The coordinator of one table. */
export function lakeSchedulerStub(env: Env, tableId: string): DurableObjectStub<LakeScheduler> {
  return env.LAKE_SCHEDULER.get(env.LAKE_SCHEDULER.idFromName(tableId));
}
