/**
 * The subscription protocol, written down once for the relay, the Tablet and
 * the client helper.
 *
 * Client → server, first message (JSON):
 *   { from: "earliest" | "latest" | { offsets: { "<bucket>": offset }, else? } | { timestamp },
 *     partition?: "<spec>", buckets?: [..], columns?: [..], format?: "json" | "arrow" }
 * A subscription of a partitioned table that names a partition
 * (`dt=20261130`) follows that one: its buckets are that partition's, and
 * when it is dropped its Tablets end the subscription with a `gone` error
 * naming it. One that names none follows every partition, also those
 * created after it started (the relay looks for them every
 * `partitionPollMs`; they start at their earliest offset); its
 * `from.offsets` are `{ "<partition>": { "<bucket>": offset } }`, and
 * what they do not name starts at `else`, or at the earliest offset; its
 * acks are `{ ack: { "<partition>": { "<bucket>": offset } } }`. A
 * partition dropped under it ends that partition's stream alone, with
 * `{ type: "partition_dropped", partition, error: { code: "gone", message } }`.
 * It holds at most `tabletsPerSubscriptionMax` Tablet sockets (partitions
 * × buckets), each with a window of `bucketWindowBytes(tabletsPerSubscriptionMax)`.
 * Every message of a partitioned table's subscription names its
 * `partition` (Arrow: `floe.partition`).
 * With `offsets` alone, `buckets` defaults to the buckets named and each
 * must be named. `else` ("earliest", "latest" or { timestamp }) starts every
 * bucket `offsets` does not name, and `buckets` then defaults to all: a
 * resuming client names the buckets it has positions for and keeps the
 * original start for the rest.
 * then `{ ack: { "<bucket>": offset } }` (every row below `offset` is processed),
 * `{ ack: { "<bucket>": { parts: n } } }` (the first `n` parts of a
 * primary-key bucket's state, below, are processed) and `"ping"` (answered
 * `"pong"`).
 *
 * The first message may instead come with the upgrade, as the `subscribe`
 * query parameter (URL-encoded JSON); the client then sends no first frame.
 * A subscription sent so that names one bucket is held by that bucket's
 * Tablet itself (one send per delivery) when it starts within the log and
 * carries no scoped token; otherwise it is served like any other.
 *
 * Server → client, first per bucket `{ type: "subscribed", bucket, offset, highWatermark }`
 * (the offset it starts at, so a client can resume exactly even before any
 * row arrives), then per committed batch and bucket, in offset order:
 *   JSON: { type: "batch", bucket, firstOffset, lastOffset, highWatermark, rows }
 *   Arrow: one binary IPC stream whose schema metadata has `floe.bucket`,
 *   `floe.first-offset`, `floe.last-offset` and `floe.high-watermark`.
 * and, when the subscription cannot go on (a bad request, a position dropped
 * after tiering, a revoked token, a full bucket, an internal failure),
 * `{ type: "error", error: { code, message } }`, then close.
 *
 * A bucket whose requested start was dropped from its log after tiering
 * begins from the lake instead. A log table's bucket gets the dropped rows
 * as ordinary batches, with their offsets. A primary-key table's bucket gets
 * its state as of the lake snapshot's offset `S`, in one or more
 *   JSON: { type: "snapshot", bucket, offset: S, highWatermark, part, first, last, rows }
 *   Arrow: an IPC stream whose metadata has `floe.snapshot-offset`,
 *   `floe.snapshot-part`, `floe.snapshot-first` and `floe.snapshot-last`
 *   besides `floe.bucket`,
 * then changelog batches from `S`. The parts from `first` to `last` are the
 * bucket's whole state: a client drops what it held for the bucket at
 * `first` (keys deleted since are not sent as deletes). Parts are numbered
 * from 0, and acknowledged by count (`{ parts: n }`), since they carry no
 * offsets.
 *
 * A Tablet serves at most `subscribersPerTokenMax` sockets opened with one
 * token (the root token and open mode count as one token each), and at most
 * `requestLimits.subscribersPerTabletMax` in all; past either, the
 * subscription is refused (`too_many_requests`, `unavailable`).
 *
 * Flow control: a bucket sends at most `windowRows` rows, `windowBytes`
 * bytes of messages and `messagesInFlightMax` messages beyond the last
 * acknowledged offset (and a Tablet at most `tabletInFlightBytesMax` to all
 * its subscribers together); then it waits for an ack and resumes from its
 * log. A replay from the lake keeps the same window: a log table's rows
 * against acknowledged offsets, and the Tablet continues the window with
 * what the replay left in flight; a primary-key state's parts against
 * acknowledged parts, and the bucket's changelog starts once every part is
 * acknowledged. So a stuck client costs the server at most its window plus one
 * message, whatever the row size: a message carries at most
 * `messageBytesMax` of Arrow data, or one row.
 */
import type { ColumnSpec } from "../table/schema.ts";

/** A start that applies to any bucket. */
export type StartPosition = "earliest" | "latest" | { timestamp: string | number };
/** Offsets per bucket; following every partition, per partition (its spec) and then per bucket. */
export type Offsets = Record<string, number> | Record<string, Record<string, number>>;
export type From = StartPosition | { offsets: Offsets; else?: StartPosition };

