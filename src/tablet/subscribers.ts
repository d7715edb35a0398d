/**
 * A Tablet's subscribers: hibernatable WebSockets, each with its position in
 * the log and what it has in flight kept in its attachment, so it survives
 * hibernation.
 *
 * Every push reads from the log at the subscriber's position, the same way
 * for catching up and for live batches, so a subscriber never misses a row
 * or sees one twice, whether it starts far behind, falls behind, or the
 * object was evicted in between. Flow control (protocol/subscription.ts):
 * what is sent beyond a subscriber's last ack is bounded in rows, bytes and
 * messages, per subscriber and for the Tablet as a whole; the rest stays in
 * the log (SQLite), not in memory, until acknowledged. Each socket is
 * tagged with its principal (`principalTag`), so the sockets of one token
 * are counted without reading every attachment. While the object is awake
 * each socket's state is read from its attachment once and kept beside the
 * socket; every change is written back, so waking from hibernation finds it.
 */
import { columnFromSpec } from "../table/schema.ts";
import type { BucketStart, ErrorMessage, SubscribedMessage, TabletSubscription } from "../protocol/subscription.ts";
import { catchUpRows, messageBytesMax, messagesInFlightMax, tabletInFlightBytesMax, windowRows } from "../protocol/subscription.ts";
import { encodeBatchMessage, messageBytes } from "../protocol/messages.ts";
import { readPage } from "./log.ts";
import * as queries from "./queries.ts";

/** What a subscriber socket's attachment holds. */
interface SubscriberState {
  /** The Tablet's partition (its spec), named in every message; absent for an unpartitioned table. */
  partition?: string;
  bucket: number;
  columns: TabletSubscription["columns"];
  format: "json" | "arrow";
  windowBytes: number;
  heldBy: TabletSubscription["heldBy"];
  principal: string;
  /** The next offset to send. */
  position: number;
  /** Every row below this offset is acknowledged. */
  acked: number;
  /** Per message sent and not yet acknowledged: the offset after its last row, and its size, flattened. */
  inFlight: number[];
}

/** The states of the sockets this instance has read or accepted, by socket (a socket restored from hibernation is a new object). */
const states = new WeakMap<WebSocket, SubscriberState>();

function stateOf(ws: WebSocket): SubscriberState | null {
  let state = states.get(ws);
  if (state === undefined) {
    state = ws.deserializeAttachment() as SubscriberState | null ?? undefined;
    if (state === undefined) return null;
    states.set(ws, state);
  }
  return state;
}

function save(ws: WebSocket, state: SubscriberState): void {
  ws.serializeAttachment(state);
  states.set(ws, state);
}

/** The first offset a subscription sends, or an error message. */
export function startOffset(sql: SqlStorage, offsets: queries.TabletOffsets, start: BucketStart): number | { error: string } {
  const { logStartOffset, highWatermark } = offsets;
  if ("position" in start) return start.position === "earliest" ? logStartOffset : highWatermark;
  if ("timestampMs" in start) return Math.max(logStartOffset, queries.firstOffsetCommittedAtOrAfter(sql, start.timestampMs) ?? highWatermark);
  if (start.offset < logStartOffset || start.offset > highWatermark) {
    return { error: `offset ${start.offset} is outside the log [${logStartOffset}, ${highWatermark}]` };
  }
  return start.offset;
}

/** The hibernation tag of a principal's sockets (`ctx.getWebSockets(tag)` finds them). */
export function principalTag(principal: string): string {
  return `principal:${principal}`;
}

/** Accepts a subscriber socket positioned at `position`; the caller pumps it. */
export function acceptSubscriber(
  ctx: DurableObjectState,
  subscription: TabletSubscription,
  position: number,
  highWatermark: number,
): { client: WebSocket; server: WebSocket } {
  const { 0: client, 1: server } = new WebSocketPair();
  ctx.acceptWebSocket(server, [principalTag(subscription.principal)]);
  const state: SubscriberState = {
    ...(subscription.partition === undefined ? {} : { partition: subscription.partition }),
    bucket: subscription.bucket,
    columns: subscription.columns,
    format: subscription.format,
    windowBytes: subscription.windowBytes,
    heldBy: subscription.heldBy,
    principal: subscription.principal,
    position,
    // After a lake replay, the window goes on with what the replay has in flight.
    acked: Math.min(subscription.carried?.acked ?? position, position),
    inFlight: subscription.carried?.inFlight ?? [],
  };
  save(server, state);
  const subscribed: SubscribedMessage = {
    type: "subscribed",
    ...(subscription.partition === undefined ? {} : { partition: subscription.partition }),
    bucket: subscription.bucket,
    offset: position,
    highWatermark,
  };
  server.send(JSON.stringify(subscribed));
  return { client, server };
}

