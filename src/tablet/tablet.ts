/**
 * The Tablet Durable Object: one bucket of one table. A thin shell over the
 * plain functions in `log.ts` (the log), `kv.ts` (primary-key state),
 * `subscribers.ts` (hibernatable sockets; `fetch` admits at most
 * `subscribersPerTabletMax`) and `counters.ts` (usage for metrics); its
 * storage is SQLite (see `schema.ts`).
 *
 * Invariants: a write is answered only after its transaction committed, and
 * the runtime's output gate holds the answer until the write is durable, so
 * every offset a client sees survives a crash. Reads run between writes,
 * never inside one, so a lookup after an acknowledged write sees it.
 * Retention drops only log that is tiered (`markTiered`), never untiered
 * data, whatever its age.
 */
import { DurableObject } from "cloudflare:workers";
import { migrate } from "./schema.ts";
import * as queries from "./queries.ts";
import type { LogFrames } from "./frames.ts";
import type { AppendResult, ReadRequest, ReadResult, WriterSeq } from "./log.ts";
import { appendFrames, previousAnswer, readLog } from "./log.ts";
import type { PrimaryKeyWrite } from "./kv.ts";
import { applyPrimaryKeyWrite, keyId } from "./kv.ts";
import { prefixEnd } from "../table/keys.ts";
import type { TabletSubscription } from "../subscribe/protocol.ts";
import { subscriptionHeader } from "../subscribe/protocol.ts";
import type { EncodedPages } from "./subscribers.ts";
import { acceptSubscriber, acknowledge, pump, startOffset } from "./subscribers.ts";
import { errorResponse } from "../errors.ts";
import { requestLimits } from "../vocabulary.ts";
import { Counters } from "./counters.ts";

export interface AppendRequest extends LogFrames {
  writer?: WriterSeq;
  /** Present for primary-key tables: the frames hold input rows, and the log gets their changes. */
  primaryKey?: PrimaryKeyWrite;
}

export interface TabletStatus {
  logStartOffset: number;
  highWatermark: number;
}

/** What `GET /v1/metrics` reports of one bucket. */
export interface TabletMetrics extends queries.TabletCounters {
  /** Open subscriber sockets (one per relayed client subscription to this bucket). */
  subscribers: number;
  logStartOffset: number;
  highWatermark: number;
  tieredOffset: number;
  /** When the oldest row not yet in the lake was committed; null when the lake holds every row. */
  oldestUntieredCommitMs: number | null;
}

export interface KvSnapshot {
  /** The log offset the rows are current at. */
  highWatermark: number;
  rows: string[];
  truncated: boolean;
}

/** The message a dropped Tablet answers every call with; see `catalog/cache.ts`. */
export const tableDroppedMessage = "floe: this table was dropped";

