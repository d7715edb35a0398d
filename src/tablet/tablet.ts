/**
 * The Tablet Durable Object: one bucket of one table. A thin shell over the
 * plain functions in `log.ts`; its storage is SQLite (see `schema.ts`).
 *
 * Invariant: an append is answered only after its transaction committed, and
 * the runtime's output gate holds the answer until the write is durable, so
 * every offset a client sees survives a crash.
 */
import { DurableObject } from "cloudflare:workers";
import { migrate } from "./schema.ts";
import * as queries from "./queries.ts";
import type { AppendRequest, AppendResult, ReadRequest, ReadResult } from "./log.ts";
import { appendBatches, readLog } from "./log.ts";

export interface TabletStatus {
  logStartOffset: number;
  highWatermark: number;
}

export class Tablet extends DurableObject<Env> {
  private offsets: queries.TabletOffsets;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    const sql = ctx.storage.sql;
    this.offsets = ctx.storage.transactionSync(() => {
      migrate(sql);
      return queries.readOffsets(sql);
    });
  }

  append(request: AppendRequest): AppendResult {
    const sql = this.ctx.storage.sql;
    const { result, offsets } = this.ctx.storage.transactionSync(() =>
      appendBatches(sql, this.offsets, request, Date.now()),
    );
    this.offsets = offsets;
    return result;
  }

  read(request: ReadRequest): ReadResult {
    return readLog(this.ctx.storage.sql, this.offsets, request);
  }

  status(): TabletStatus {
    const { logStartOffset, highWatermark } = this.offsets;
    return { logStartOffset, highWatermark };
  }

  /** Deletes everything this Tablet stores; used when its table is dropped. */
  async drop(): Promise<void> {
    await this.ctx.storage.deleteAll();
    this.offsets = { logStartOffset: 0, highWatermark: 0, lastCommitMs: 0 };
  }
}