/**
 * Applies a subscriber's message: `{ ack: offset }` from the relay, or a
 * client's own `{ ack: { "<bucket>": offset } }` on a socket it holds
 * directly; answers whether it was understood.
 */
export function acknowledge(ws: WebSocket, message: string | ArrayBuffer): boolean {
  if (typeof message !== "string") return false;
  let parsed: unknown;
  try {
    parsed = JSON.parse(message);
  } catch {
    return false;
  }
  const state = stateOf(ws);
  if (!state) return false;
  const sent = (parsed as { ack?: unknown }).ack;
  const ack = typeof sent === "object" && sent !== null ? (sent as Record<string, unknown>)[String(state.bucket)] : sent;
  if (typeof ack !== "number" || !Number.isSafeInteger(ack)) return false;
  state.acked = Math.max(state.acked, Math.min(ack, state.position));
  let kept = 0;
  while (kept < state.inFlight.length && state.inFlight[kept]! <= state.acked) kept += 2;
  state.inFlight = state.inFlight.slice(kept);
  save(ws, state);
  return true;
}

/** Bytes a subscriber has in flight. */
export function bytesInFlight(ws: WebSocket): number {
  const state = stateOf(ws);
  return state ? sumSizes(state.inFlight) : 0;
}

function sumSizes(inFlight: readonly number[]): number {
  let bytes = 0;
  for (let i = 1; i < inFlight.length; i += 2) bytes += inFlight[i]!;
  return bytes;
}

/** Encoded messages by position, projection, format and size, shared between the subscribers of one push. */
export type EncodedPages = Map<string, { message: string | Uint8Array; rowCount: number; bytes: number }>;

/** The Tablet-wide budget of one push: bytes all subscribers may still have sent beyond their acks. */
export interface PushBudget {
  bytesLeft: number;
}

export function pushBudget(sockets: readonly WebSocket[]): PushBudget {
  return { bytesLeft: tabletInFlightBytesMax - sockets.reduce((sum, ws) => sum + bytesInFlight(ws), 0) };
}

/**
 * Sends a subscriber what it is due: rows from its position up to the high
 * watermark, within its window and the push's budget. `pages` shares encoded
 * messages between subscribers at the same position with the same
 * projection, format and size.
 */
export function pump(ws: WebSocket, sql: SqlStorage, offsets: queries.TabletOffsets, pages: EncodedPages, budget: PushBudget): void {
  if (ws.readyState !== WebSocket.OPEN) return;
  const state = stateOf(ws);
  if (!state) return;
  const start = state.position;
  for (;;) {
    const rowsLeft = windowRows - (state.position - state.acked);
    const bytesLeft = Math.min(state.windowBytes - sumSizes(state.inFlight), budget.bytesLeft);
    if (state.position >= offsets.highWatermark || rowsLeft <= 0 || bytesLeft <= 0 || state.inFlight.length >= 2 * messagesInFlightMax) break;
    const rowsMax = Math.min(catchUpRows, rowsLeft);
    const bytesMax = Math.min(messageBytesMax, bytesLeft);
    const key = `${state.position}|${rowsMax}|${bytesMax}|${state.format}|${state.columns.map((c) => c.name).join(",")}`;
    let encoded = pages.get(key);
    if (encoded === undefined) {
      const page = readPage(sql, offsets, state.bucket, { offset: state.position, rowsMax, bytesMax, columns: state.columns.map(columnFromSpec) });
      if (page === null) {
        // Retention dropped the subscriber's position; it must resume from the lake or a later offset.
        const error: ErrorMessage = {
          type: "error",
          error: { code: "not_found", message: `bucket ${state.bucket}: offset ${state.position} was dropped from the log by retention; it starts at ${offsets.logStartOffset}` },
        };
        ws.send(JSON.stringify(error));
        ws.close(1008, "position dropped by retention");
        return;
      }
      if (page.rowCount === 0) break;
      const message = encodeBatchMessage(page, state.format, state.partition);
      encoded = { message, rowCount: page.rowCount, bytes: messageBytes(message) };
      pages.set(key, encoded);
    }
    ws.send(encoded.message);
    state.position += encoded.rowCount;
    state.inFlight.push(state.position, encoded.bytes);
    budget.bytesLeft -= encoded.bytes;
  }
  if (state.position !== start) save(ws, state);
}

/** Ends every subscription with an error message saying why (the Tablet's table or partition is dropped), then closes it. */
export function endSubscribers(sockets: readonly WebSocket[], error: ErrorMessage["error"]): void {
  const message: ErrorMessage = { type: "error", error };
  for (const ws of sockets) {
    try {
      ws.send(JSON.stringify(message));
      ws.close(1001, error.message.slice(0, 120));
    } catch {
      // already closed
    }
  }
}
