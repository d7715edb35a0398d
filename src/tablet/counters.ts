/**
 * A Tablet's usage counters for `GET /v1/metrics`: rows and Arrow bytes
 * written, lookup calls and keys looked up, kept in its SQLite so they
 * survive restarts.
 *
 * Invariants: write counts change inside the append's own transaction, so
 * they count exactly the writes that committed, and a retry answered from
 * the writer's memory is not counted again. Lookups are reads, and any
 * storage write makes the output gate hold the answer until it is durable;
 * so lookup counts gather in memory and are persisted in one write at most
 * `lookupCountsFlushMs` later. A crash can lose that last window of lookup
 * counts, never a write count.
 */
import type { LogFrames } from "../log/frames.ts";
import * as queries from "./queries.ts";

export const lookupCountsFlushMs = 1_000;

export class Counters {
  private readonly sql: SqlStorage;
  private pendingCalls = 0;
  private pendingKeys = 0;
  private flushTimer: ReturnType<typeof setTimeout> | undefined;

  constructor(sql: SqlStorage) {
    this.sql = sql;
  }

  /** Counts a write's input rows and record-batch bytes; call inside the append's transaction. */
  recordWrite(frames: LogFrames): void {
    let rows = 0;
    let bytes = 0;
    for (const batch of frames.batches) {
      rows += batch.recordCount;
      bytes += batch.ipcBatch.byteLength;
    }
    queries.addWriteCounts(this.sql, rows, bytes);
  }

  recordLookup(keys: number): void {
    this.pendingCalls += 1;
    this.pendingKeys += keys;
    this.flushTimer ??= setTimeout(() => this.flush(), lookupCountsFlushMs);
  }

  /** The stored counters plus the lookups not yet persisted. */
  read(): queries.TabletCounters {
    const stored = queries.readCounters(this.sql);
    return { ...stored, lookupCalls: stored.lookupCalls + this.pendingCalls, keysLookedUp: stored.keysLookedUp + this.pendingKeys };
  }

  /** Forgets pending lookups, for a Tablet whose storage is being deleted. */
  discard(): void {
    clearTimeout(this.flushTimer);
    this.flushTimer = undefined;
    this.pendingCalls = 0;
    this.pendingKeys = 0;
  }

  private flush(): void {
    this.flushTimer = undefined;
    queries.addLookupCounts(this.sql, this.pendingCalls, this.pendingKeys);
    this.pendingCalls = 0;
    this.pendingKeys = 0;
  }
}