export interface SubscribeMessage {
  from: From;
  partition?: string;
  buckets?: number[];
  columns?: string[];
  format?: "json" | "arrow";
}

/** Where one bucket starts. */
export type BucketStart = { offset: number } | { position: "earliest" | "latest" } | { timestampMs: number };

/** What the relay asks of one Tablet (sent in the `Floe-Subscription` header). */
export interface TabletSubscription {
  /** The spec of the Tablet's partition, for a partitioned table: every message names it. */
  partition?: string;
  bucket: number;
  start: BucketStart;
  /** The projected columns, as in the table definition. */
  columns: ColumnSpec[];
  format: "json" | "arrow";
  /** Bytes of messages this bucket may have in flight (see `bucketWindowBytes`). */
  windowBytes: number;
  /** Who holds the Tablet's socket: the Worker's relay, or the client itself (a single-bucket subscription). */
  heldBy: "relay" | "client";
  /**
   * Who subscribes: the token's id, `root` or `open` (a server running open). A Tablet serves at
   * most `subscribersPerTokenMax` sockets of one principal, kept in each socket's attachment.
   */
  principal: string;
  /**
   * What a lake replay before it left in flight, so the bucket's window goes on across the two (log
   * tables): the offset the client acknowledged, and per message not yet acknowledged its end offset
   * and bytes, flattened (at most `messagesInFlightMax` of them).
   */
  carried?: { acked: number; inFlight: number[] };
}

export interface BatchMessage {
  type: "batch";
  partition?: string;
  bucket: number;
  firstOffset: number;
  lastOffset: number;
  highWatermark: number;
  rows: Record<string, unknown>[];
}

/** Part of a primary-key bucket's state as of `offset`, sent before its changelog from `offset`. */
export interface SnapshotMessage {
  type: "snapshot";
  partition?: string;
  bucket: number;
  offset: number;
  highWatermark: number;
  /** The part's number, from 0: what an ack of parts counts. */
  part: number;
  /** Whether this is the state's first part: the client replaces the bucket's state from here. */
  first: boolean;
  /** Whether this is the state's last part. */
  last: boolean;
  rows: Record<string, unknown>[];
}

export interface SubscribedMessage {
  type: "subscribed";
  partition?: string;
  bucket: number;
  offset: number;
  highWatermark: number;
}

export interface ErrorMessage {
  type: "error";
  error: { code: string; message: string };
}

/** A partition dropped under a subscription that follows every partition: its stream ends, the others go on. */
export interface PartitionDroppedMessage {
  type: "partition_dropped";
  partition: string;
  error: { code: string; message: string };
}

export const subscriptionHeader = "Floe-Subscription";
/**
 * Sockets one principal (a token, the root token, or open mode) may hold on one Tablet, a tenth of
 * `requestLimits.subscribersPerTabletMax`: so one client cannot take every slot of a bucket.
 */
export const subscribersPerTokenMax = 100;
/** Rows a bucket may have in flight (sent, not yet acknowledged) per subscriber. */
export const windowRows = 20_000;
/** Rows per message while catching up from the log. */
export const catchUpRows = 2_000;
/** Arrow bytes one message carries at most (or one row, when a row is larger). */
export const messageBytesMax = 1024 * 1024;
/** Messages a bucket may have in flight per subscriber (the socket's attachment records each until acked). */
export const messagesInFlightMax = 64;
/** Bytes of messages one subscription may have in flight over all its buckets. */
export const subscriptionWindowBytes = 16 * 1024 * 1024;
/** The least window a bucket of a many-bucket subscription gets. */
const bucketWindowBytesMin = 64 * 1024;
/** Bytes of messages a Tablet has in flight to all its subscribers together. */
export const tabletInFlightBytesMax = 64 * 1024 * 1024;

/** Each bucket's share of a subscription's window. */
export function bucketWindowBytes(buckets: number): number {
  return Math.max(bucketWindowBytesMin, Math.floor(subscriptionWindowBytes / buckets));
}
/**
 * Tablet sockets (partitions × buckets) one subscription that follows
 * every partition holds at most; each bucket's window is then
 * `bucketWindowBytes(tabletsPerSubscriptionMax)`, 64 KiB, so the whole
 * subscription has at most its 16 MiB in flight.
 */
export const tabletsPerSubscriptionMax = 256;
/** How often a subscription that follows every partition asks the catalog for partitions created since it last looked. */
export const partitionPollMs = 5_000;
/** A client silent for this long (no ping, no ack) is considered gone. */
export const idleTimeoutMs = 120_000;
export const arrowMetadataKeys = {
  partition: "floe.partition",
  bucket: "floe.bucket",
  firstOffset: "floe.first-offset",
  lastOffset: "floe.last-offset",
  highWatermark: "floe.high-watermark",
  snapshotOffset: "floe.snapshot-offset",
  snapshotPart: "floe.snapshot-part",
  snapshotFirst: "floe.snapshot-first",
  snapshotLast: "floe.snapshot-last",
} as const;
