/**
 * The Tablet Durable Object: one bucket of one table (of one partition of a
 * partitioned table). A thin shell over the plain functions in `log.ts`
 * (the log), `kv.ts` (primary-key state),
 * `subscribers.ts` (hibernatable sockets; `fetch` admits at most
 * `subscribersPerTabletMax`, and `subscribersPerTokenMax` of one token), `retention.ts` and `counters.ts` (usage for
 * metrics); its storage is SQLite (see `schema.ts`). Its RPC methods take
 * and answer what `contract.ts` declares.
 *
 * Invariants: a write is answered only after its transaction committed, and
 * the runtime's output gate holds the answer until the write is durable, so
 * every offset a client sees survives a crash. Reads run between writes,
 * never inside one, so a lookup after an acknowledged write sees it.
 * Retention drops only log older than `table.log.ttl`, and of a lake table
 * only what is tiered (`markTiered`), never untiered data, whatever its age.
 */
import { DurableObject } from "cloudflare:workers";
import { migrate } from "./schema.ts";
import * as queries from "./queries.ts";
import type {
  AppendRequest, AppendResult, Dropped, KvScanRequest, KvScanResult, LookupRequest, LookupResult, MetricsResult,
  ReadRequest, ReadResult, StatusResult, TabletStatus,
} from "./contract.ts";
import { appendFrames, previousAnswer, readPage } from "./log.ts";
import { applyPrimaryKeyWrite, lookupRows, scanRows } from "./kv.ts";
import { columnFromSpec } from "../table/schema.ts";
import { pageToWire } from "../log/page.ts";
import type { TabletSubscription } from "../protocol/subscription.ts";
import { subscribersPerTokenMax, subscriptionHeader } from "../protocol/subscription.ts";
import type { EncodedPages } from "./subscribers.ts";
import { acceptSubscriber, acknowledge, endSubscribers, principalTag, pump, pushBudget, startOffset } from "./subscribers.ts";
import { errorResponse } from "../errors.ts";
import { requestLimits } from "../vocabulary.ts";
import { Counters } from "./counters.ts";
import { Retention } from "./retention.ts";

const dropped: Dropped = { kind: "dropped" };
const droppedMessage = "this table or partition was dropped";

