/**
 * The union subscribe: a subscription whose start lies below a bucket's log
 * start (those rows were dropped from the Tablet after tiering) first gets
 * what it missed from the lake snapshot, then continues from the Tablet at
 * the snapshot's offset `S`.
 *
 * - Log tables: the dropped rows, as ordinary batch messages with their
 *   original offsets, `[start, S)`.
 * - Primary-key tables: the bucket's state as of `S` (the changelog before
 *   it is gone), as `snapshot` messages from the one marked `first` (which
 *   replaces whatever state the client held) to the one marked `last`.
 *
 * Invariant: the Tablet continues exactly at `S`, so nothing is missed and
 * nothing repeated. The replay sends within the bucket's window, as the
 * Tablet does (`replay-window.ts`, fed the client's acks by the relay), in
 * messages of at most `catchUpRows` rows and `messageBytesMax` bytes (or
 * one row).
 */
import type * as arrow from "apache-arrow";
import type { PhysicalTable } from "../catalog/partitions.ts";
import type { Column } from "../table/schema.ts";
import { isPrimaryKeyTable } from "../table/schema.ts";
import { buildColumn, readScalar } from "../table/columns.ts";
import { gatherRange } from "../arrow/gather.ts";
import { systemColumns } from "../iceberg/schema.ts";
import { fileContent } from "../iceberg/manifest-read.ts";
import { inOffsetOrder } from "../lake/snapshots.ts";
import { tabletOffsetKey } from "../lake/tablet-offsets.ts";
import type { LogPage } from "../log/page.ts";
import { changeColumnData, pageColumns } from "../log/page.ts";
import type { LakeFile, LakeSnapshot } from "../read/lake-snapshot.ts";
import { currentSnapshot } from "../read/lake-snapshot.ts";
import { lakePruning } from "../read/partition-pruning.ts";
import { mergedBucketRows } from "../read/primary-key-merge.ts";
import { emptyStats, lakeRows } from "../read/scan-rows.ts";
import type { TabletStatus } from "../tablet/contract.ts";
import { live, tabletStub } from "../tablet/stub.ts";
import { encodeBatchMessage, encodeSnapshotMessage, messageBytes } from "../protocol/messages.ts";
import type { SubscribedMessage, TabletSubscription } from "../protocol/subscription.ts";
import { catchUpRows, messageBytesMax } from "../protocol/subscription.ts";
import type { ReplayUnit, Sent } from "./replay-window.ts";

/** Where a replay's messages go. */
export interface ReplaySink {
  /** Sends a message outside the window: the bucket's `subscribed`. */
  announce(message: string): void;
  /** Sends a message within the window, once it has room. */
  send(message: string | Uint8Array, sent: Sent): Promise<void>;
}

/** How one bucket's subscription begins: straight at the Tablet, or with a lake replay first, acknowledged in `unit`. */
export type BucketPlan =
  | { kind: "tablet"; subscription: TabletSubscription }
  | {
      kind: "lake_first";
      subscription: TabletSubscription;
      /** What the client's acks of the replay count, and where they start (the first offset replayed, or part 0). */
      unit: ReplayUnit;
      start: number;
      replay: (sink: ReplaySink) => Promise<void>;
    };

interface Replay {
  table: PhysicalTable;
  subscription: TabletSubscription;
  status: TabletStatus;
  files: LakeFile[];
  /** Where the client asked to start, and where the lake ends (the Tablet continues there). */
  from: number;
  to: number;
}

/** The table's current lake snapshot, with only the files of `owner`'s partition when it is one: a replay reads no other. */
export function ownerSnapshot(env: Env, owner: PhysicalTable): Promise<LakeSnapshot> {
  return currentSnapshot(env, owner, owner.partition ? lakePruning(owner.definition, [], owner.partition.values) : undefined);
}

/** `lakeSnapshot` loads the table's current snapshot, once for all the buckets of a subscription that need it. */
export async function planBucket(env: Env, table: PhysicalTable, subscription: TabletSubscription, lakeSnapshot: () => Promise<LakeSnapshot>): Promise<BucketPlan> {
  const { start, bucket } = subscription;
  const from = "position" in start ? (start.position === "earliest" ? 0 : undefined) : "offset" in start ? start.offset : undefined;
  if (from === undefined) return { kind: "tablet", subscription };
  const status = live(await tabletStub(env, table, bucket).status());
  // Pinned to an offset: "earliest" resolved later by the Tablet could skip log that retention drops in between.
  if (from >= status.logStartOffset) return { kind: "tablet", subscription: { ...subscription, start: { offset: from } } };
  const snapshot = await lakeSnapshot();
  const partitionId = table.partition?.partitionId;
  const to = snapshot.bucketOffsets[tabletOffsetKey(bucket, partitionId)] ?? 0;
  // Only tiered data is ever dropped, so the snapshot reaches the log start; if not, the Tablet reports the gap.
  if (to < status.logStartOffset) return { kind: "tablet", subscription };
  const files = snapshot.files.filter((f) => f.bucket === bucket && f.partitionId === partitionId).sort(inOffsetOrder);
  const replay: Replay = { table, subscription, status, files, from, to };
  const primaryKey = isPrimaryKeyTable(table.definition);
  return {
    kind: "lake_first",
    subscription: { ...subscription, start: { offset: to } },
    unit: primaryKey ? "parts" : "offsets",
    start: primaryKey ? 0 : from,
    async replay(sink) {
      const subscribed: SubscribedMessage = { type: "subscribed", ...partitionOf(subscription), bucket, offset: from, highWatermark: status.highWatermark };
      sink.announce(JSON.stringify(subscribed));
      await (primaryKey ? replayState : replayRows)(env, replay, sink);
    },
  };
}

