/**
 * A subscription's positions, per (partition, bucket): the next offset of
 * each bucket the client has handled or been told of, what it last
 * acknowledged, the acks due, and the `from` a resumed subscription starts
 * at.
 *
 * A stream is one partition's buckets, keyed by its spec while following
 * every partition, whose acks and offsets name the partition
 * (`{ "<partition>": { "<bucket>": … } }`); an unpartitioned table, or the
 * one partition a subscription names, is the single stream `oneStream`,
 * whose acks and offsets name buckets only (`{ "<bucket>": … }`).
 */
import type { From, Offsets } from "../protocol/subscription.ts";

/** The stream of an unpartitioned table, or of the one partition a subscription names. */
export const oneStream = "";

type Buckets = Record<number, number>;

/** One stream's acks or offsets in the protocol's shape: following every partition, under its partition. */
export function keyedByStream(stream: string, buckets: object): Record<string, unknown> {
  return stream === oneStream ? { ...buckets } : { [stream]: buckets };
}

export class Positions {
  private readonly next = new Map<string, Buckets>();
  private readonly acked = new Map<string, Buckets>();
  /** Partitions dropped under the subscription: an original `from.offsets` no longer applies to them. */
  private readonly dropped = new Set<string>();
  /** Whether the subscription follows every partition (a stream named a partition), even once none is left. */
  private every = false;

  get(stream: string, bucket: number): number | undefined {
    return this.next.get(stream)?.[bucket];
  }

  set(stream: string, bucket: number, offset: number): void {
    let buckets = this.next.get(stream);
    if (buckets === undefined) this.next.set(stream, (buckets = {}));
    if (stream !== oneStream) this.every = true;
    buckets[bucket] = offset;
  }

  /** Forgets a dropped partition: a partition created again under its spec is new, and starts at its first offset. */
  forget(stream: string): void {
    this.next.delete(stream);
    this.acked.delete(stream);
    this.dropped.add(stream);
    this.every = true;
  }

  /** Offsets handled in a bucket beyond its last ack. */
  unacked(stream: string, bucket: number): number {
    return (this.get(stream, bucket) ?? 0) - (this.acked.get(stream)?.[bucket] ?? 0);
  }

  /** The acks due, in the protocol's shape (see the module header), counted as sent; undefined when none is. */
  takeDue(): object | undefined {
    let due: Record<string, unknown> | undefined;
    for (const [stream, buckets] of this.next) {
      const acked = this.acked.get(stream) ?? {};
      const changed = Object.fromEntries(Object.entries(buckets).filter(([bucket, next]) => acked[Number(bucket)] !== next));
      if (Object.keys(changed).length === 0) continue;
      this.acked.set(stream, { ...acked, ...changed });
      due = { ...due, ...keyedByStream(stream, changed) };
    }
    return due;
  }

  /** The next offset per bucket of one stream. */
  of(stream: string): Buckets {
    return { ...this.next.get(stream) };
  }

  /** The next offset per partition and bucket, following every partition. */
  partitions(): Record<string, Buckets> {
    return Object.fromEntries([...this.next].filter(([stream]) => stream !== oneStream).map(([stream, buckets]) => [stream, { ...buckets }]));
  }

  /**
   * Where a resumed subscription starts: every bucket whose position is
   * known from it, the rest from the original start (`from`, or its `else`;
   * an original `from.offsets` is merged). Following every partition, a
   * partition with no known position is one the client has not read: it
   * was created after the start (the server would have started it at its
   * first offset), or its `subscribed` messages had not arrived. So an
   * original `"latest"` is not repeated for it, which would skip the rows
   * of a partition created while no connection stood: it starts at the
   * earliest offset, as the server starts what `from.offsets` omits (so
   * does a bucket of a known partition whose `subscribed` message had not
   * arrived; the cost of that rare case is rows from before the start,
   * never a row lost).
   */
  resumeFrom(from: From): From {
    const original = typeof from === "object" && "offsets" in from ? from : undefined;
    const otherwise = original ? original.else : (from as Exclude<From, { offsets: Offsets }>);
    if (!this.every) {
      const offsets = { ...(original?.offsets as Record<string, number> | undefined), ...this.of(oneStream) };
      return otherwise === undefined ? { offsets } : { offsets, else: otherwise };
    }
    const offsets: Record<string, Record<string, number>> = {};
    for (const [spec, buckets] of Object.entries((original?.offsets ?? {}) as Record<string, Record<string, number>>)) {
      if (!this.dropped.has(spec)) offsets[spec] = { ...buckets };
    }
    for (const [spec, buckets] of Object.entries(this.partitions())) offsets[spec] = { ...offsets[spec], ...buckets };
    return otherwise === undefined || otherwise === "latest" ? { offsets } : { offsets, else: otherwise };
  }

  /** Whether nothing is known yet: a resume is then the original request. */
  get empty(): boolean {
    return this.next.size === 0 && !this.every;
  }
}
