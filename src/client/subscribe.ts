/**
 * A typed client for Floe subscriptions with automatic resume: it tracks
 * the next offset of every bucket (of every partition, for a partitioned
 * table: `positions.ts`), acknowledges each batch (and each part of a
 * primary-key state replayed from the lake) once handled, and after a
 * dropped connection resubscribes from exactly those offsets, so the
 * handler sees every row once and in order per bucket.
 *
 * A partitioned table's subscription follows the partition `partition`
 * names, or else every partition, also those created after it started
 * (docs/partitions.md#reading). Following every partition, each batch
 * names its partition, acks and resumed offsets are keyed by partition and
 * then bucket, and a partition dropped under the subscription ends its
 * stream alone: `onPartitionDropped` is told, its positions are forgotten,
 * and the subscription goes on.
 *
 * Resume covers every bucket first asked for. A bucket whose position the
 * client knows (its `subscribed` message arrived) resumes from it; one whose
 * `subscribed` message had not arrived when the connection dropped resumes
 * from the original start. The resume says both in one message,
 * `from: { offsets: <known positions>, else: <original from> }`, and keeps
 * the original `buckets`; an original `{ offsets }` is merged instead. For
 * `"earliest"` and `{ timestamp }` the original start is exact. For
 * `"latest"` a bucket never confirmed starts at the latest offset of the
 * resume: it had not started, so rows committed while no connection stood
 * are not delivered for it. Following every partition, a partition with
 * no known position starts at its earliest offset instead (see
 * `Positions.resumeFrom`): it may have been created after the start.
 *
 * Failures are permanent or transient:
 * - permanent: an `error` message, or an HTTP 4xx answer to the upgrade
 *   (401, 403, 404, …; not 408 or 429). The subscription ends, and
 *   `onError` gets the server's code, message and status.
 * - transient: a connection refused or dropped, a 5xx, a 408 or 429. The
 *   client retries after `reconnectDelayMs` (default 200), doubling each
 *   time up to `reconnectDelayMaxMs` (default 30 s), each delay drawn from
 *   its upper half so that many clients do not retry in step, and reports
 *   every retry to `onRetry`. The delay starts over once a connection
 *   delivers a message.
 *
 * A WebSocket cannot see the HTTP status of a refused upgrade, so after a
 * failed connect the default `connect` sends a plain GET to the same URL,
 * with the token: the server answers 426 where it would have upgraded, and
 * otherwise the error it refused the upgrade with. A custom `connect`
 * reports a refusal by throwing `await UpgradeRefused.from(response)`.
 *
 * Works wherever a standard WebSocket and fetch exist (Node 22+, browsers,
 * Workers); `connect` lets a caller supply the socket another way.
 */
import * as arrow from "apache-arrow";
import type { BatchMessage, ErrorMessage, From, PartitionDroppedMessage, SnapshotMessage, SubscribeMessage, SubscribedMessage } from "../protocol/subscription.ts";
import { arrowMetadataKeys, windowRows } from "../protocol/subscription.ts";
import { errorStatus, type ErrorKind } from "../errors.ts";
import { websocketAuth } from "../vocabulary.ts";
import { FloeError } from "./errors.ts";
import { Positions, keyedByStream, oneStream } from "./positions.ts";

const ackDelayMs = 50;
/** The longest subscribe message sent with the upgrade; a longer one (many columns) goes as the first frame. */
const subscribeParamLengthMax = 2_000;

/**
 * Whether a subscribe message names exactly one bucket. A partitioned
 * table's message that names no partition follows every partition, and
 * the server relays it whatever it names; the client knows so once its
 * offsets are keyed by partition.
 */
function namesOneBucket(message: SubscribeMessage): boolean {
  if (message.buckets !== undefined) return message.buckets.length === 1;
  if (typeof message.from !== "object" || !("offsets" in message.from) || message.from.else !== undefined) return false;
  const offsets = Object.values(message.from.offsets);
  return offsets.length === 1 && typeof offsets[0] === "number";
}

function withQuery(url: string, name: string, value: string): string {
  const parsed = new URL(url);
  parsed.searchParams.set(name, value);
  return parsed.toString();
}
const reconnectDelayDefaultMs = 200;
const reconnectDelayMaxDefaultMs = 30_000;

