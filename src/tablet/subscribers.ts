/**
 * A Tablet's subscribers: hibernatable WebSockets, each with its position in
 * the log kept in its attachment, so it survives hibernation.
 *
 * Every push reads from the log at the subscriber's position, the same way
 * for catching up and for live batches, so a subscriber never misses a row
 * or sees one twice, whether it starts far behind, falls behind, or the
 * object was evicted in between. Flow control: at most `windowRows` rows
 * beyond the subscriber's last ack are ever sent; the rest stays in the log
 * (SQLite), not in memory, until the subscriber acknowledges.
 */
import { pageFromRange } from "../read/log-page.ts";
import type { Column } from "../table/schema.ts";
import { parseType } from "../table/types.ts";
import type { BucketStart, ErrorMessage, SubscribedMessage, TabletSubscription } from "../subscribe/protocol.ts";
import { catchUpRows, windowRows } from "../subscribe/protocol.ts";
import { encodeBatchMessage } from "../subscribe/batch-message.ts";
import { readLog } from "./log.ts";
import * as queries from "./queries.ts";

/** What a subscriber socket's attachment holds. */
interface SubscriberState {
  bucket: number;
  columns: TabletSubscription["columns"];
  format: "json" | "arrow";
  /** The next offset to send. */
  position: number;
  /** Every row below this offset is acknowledged. */
  acked: number;
}

const catchUpBytesMax = 4 * 1024 * 1024;

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

/** Accepts a subscriber socket positioned at `position`; the caller pumps it. */
export function acceptSubscriber(
  ctx: DurableObjectState,
  subscription: TabletSubscription,
  position: number,
  highWatermark: number,
): { client: WebSocket; server: WebSocket } {
  const { 0: client, 1: server } = new WebSocketPair();
  ctx.acceptWebSocket(server);
  const state: SubscriberState = {
    bucket: subscription.bucket,
    columns: subscription.columns,
    format: subscription.format,
    position,
    acked: position,
  };
  server.serializeAttachment(state);
  const subscribed: SubscribedMessage = { type: "subscribed", bucket: subscription.bucket, offset: position, highWatermark };
  server.send(JSON.stringify(subscribed));
  return { client, server };
}

/** Applies a subscriber's message (`{ ack: offset }`); answers whether it was understood. */
export function acknowledge(ws: WebSocket, message: string | ArrayBuffer): boolean {
  if (typeof message !== "string") return false;
  let parsed: unknown;
  try {
    parsed = JSON.parse(message);
  } catch {
    return false;
  }
  const ack = (parsed as { ack?: unknown }).ack;
  if (typeof ack !== "number" || !Number.isSafeInteger(ack)) return false;
  const state = ws.deserializeAttachment() as SubscriberState;
  state.acked = Math.max(state.acked, Math.min(ack, state.position));
  ws.serializeAttachment(state);
  return true;
}

/** Encoded messages by position, projection and format, shared between the subscribers of one push. */
export type EncodedPages = Map<string, { message: string | Uint8Array; rowCount: number }>;

/**
 * Sends a subscriber what it is due: rows from its position up to the high
 * watermark, within its window. `pages` shares encoded messages between
 * subscribers at the same position with the same projection and format.
 */
export function pump(ws: WebSocket, sql: SqlStorage, offsets: queries.TabletOffsets, pages: EncodedPages): void {
  if (ws.readyState !== WebSocket.OPEN) return;
  const state = ws.deserializeAttachment() as SubscriberState | null;
  if (!state) return;
  const start = state.position;
  while (state.position < offsets.highWatermark && state.position - state.acked < windowRows) {
    const limit = Math.min(catchUpRows, windowRows - (state.position - state.acked));
    const key = `${state.position}|${limit}|${state.format}|${state.columns.map((c) => c.name).join(",")}`;
    let encoded = pages.get(key);
    if (encoded === undefined) {
      const range = readLog(sql, offsets, { offset: state.position, rowsMax: limit, bytesMax: catchUpBytesMax });
      if (range.kind !== "batches") {
        // The subscriber's position was dropped after tiering; it must resume from the lake's offsets.
        const error: ErrorMessage = {
          type: "error",
          error: { code: "not_found", message: `bucket ${state.bucket}: offset ${state.position} was dropped from the log after tiering; it starts at ${range.logStartOffset}` },
        };
        ws.send(JSON.stringify(error));
        ws.close(1008, "position dropped after tiering");
        return;
      }
      const page = pageFromRange(state.bucket, range, columnsOf(state), limit);
      if (page.rowCount === 0) break;
      encoded = { message: encodeBatchMessage(page, state.format), rowCount: page.rowCount };
      pages.set(key, encoded);
    }
    ws.send(encoded.message);
    state.position += encoded.rowCount;
  }
  if (state.position !== start) ws.serializeAttachment(state);
}

function columnsOf(state: SubscriberState): Column[] {
  return state.columns.map((c, i) => ({ id: i + 1, name: c.name, type: parseType(c.type), nullable: c.nullable }));
}