/** The partition a partitioned table's messages name, or nothing. */
function partitionOf({ partition }: TabletSubscription): { partition?: string } {
  return partition === undefined ? {} : { partition };
}

function projectedColumns({ table, subscription }: Replay): Column[] {
  return subscription.columns.map((c) => table.definition.columns.find((d) => d.name === c.name)!);
}

/**
 * Sends rows `[begin, end)` of a chunk as messages of at most `catchUpRows` rows and `messageBytesMax`
 * bytes (or one row): `encode` makes the message of a range, which is halved while it is too large.
 */
async function sendRanges(
  sink: ReplaySink,
  begin: number,
  end: number,
  encode: (begin: number, end: number) => Encoded,
): Promise<void> {
  for (let from = begin; from < end; from += catchUpRows) {
    const ranges: [number, number][] = [[from, Math.min(end, from + catchUpRows)]];
    while (ranges.length > 0) {
      const [a, b] = ranges.shift()!;
      const { message, end: messageEnd } = encode(a, b);
      const bytes = messageBytes(message);
      if (b - a > 1 && bytes > messageBytesMax) {
        const middle = a + Math.floor((b - a) / 2);
        ranges.unshift([a, middle], [middle, b]);
        continue;
      }
      await sink.send(message, { end: messageEnd, rows: b - a, bytes });
    }
  }
}

/** A message, and where it ends in the replay's unit. */
interface Encoded {
  message: string | Uint8Array;
  end: number;
}

/** A log table's dropped rows `[from, to)`, with their offsets and commit times. */
async function replayRows(env: Env, replay: Replay, sink: ReplaySink): Promise<void> {
  const { subscription, status, from, to } = replay;
  const projected = projectedColumns(replay);
  const [, offsetColumn, timestampColumn] = systemColumns;
  const readColumns = [...projected, offsetColumn!, timestampColumn!];
  const predicates = [
    { column: offsetColumn!, op: ">=" as const, values: [BigInt(from)] },
    { column: offsetColumn!, op: "<" as const, values: [BigInt(to)] },
  ];
  const data = replay.files.filter((f) => f.content === fileContent.data);
  // The lake's __offset and __timestamp have the Arrow types of a page's _offset and _timestamp.
  for await (const chunk of lakeRows(env, data, readColumns, predicates, emptyStats())) {
    await sendRanges(sink, 0, chunk.rowCount, (begin, end) => {
      const rowCount = end - begin;
      const columns = [...chunk.data.map((d) => gatherRange([d], begin, end)), changeColumnData(rowCount)];
      // Rows of one bucket's files are consecutive offsets, so the first one places them all.
      const firstOffset = Number(readScalar(offsetColumn!.type, chunk.data[projected.length]!, begin));
      const page: LogPage = {
        bucket: subscription.bucket, logStartOffset: status.logStartOffset, highWatermark: status.highWatermark,
        nextOffset: firstOffset + rowCount, columns: pageColumns(projected), rowCount, batches: [{ rowCount, columns }],
      };
      return { message: encodeBatchMessage(page, subscription.format, subscription.partition), end: firstOffset + rowCount };
    });
  }
}

/** A primary-key table's bucket state as of `to`, in parts, the last one marked. */
async function replayState(env: Env, replay: Replay, sink: ReplaySink): Promise<void> {
  const { table, subscription, status, files, to } = replay;
  const projected = projectedColumns(replay);
  const keyNames = new Set(table.definition.primaryKey);
  const readColumns = table.definition.columns.filter((c) => projected.includes(c) || keyNames.has(c.name));
  const indexes = projected.map((c) => readColumns.indexOf(c));
  // Parts are numbered as they are sent (a part found too large is encoded again, halved, under its number).
  let part = 0;
  const parts: ReplaySink = {
    announce: (message) => sink.announce(message),
    send: async (message, sent) => {
      await sink.send(message, sent);
      part++;
    },
  };
  const encode = (data: arrow.Data[], rowCount: number, last: boolean): Encoded => {
    const header = { ...partitionOf(subscription), bucket: subscription.bucket, offset: to, highWatermark: status.highWatermark, part, first: part === 0, last };
    return { message: encodeSnapshotMessage(header, projected, data, rowCount, subscription.format), end: part + 1 };
  };
  const range = { bucket: subscription.bucket, from: to, to };
  for await (const chunk of mergedBucketRows(env, table, range, files, readColumns, [], emptyStats())) {
    await sendRanges(parts, 0, chunk.rowCount, (begin, end) => encode(indexes.map((i) => gatherRange([chunk.data[i]!], begin, end)), end - begin, false));
  }
  const { message, end } = encode(projected.map((c) => buildColumn(c.type, [])), 0, true);
  await parts.send(message, { end, rows: 0, bytes: messageBytes(message) });
}