export class Tablet extends DurableObject<Env> {
  private offsets: queries.TabletOffsets;
  private dropped: boolean;
  private readonly counters: Counters;
  private readonly retention: Retention;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    const sql = ctx.storage.sql;
    this.counters = new Counters(sql);
    [this.offsets, this.dropped] = ctx.storage.transactionSync(() => {
      migrate(sql);
      return [queries.readOffsets(sql), queries.isDropped(sql)] as const;
    });
    this.retention = new Retention(ctx);
    // Clients holding a socket directly keep it alive with pings; answered without waking the object.
    ctx.setWebSocketAutoResponse(new WebSocketRequestResponsePair("ping", "pong"));
  }

  async append(request: AppendRequest): Promise<AppendResult> {
    if (this.dropped) return dropped;
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
    await this.retention.keep(request.retention, this.offsets);
    return result;
  }

  /**
   * Subscription upgrades, from the Worker's relay or handed on by the Worker
   * for a client's single-bucket subscription; the spec is in the
   * `Floe-Subscription` header.
   */
  override async fetch(request: Request): Promise<Response> {
    if (this.dropped) return errorResponse("not_found", droppedMessage);
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
    // One token's share, so that no client takes every slot: 429, this client must close some first.
    if (this.ctx.getWebSockets(principalTag(subscription.principal)).length >= subscribersPerTokenMax) {
      return errorResponse(
        "too_many_requests",
        `bucket ${subscription.bucket} already serves ${subscribersPerTokenMax} subscriptions of this token, the most one token may hold on a bucket; close some first`,
      );
    }
    const start = startOffset(this.ctx.storage.sql, this.offsets, subscription.start);
    if (typeof start !== "number") {
      return errorResponse("bad_request", `bucket ${subscription.bucket}: ${start.error}`);
    }
    const { client, server } = acceptSubscriber(this.ctx, subscription, start, this.offsets.highWatermark);
    pump(server, this.ctx.storage.sql, this.offsets, new Map(), pushBudget(this.ctx.getWebSockets()));
    return new Response(null, { status: 101, webSocket: client });
  }

  override webSocketMessage(ws: WebSocket, message: string | ArrayBuffer): void {
    if (acknowledge(ws, message)) pump(ws, this.ctx.storage.sql, this.offsets, new Map(), pushBudget(this.ctx.getWebSockets()));
  }

  override webSocketClose(): void {
    // The runtime completes the close handshake itself (web_socket_auto_reply_to_close); nothing is kept per socket.
  }

  /** Sends every subscriber what it is due; subscribers at one position share each encoded message. */
  private pushToSubscribers(): void {
    const pages: EncodedPages = new Map();
    const sockets = this.ctx.getWebSockets();
    const budget = pushBudget(sockets);
    for (const ws of sockets) pump(ws, this.ctx.storage.sql, this.offsets, pages, budget);
  }

  read(request: ReadRequest): ReadResult {
    if (this.dropped) return dropped;
    // The Worker names the bucket when it decodes the page; the Tablet does not need to know its own.
    const filter = request.filter?.map((p) => ({ ...p, column: columnFromSpec(p.column) }));
    const page = readPage(this.ctx.storage.sql, this.offsets, -1, { ...request, columns: request.columns.map(columnFromSpec), filter });
    if (page === null) {
      const { logStartOffset, highWatermark } = this.offsets;
      return { kind: "offset_out_of_range", logStartOffset, highWatermark };
    }
    return { kind: "page", page: pageToWire(page) };
  }

  status(): StatusResult {
    if (this.dropped) return dropped;
    return { kind: "status", ...this.currentStatus() };
  }

  private currentStatus(): TabletStatus {
    const { logStartOffset, highWatermark, tieredOffset } = this.offsets;
    return { logStartOffset, highWatermark, tieredOffset };
  }

  metrics(): MetricsResult {
    if (this.dropped) return dropped;
    const { tieredOffset, highWatermark } = this.offsets;
    // Untiered data is never dropped, so below the high watermark the batch holding `tieredOffset` is stored.
    const oldestUntieredCommitMs = tieredOffset < highWatermark ? (queries.commitMsAt(this.ctx.storage.sql, tieredOffset) ?? null) : null;
    return {
      kind: "metrics",
      ...this.counters.read(),
      ...this.currentStatus(),
      subscribers: this.ctx.getWebSockets().length,
      oldestUntieredCommitMs,
    };
  }

  /** Records how far the lake holds this bucket, then applies retention. */
  async markTiered(tieredOffset: number): Promise<StatusResult> {
    if (this.dropped) return dropped;
    this.offsets = await this.retention.markTiered(this.offsets, tieredOffset);
    return this.status();
  }

  override async alarm(): Promise<void> {
    if (this.dropped) return;
    this.offsets = await this.retention.onAlarm(this.offsets);
  }

  /** The current rows of the given encoded keys, in order. */
  lookup(request: LookupRequest): LookupResult {
    if (this.dropped) return dropped;
    this.counters.recordLookup(request.keys.length);
    return { kind: "rows", ...lookupRows(this.ctx.storage.sql, request) };
  }

  /** Current rows in key order whose key starts with `prefix` (every row when empty), one page at a time. */
  scanKv(request: KvScanRequest): KvScanResult {
    if (this.dropped) return dropped;
    if (request.isLookup) this.counters.recordLookup(0);
    return { kind: "rows", ...scanRows(this.ctx.storage.sql, request), highWatermark: this.offsets.highWatermark };
  }

  /**
   * Deletes everything this Tablet stores and leaves a tombstone; used when
   * its table or partition is dropped. Its subscriptions end with `gone`,
   * saying what was dropped (`what`, e.g. "partition dt=1 of shop.events").
   */
  async drop(what: string): Promise<void> {
    this.dropped = true;
    endSubscribers(this.ctx.getWebSockets(), { code: "gone", message: `${what} was dropped` });
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