export interface ReceivedBatch {
  /** The partition's spec (e.g. `dt=20261130`), for a partitioned table. */
  partition?: string;
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

/** Why a subscription ended for good: the server's error code and message, and the HTTP status they stand for. */
export interface SubscriptionError {
  code: string;
  message: string;
  status: number;
}

/** A transient failure, and when the client tries again. */
export interface RetryNotice {
  /** Failed attempts in a row, this one included. */
  attempt: number;
  delayMs: number;
  reason: string;
}

/** A partition dropped under a subscription that follows every partition: its stream ended, the others go on. */
export interface PartitionDropped {
  partition: string;
  error: { code: string; message: string };
}

export interface SubscribeOptions {
  /** The subscribe URL, e.g. ws://localhost:8787/v1/databases/shop/tables/events/subscribe. */
  url: string;
  /** Following every partition, `{ offsets }` are per partition, then per bucket: `{ "dt=20261130": { "0": 12 } }`. */
  from: From;
  /** A partitioned table's partition to follow (its spec, e.g. `dt=20261130`); without it, every partition is followed. */
  partition?: string;
  /** The buckets to follow (in every partition followed). */
  buckets?: number[];
  columns?: string[];
  format?: "json" | "arrow";
  onBatch(batch: ReceivedBatch): void | Promise<void>;
  /** A permanent failure (see the module header); the subscription then stops. */
  onError?(error: SubscriptionError): void;
  /** A transient failure; the client tries again after `delayMs`. */
  onRetry?(retry: RetryNotice): void;
  /** Following every partition: a partition was dropped, and its stream ended (the subscription goes on). */
  onPartitionDropped?(dropped: PartitionDropped): void;
  /** A bearer token, sent as a WebSocket subprotocol (browsers cannot set an Authorization header on a WebSocket). */
  token?: string;
  /** Opens the socket; throws `UpgradeRefused` when the server answered the upgrade with an HTTP error. */
  connect?(url: string, protocols?: string[]): Promise<WebSocket>;
  reconnectDelayMs?: number;
  reconnectDelayMaxMs?: number;
}

export interface Subscription {
  /** The next offset per bucket (of an unpartitioned table, or the partition followed): where a resumed subscription starts. */
  positions(): Record<number, number>;
  /** Following every partition: the next offset per partition and bucket. */
  partitionPositions(): Record<string, Record<number, number>>;
  close(): void;
  /** Resolves when the subscription stops for good (closed, or refused). */
  closed: Promise<void>;
}

/** The server answered the upgrade with an HTTP error instead of a WebSocket. */
export class UpgradeRefused extends Error {
  // Plain fields, not parameter properties: the CLI runs this file under Node, which only strips types.
  readonly status: number;
  readonly code: string;

  constructor(status: number, code: string, message: string) {
    super(message);
    this.status = status;
    this.code = code;
  }

  /** The refusal an HTTP answer carries: Floe's `{ error: { code, message } }`, or else its status. */
  static async from(response: Response): Promise<UpgradeRefused> {
    const { status, code, message } = await FloeError.fromResponse(response);
    return new UpgradeRefused(status, code, message);
  }