export class Tablet extends DurableObject<Env> {
  private offsets: queries.TabletOffsets;
  private dropped: boolean;
  private readonly counters: Counters;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    const sql = ctx.storage.sql;
    this.counters = new Counters(sql);
    [this.offsets, this.dropped] = ctx.storage.transactionSync(() => {
      migrate(sql);
      return [queries.readOffsets(sql), queries.isDropped(sql)] as const;
    });
  }

  private assertLive(): void {
    if (this.dropped) throw new Error(tableDroppedMessage);
  }

  append(request: AppendRequest): AppendResult {
    this.assertLive();
    const sql = this.ctx.storage.sql;
    const previousHighWatermark = this.offsets.highWatermark;
    const result = this.ctx.storage.transactionSync(() => {
      const previous = previousAnswer(sql, request.writer);
      if (previous) return previous;
      this.counters.recordWrite(request);
      const frames = request.primaryKey ? applyPrimaryKeyWrite(sql, request.primaryKey, request) : request;
      const appended = appendFrames(sql, this.offsets, frames, request.writer, Date.now());
      this.offsets = appended.offsets;
      return appended.result;
    });
    // Pushed now, released with the answer: the output gate holds both until the write is durable.
    if (this.offsets.highWatermark !== previousHighWatermark) this.pushToSubscribers();
    return result;
  }

  /** WebSocket upgrades from the subscription relay; the spec is in the `Floe-Subscription` header. */
  override async fetch(request: Request): Promise<Response> {
    if (this.dropped) return errorResponse("not_found", tableDroppedMessage);
    const spec = request.headers.get(subscriptionHeader);
    if (request.headers.get("upgrade")?.toLowerCase() !== "websocket" || spec === null) {
      return errorResponse("bad_request", "a Tablet only accepts subscription upgrades");
    }
    const subscription = JSON.parse(spec) as TabletSubscription;
    const subscribers = this.ctx.getWebSockets().length;
    if (subscribers >= requestLimits.subscribersPerTabletMax) {
      // 503, not 429: the bucket is full for every client, not just this one; the relay forwards the error.
      return errorResponse("unavailable", `bucket ${subscription.bucket} already has ${subscribers} subscribers, the most one Tablet serves; retry later`);
    }
    const start = startOffset(this.ctx.storage.sql, this.offsets, subscription.start);
    if (typeof start !== "number") {
      return errorResponse("bad_request", `bucket ${subscription.bucket}: ${start.error}`);
    }
    const { client, server } = acceptSubscriber(this.ctx, subscription, start, this.offsets.highWatermark);
    pump(server, this.ctx.storage.sql, this.offsets, new Map());
    return new Response(null, { status: 101, webSocket: client });
  }

  override webSocketMessage(ws: WebSocket, message: string | ArrayBuffer): void {
    if (acknowledge(ws, message)) pump(ws, this.ctx.storage.sql, this.offsets, new Map());
  }

  override webSocketClose(): void {
    // The runtime completes the close handshake itself (web_socket_auto_reply_to_close); nothing is kept per socket.
  }

  /** Sends every subscriber what it is due; subscribers at one position share each encoded message. */
  private pushToSubscribers(): void {
    const pages: EncodedPages = new Map();
    for (const ws of this.ctx.getWebSockets()) pump(ws, this.ctx.storage.sql, this.offsets, pages);
  }

  read(request: ReadRequest): ReadResult {
    this.assertLive();
    return readLog(this.ctx.storage.sql, this.offsets, request);
  }

  status(): TabletStatus {
    this.assertLive();
    const { logStartOffset, highWatermark } = this.offsets;
    return { logStartOffset, highWatermark };
  }

  metrics(): TabletMetrics {
    this.assertLive();
    const { logStartOffset, highWatermark, tieredOffset } = this.offsets;
    // Untiered data is never dropped, so below the high watermark the batch holding `tieredOffset` is stored.
    const oldestUntieredCommitMs = tieredOffset < highWatermark ? (queries.commitMsAt(this.ctx.storage.sql, tieredOffset) ?? null) : null;
    return {
      ...this.counters.read(),
      subscribers: this.ctx.getWebSockets().length,
      logStartOffset,
      highWatermark,
      tieredOffset,
      oldestUntieredCommitMs,
    };
  }

  /**
   * Records how far the lake holds this bucket, then drops log data that is
   * both tiered and older than `ttlMs`. Untiered data is never dropped.
   */
  markTiered(tieredOffset: number, ttlMs: number): TabletStatus {
    this.assertLive();
    const sql = this.ctx.storage.sql;
    this.offsets = this.ctx.storage.transactionSync(() => {
      const tiered = Math.min(this.offsets.highWatermark, Math.max(this.offsets.tieredOffset, tieredOffset));
      const firstKept = queries.dropTieredBatches(sql, tiered, Date.now() - ttlMs);
      const updated = { ...this.offsets, tieredOffset: tiered, logStartOffset: firstKept ?? this.offsets.highWatermark };
      queries.writeOffsets(sql, updated);
      return updated;
    });
    return this.status();
  }

  /** The current rows of the given encoded keys, or null where a key has none, in order. */
  lookup(keys: Uint8Array[]): (string | null)[] {
    this.assertLive();
    this.counters.recordLookup(keys.length);
    const stored = queries.getKvRows(this.ctx.storage.sql, keys, keyId);
    return keys.map((key) => stored.get(keyId(key)) ?? null);
  }

  /** Current rows whose encoded key starts with `prefix` (every row when empty), at most `limit`. */
  scanKv(prefix: Uint8Array, limit: number): KvSnapshot {
    this.assertLive();
    // An empty prefix is the hot scan, not a lookup.
    if (prefix.length > 0) this.counters.recordLookup(0);
    const rows = queries.scanKvRows(this.ctx.storage.sql, prefix.length > 0 ? prefix : undefined, prefixEnd(prefix), limit + 1);
    return { highWatermark: this.offsets.highWatermark, rows: rows.slice(0, limit), truncated: rows.length > limit };
  }

  /** Deletes everything this Tablet stores and leaves a tombstone; used when its table is dropped. */
  async drop(): Promise<void> {
    this.dropped = true;
    this.counters.discard();
    await this.ctx.storage.deleteAll();
    const sql = this.ctx.storage.sql;
    this.offsets = this.ctx.storage.transactionSync(() => {
      migrate(sql);
      queries.insertTombstone(sql, Date.now());
      return queries.readOffsets(sql);
    });
  }
}
