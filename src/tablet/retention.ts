/**
 * Log retention in a Tablet: log batches older than the table's
 * `table.log.ttl` are dropped, by an alarm set for the oldest batch that
 * may go, and after the lake reports how far it holds the bucket.
 *
 * Invariants: a lake table's untiered log is never dropped, whatever its
 * age (`keepUntiered`); drops take a prefix of the log, so offsets stay
 * dense from the log start offset, which only moves forward.
 */
import * as queries from "./queries.ts";
import type { TabletOffsets } from "./queries.ts";
import type { Retention as Policy } from "./contract.ts";

export class Retention {
  private readonly ctx: DurableObjectState;
  private policy: Policy | undefined;
  /** When the alarm is set for, null when none; undefined until first read. */
  private alarmAtMs: number | null | undefined;

  constructor(ctx: DurableObjectState) {
    this.ctx = ctx;
    this.policy = queries.readRetention(ctx.storage.sql);
  }

  /** Keeps the policy a write carried and makes sure an alarm will drop what it lets go. */
  async keep(policy: Policy, offsets: TabletOffsets): Promise<void> {
    if (this.policy?.ttlMs !== policy.ttlMs || this.policy.keepUntiered !== policy.keepUntiered) {
      queries.writeRetention(this.ctx.storage.sql, policy);
      this.policy = policy;
      await this.schedule(offsets);
    } else if ((this.alarmAtMs ??= await this.ctx.storage.getAlarm()) === null) {
      await this.schedule(offsets);
    }
  }

  /** Records that the lake holds the bucket up to `tieredOffset`, then drops what may go. */
  async markTiered(offsets: TabletOffsets, tieredOffset: number): Promise<TabletOffsets> {
    const tiered = { ...offsets, tieredOffset: Math.min(offsets.highWatermark, Math.max(offsets.tieredOffset, tieredOffset)) };
    return this.apply(tiered);
  }

  onAlarm(offsets: TabletOffsets): Promise<TabletOffsets> {
    this.alarmAtMs = null;
    return this.apply(offsets);
  }

  /** Drops expired log and sets the alarm for the next batch to expire. */
  private async apply(offsets: TabletOffsets): Promise<TabletOffsets> {
    const sql = this.ctx.storage.sql;
    const updated = this.ctx.storage.transactionSync(() => {
      const next = this.policy ? this.drop(offsets, this.policy) : offsets;
      queries.writeOffsets(sql, next);
      return next;
    });
    await this.schedule(updated);
    return updated;
  }

  private drop(offsets: TabletOffsets, policy: Policy): TabletOffsets {
    const firstKept = queries.dropBatches(this.ctx.storage.sql, droppableEnd(offsets, policy), Date.now() - policy.ttlMs);
    return { ...offsets, logStartOffset: firstKept ?? offsets.highWatermark };
  }

  private async schedule(offsets: TabletOffsets): Promise<void> {
    const oldest = this.policy && queries.oldestCommitMs(this.ctx.storage.sql, droppableEnd(offsets, this.policy));
    const at = oldest === undefined ? null : oldest + this.policy!.ttlMs;
    if (at === null || at === this.alarmAtMs) return;
    await this.ctx.storage.setAlarm(at);
    this.alarmAtMs = at;
  }
}

/** Batches ending at or below this offset may be dropped once expired. */
function droppableEnd(offsets: TabletOffsets, policy: Policy): number {
  return policy.keepUntiered ? offsets.tieredOffset : offsets.highWatermark;
}