  /** Whether asking again cannot help: a client error, except a timeout (408) or too many requests (429). */
  get permanent(): boolean {
    return this.status >= 400 && this.status < 500 && this.status !== 408 && this.status !== 429;
  }
}

export function subscribe(options: SubscribeOptions): Subscription {
  const positions = new Positions();
  let socket: WebSocket | undefined;
  let stopped = false;
  let failures = 0;
  let retryTimer: ReturnType<typeof setTimeout> | undefined;
  let resolveClosed!: () => void;
  const closed = new Promise<void>((resolve) => (resolveClosed = resolve));
  const connect = options.connect ?? ((url, protocols) => openWebSocket(url, protocols, options.token));
  const stop = () => {
    stopped = true;
    clearTimeout(ackTimer);
    clearTimeout(retryTimer);
    socket?.close(1000, "client closed");
    resolveClosed();
  };
  const fail = (error: SubscriptionError) => {
    if (stopped) return;
    options.onError?.(error);
    stop();
  };
  const retry = (reason: string) => {
    if (stopped) return;
    failures++;
    const baseMs = options.reconnectDelayMs ?? reconnectDelayDefaultMs;
    const ceilingMs = Math.min(options.reconnectDelayMaxMs ?? reconnectDelayMaxDefaultMs, baseMs * 2 ** (failures - 1));
    const delayMs = Math.round(ceilingMs / 2 + (Math.random() * ceilingMs) / 2);
    options.onRetry?.({ attempt: failures, delayMs, reason });
    retryTimer = setTimeout(start, delayMs);
  };
  // A socket that fails under `send` (closed meanwhile) is a transient failure like any other.
  const start = () => void run().catch((error: unknown) => retry(String((error as Error)?.message ?? error)));

  /** Where to start: the original request, or, resuming, every bucket from its position or else its original start. */
  const firstMessage = (): SubscribeMessage => {
    const { from, partition, buckets, columns, format } = options;
    return { from: positions.empty ? from : positions.resumeFrom(from), partition, buckets, columns, format };
  };

  const run = async (): Promise<void> => {
    let ws: WebSocket;
    const message = firstMessage();
    // A one-bucket subscription sends its message with the upgrade, so the bucket's Tablet can hold the socket itself.
    const withUpgrade = namesOneBucket(message) && JSON.stringify(message).length <= subscribeParamLengthMax;
    const url = withUpgrade ? withQuery(options.url, "subscribe", JSON.stringify(message)) : options.url;
    try {
      ws = await connect(url, options.token === undefined ? undefined : websocketAuth.protocolsFor(options.token));
    } catch (error) {
      if (error instanceof UpgradeRefused && error.permanent) fail({ code: error.code, message: error.message, status: error.status });
      else retry(error instanceof UpgradeRefused ? `${error.status} ${error.code}: ${error.message}` : String((error as Error)?.message ?? error));
      return;
    }
    if (stopped) return ws.close(1000, "client closed");
    socket = ws;
    if (!withUpgrade) ws.send(JSON.stringify(message));
    // Messages are handled in order, and the close only after them: an error message followed by the
    // server's close must end the subscription, not start a retry.
    let handling = Promise.resolve();
    ws.addEventListener("message", (event) => {
      const data = event.data as string | ArrayBuffer | Blob;
      handling = handling.then(async () => handle(ws, data instanceof Blob ? await data.arrayBuffer() : data));
    });
    ws.addEventListener("close", (event) => {
      handling = handling.finally(() => retry(`connection closed (${event.code}${event.reason ? ` ${event.reason}` : ""})`));
    });
  };

  const handle = async (ws: WebSocket, data: unknown): Promise<void> => {
    if (stopped) return;
    failures = 0;
    const batch = typeof data === "string"
      ? JSON.parse(data) as BatchMessage | SnapshotMessage | SubscribedMessage | ErrorMessage | PartitionDroppedMessage
      : decodeArrow(data);
    if (batch.type === "error") {
      const { code, message } = batch.error;
      fail({ code, message, status: errorStatus[code as ErrorKind] ?? 500 });
      return;
    }
    if (batch.type === "partition_dropped") {
      positions.forget(batch.partition);
      options.onPartitionDropped?.({ partition: batch.partition, error: batch.error });
      return;
    }
    // Messages name their partition when the table is partitioned; only following every partition is it a stream of its own.
    const stream = options.partition === undefined ? batch.partition ?? oneStream : oneStream;
    if (batch.type === "subscribed") {
      if (positions.get(stream, batch.bucket) === undefined) positions.set(stream, batch.bucket, batch.offset);
      return;
    }
    if (batch.type === "snapshot") {
      const { type: _, offset, part, first, last, ...rest } = batch;
      await options.onBatch({ ...rest, firstOffset: offset, lastOffset: offset - 1, snapshot: { offset, first, last } });
      if (last) positions.set(stream, batch.bucket, offset);
      // State parts carry no offsets: they are acknowledged by count, each once handled.
      if (Number.isInteger(part) && ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify({ ack: keyedByStream(stream, { [batch.bucket]: { parts: part + 1 } }) }));
      return;
    }
    // After a resume, skip what was already handled: whole batches, or the first rows of one.
    const skip = Math.max(0, (positions.get(stream, batch.bucket) ?? batch.firstOffset) - batch.firstOffset);
    if (batch.firstOffset + skip > batch.lastOffset) return;
    const { type: _, ...rest } = batch;
    const received: ReceivedBatch = rest;
    if (skip > 0) {
      received.firstOffset += skip;
      if (received.rows) received.rows = received.rows.slice(skip);
      if (received.table) received.table = received.table.slice(skip);
    }
    await options.onBatch(received);
    positions.set(stream, batch.bucket, batch.lastOffset + 1);
    acknowledge(ws, stream, batch.bucket);
  };

  // Acks are lazy: at once when a quarter of the server's window is unacknowledged, else shortly after
  // the last batch, so a busy stream does not send one ack frame per batch.
  let ackTimer: ReturnType<typeof setTimeout> | undefined;
  const flushAcks = (ws: WebSocket) => {
    clearTimeout(ackTimer);
    ackTimer = undefined;
    if (ws.readyState !== WebSocket.OPEN) return;
    const due = positions.takeDue();
    if (due !== undefined) ws.send(JSON.stringify({ ack: due }));
  };
  const acknowledge = (ws: WebSocket, stream: string, bucket: number) => {
    if (positions.unacked(stream, bucket) >= windowRows / 4) flushAcks(ws);
    else ackTimer ??= setTimeout(() => flushAcks(ws), ackDelayMs);
  };

  start();
  return { positions: () => positions.of(oneStream), partitionPositions: () => positions.partitions(), close: stop, closed };
}

type ArrowMessage = (ReceivedBatch & { type: "batch" }) | (Omit<SnapshotMessage, "rows"> & { table: arrow.Table; rows?: undefined });

function decodeArrow(data: unknown): ArrowMessage {
  const bytes = data instanceof ArrayBuffer ? new Uint8Array(data) : new Uint8Array(data as ArrayBufferLike);
  const table = arrow.tableFromIPC(bytes);
  const meta = (key: string) => Number(table.schema.metadata.get(key));
  const partition = table.schema.metadata.get(arrowMetadataKeys.partition);
  const named = partition === undefined ? {} : { partition };
  const bucket = meta(arrowMetadataKeys.bucket);
  const highWatermark = meta(arrowMetadataKeys.highWatermark);
  if (table.schema.metadata.has(arrowMetadataKeys.snapshotOffset)) {
    const flag = (key: string) => table.schema.metadata.get(key) === "true";
    const [first, last] = [flag(arrowMetadataKeys.snapshotFirst), flag(arrowMetadataKeys.snapshotLast)];
    const part = meta(arrowMetadataKeys.snapshotPart);
    return { type: "snapshot", ...named, bucket, offset: meta(arrowMetadataKeys.snapshotOffset), part, highWatermark, first, last, table };
  }
  return {
    type: "batch",
    ...named,
    bucket,
    firstOffset: meta(arrowMetadataKeys.firstOffset),
    lastOffset: meta(arrowMetadataKeys.lastOffset),
    highWatermark,
    table,
  };
}

/** A WebSocket to `url`; when it cannot open, an error saying why (see the module header). */
async function openWebSocket(url: string, protocols: string[] | undefined, token: string | undefined): Promise<WebSocket> {
  const ws = new WebSocket(url, protocols);
  ws.binaryType = "arraybuffer";
  const opened = await new Promise<boolean>((resolve) => {
    ws.addEventListener("open", () => resolve(true), { once: true });
    ws.addEventListener("error", () => resolve(false), { once: true });
  });
  if (opened) return ws;
  let answer: Response;
  try {
    answer = await fetch(url.replace(/^ws/, "http"), { headers: token === undefined ? {} : { authorization: `Bearer ${token}` } });
  } catch {
    throw new Error(`could not connect to ${url}`);
  }
  if (answer.status !== 426) throw await UpgradeRefused.from(answer);
  // 426 Upgrade Required: the server would have upgraded, so something between (a proxy, the network) failed.
  await answer.body?.cancel();
  throw new Error(`the WebSocket to ${url} failed, though the server takes subscriptions there`);
}
