/**
 * Fan-out from one request to many Tablets, bounded: how many Tablets'
 * offsets one answer shows, how many Tablets are asked at once, and
 * dropping the Tablets of a table or of a partition.
 */
import { mapLimited } from "../read-ahead.ts";
import type { TabletOwner } from "../tablet/stub.ts";
import { bucketsOf, tabletStub } from "../tablet/stub.ts";

/** Buckets whose offsets one answer (describe, the partition list) shows at most: each costs a Tablet call. */
export const describeBucketsMax = 32;
/** Tablets one request asks at once. */
export const tabletCallsInFlightMax = 16;
/** Tablets one drop drops at once (a partitioned table may have thousands: its partitions × buckets). */
const tabletDropsInFlightMax = 64;

/**
 * Drops every Tablet of `owners` (a table, or partitions of one), saying
 * `what` was dropped to their subscribers. Their ids are gone from the
 * catalog already, so a Tablet that fails to drop is unreachable, never
 * resurrected; it is logged.
 */
export async function dropTablets(env: Env, owners: readonly TabletOwner[], bucketCount: number, what: string): Promise<void> {
  const tablets = owners.flatMap((owner) => bucketsOf(bucketCount).map((bucket) => ({ owner, bucket })));
  const dropped = await mapLimited(tablets, tabletDropsInFlightMax, ({ owner, bucket }) =>
    tabletStub(env, owner, bucket).drop(what).then(() => true, () => false),
  );
  const failed = dropped.filter((ok) => !ok).length;
  if (failed > 0) console.error(JSON.stringify({ event: "tablet_drop_failed", tableId: owners[0]?.tableId, what, failed }));
}
