/**
 * A typed client for Floe subscriptions with automatic resume: it tracks
 * the next offset of every bucket, acknowledges each batch once handled, and
 * after a dropped connection resubscribes from exactly those offsets, so
 * the handler sees every row once and in order per bucket.
 *
 * Works wherever a standard WebSocket exists (Node 22+, browsers, Workers);
 * `connect` lets a caller supply the socket another way.
 */
import * as arrow from "apache-arrow";
import type { BatchMessage, ErrorMessage, From, SnapshotMessage, SubscribeMessage, SubscribedMessage } from "../protocol/subscription.ts";
import { arrowMetadataKeys, windowRows } from "../protocol/subscription.ts";
import { websocketAuth } from "../vocabulary.ts";

const ackDelayMs = 50;

export interface ReceivedBatch {
  bucket: number;
  /** For a snapshot part (no changelog offsets), `offset` and `offset - 1`. */
  firstOffset: number;
  lastOffset: number;
  highWatermark: number;
  /** JSON rows (format "json"). */
  rows?: BatchMessage["rows"];
  /** The decoded Arrow table (format "arrow"). */
  table?: arrow.Table;
  /**
   * Present when the rows are part of a primary-key bucket's state as of
   * `offset` (its changelog before that was dropped after tiering), not
   * changes. The parts from `first` to `last` are the bucket's whole state:
   * at `first`, drop what you held for the bucket (a key deleted meanwhile
   * is simply absent). The changelog continues from `offset` after `last`.
   */
  snapshot?: { offset: number; first: boolean; last: boolean };
}

export interface SubscribeOptions {
  /** The subscribe URL, e.g. ws://localhost:8787/v1/databases/shop/tables/events/subscribe. */
  url: string;
  from: From;
  buckets?: number[];
  columns?: string[];
  format?: "json" | "arrow";
  onBatch(batch: ReceivedBatch): void | Promise<void>;
  /** Server-side refusals (bad subscribe message); the subscription then stops. */
  onError?(error: ErrorMessage["error"]): void;
  /** A bearer token, sent as a WebSocket subprotocol (browsers cannot set an Authorization header on a WebSocket). */
  token?: string;
  connect?(url: string, protocols?: string[]): Promise<WebSocket>;
  reconnectDelayMs?: number;
}

export interface Subscription {
  /** The next offset per bucket: where a resumed subscription starts. */
  positions(): Record<number, number>;
  close(): void;
  /** Resolves when the subscription stops for good (closed, or refused). */
  closed: Promise<void>;
}

export function subscribe(options: SubscribeOptions): Subscription {
  const positions: Record<number, number> = {};
  let socket: WebSocket | undefined;
  let stopped = false;
  let resolveClosed!: () => void;
  const closed = new Promise<void>((resolve) => (resolveClosed = resolve));
  const connect = options.connect ?? defaultConnect;
  const stop = () => {
    stopped = true;
    clearTimeout(ackTimer);
    socket?.close(1000, "client closed");
    resolveClosed();
  };

  const run = async (): Promise<void> => {
    const ws = await connect(options.url, options.token === undefined ? undefined : websocketAuth.protocolsFor(options.token));
    socket = ws;
    const resuming = Object.keys(positions).length > 0;
    const first: SubscribeMessage = {
      from: resuming ? { offsets: positions } : options.from,
      buckets: resuming ? undefined : options.buckets,
      columns: options.columns,
      format: options.format,
    };
    ws.send(JSON.stringify(first));
    let handling = Promise.resolve();
    ws.addEventListener("message", (event) => {
      const data = event.data as string | ArrayBuffer | Blob;
      handling = handling.then(async () => handle(ws, data instanceof Blob ? await data.arrayBuffer() : data));
    });
    ws.addEventListener("close", () => {
      if (!stopped) reconnect();
    });
  };
  const reconnect = () => setTimeout(() => run().catch(reconnect), options.reconnectDelayMs ?? 200);

  const handle = async (ws: WebSocket, data: unknown): Promise<void> => {
    const batch = typeof data === "string" ? JSON.parse(data) as BatchMessage | SnapshotMessage | SubscribedMessage | ErrorMessage : decodeArrow(data);
    if (batch.type === "error") {
      options.onError?.(batch.error);
      stop();
      return;
    }
    if (batch.type === "subscribed") {
      positions[batch.bucket] ??= batch.offset;
      return;
    }
    if (batch.type === "snapshot") {
      const { type: _, offset, first, last, ...rest } = batch;
      await options.onBatch({ ...rest, firstOffset: offset, lastOffset: offset - 1, snapshot: { offset, first, last } });
      if (last) positions[batch.bucket] = offset;
      return;
    }
    // After a resume, skip what was already handled: whole batches, or the first rows of one.
    const skip = Math.max(0, (positions[batch.bucket] ?? batch.firstOffset) - batch.firstOffset);
    if (batch.firstOffset + skip > batch.lastOffset) return;
    const { type: _, ...rest } = batch;
    const received: ReceivedBatch = rest;
    if (skip > 0) {
      received.firstOffset += skip;
      if (received.rows) received.rows = received.rows.slice(skip);
      if (received.table) received.table = received.table.slice(skip);
    }
    await options.onBatch(received);
    positions[batch.bucket] = batch.lastOffset + 1;
    acknowledge(ws, batch.bucket);
  };

  // Acks are lazy: at once when a quarter of the server's window is unacknowledged, else shortly after
  // the last batch, so a busy stream does not send one ack frame per batch.
  const acked: Record<number, number> = {};
  let ackTimer: ReturnType<typeof setTimeout> | undefined;
  const flushAcks = (ws: WebSocket) => {
    clearTimeout(ackTimer);
    ackTimer = undefined;
    const due = Object.fromEntries(Object.entries(positions).filter(([bucket, next]) => acked[Number(bucket)] !== next));
    if (Object.keys(due).length === 0 || ws.readyState !== WebSocket.OPEN) return;
    ws.send(JSON.stringify({ ack: due }));
    Object.assign(acked, due);
  };
  const acknowledge = (ws: WebSocket, bucket: number) => {
    if (positions[bucket]! - (acked[bucket] ?? 0) >= windowRows / 4) flushAcks(ws);
    else ackTimer ??= setTimeout(() => flushAcks(ws), ackDelayMs);
  };

  run().catch(reconnect);
  return { positions: () => ({ ...positions }), close: stop, closed };
}

type ArrowMessage = (ReceivedBatch & { type: "batch" }) | (Omit<SnapshotMessage, "rows"> & { table: arrow.Table; rows?: undefined });

function decodeArrow(data: unknown): ArrowMessage {
  const bytes = data instanceof ArrayBuffer ? new Uint8Array(data) : new Uint8Array(data as ArrayBufferLike);
  const table = arrow.tableFromIPC(bytes);
  const meta = (key: string) => Number(table.schema.metadata.get(key));
  const bucket = meta(arrowMetadataKeys.bucket);
  const highWatermark = meta(arrowMetadataKeys.highWatermark);
  if (table.schema.metadata.has(arrowMetadataKeys.snapshotOffset)) {
    const flag = (key: string) => table.schema.metadata.get(key) === "true";
    const [first, last] = [flag(arrowMetadataKeys.snapshotFirst), flag(arrowMetadataKeys.snapshotLast)];
    return { type: "snapshot", bucket, offset: meta(arrowMetadataKeys.snapshotOffset), highWatermark, first, last, table };
  }
  return {
    type: "batch",
    bucket,
    firstOffset: meta(arrowMetadataKeys.firstOffset),
    lastOffset: meta(arrowMetadataKeys.lastOffset),
    highWatermark,
    table,
  };
}

async function defaultConnect(url: string, protocols?: string[]): Promise<WebSocket> {
  const ws = new WebSocket(url, protocols);
  ws.binaryType = "arraybuffer";
  await new Promise<void>((resolve, reject) => {
    ws.addEventListener("open", () => resolve(), { once: true });
    ws.addEventListener("error", () => reject(new Error(`could not connect to ${url}`)), { once: true });
  });
  return ws;
}
