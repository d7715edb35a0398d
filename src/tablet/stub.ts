/**
 * How the Worker reaches the Tablet of one bucket of a table, or of one
 * partition of a partitioned table (and drops all of a table's or a
 * partition's Tablets, a bounded number at once), and the one place a `dropped` answer
 * becomes an error: the caller's table or partition entry is stale, which
 * `catalog/cache.ts` repairs by resolving them again.
 *
 * Invariant: a partitioned table has Tablets only per partition, so it is
 * never addressed without one (nor an unpartitioned table with one): a
 * call that would reach a Tablet nothing else reaches fails as a bug
 * instead.
 */
import type { Tablet } from "./tablet.ts";
import type { Dropped } from "./contract.ts";
import { TableDroppedError } from "../errors.ts";
import { tabletName } from "../vocabulary.ts";
import { mapLimited } from "../read-ahead.ts";

/** Whose Tablets: a table (`partition` absent), or one partition of a partitioned table. */
export interface TabletOwner {
  tableId: string;
  definition: { partitionKeys: readonly string[] };
  partition?: { partitionId: number };
}

export function tabletStub(env: Env, owner: TabletOwner, bucket: number): DurableObjectStub<Tablet> {
  const partitioned = owner.definition.partitionKeys.length > 0;
  if (partitioned !== (owner.partition !== undefined)) {
    throw new Error(`bug: table ${owner.tableId} is ${partitioned ? "" : "not "}partitioned, but its Tablet was addressed ${partitioned ? "without" : "with"} a partition`);
  }
  return env.TABLET.get(env.TABLET.idFromName(tabletName(owner.tableId, bucket, owner.partition?.partitionId)));
}

/** A Tablet's answer, unless its table or partition was dropped (then `TableDroppedError`). */
export function live<T extends { kind: string }>(result: T): Exclude<T, Dropped> {
  if (result.kind === "dropped") throw new TableDroppedError();
  return result as Exclude<T, Dropped>;
}

/** Every bucket number of a table, 0..bucketCount-1. */
export function bucketsOf(bucketCount: number): number[] {
  return Array.from({ length: bucketCount }, (_, bucket) => bucket);
}

/** Tablets one drop drops at once (a partitioned table may have thousands: its partitions × buckets). */
const tabletDropsInFlightMax = 64;

/**
 * Drops every Tablet of `owners` (a table, or partitions of one), saying
 * `what` was dropped to their subscribers. Their ids are gone from the
 * catalog already, so no new lookup reaches them; but an isolate that still
 * caches the owner writes on until its cache expires, and only a dropped
 * Tablet's answer (`dropped`) turns it away. So a failed drop is tried once
 * more, and one that fails twice is logged.
 */
export async function dropTablets(env: Env, owners: readonly TabletOwner[], bucketCount: number, what: string): Promise<void> {
  const tablets = owners.flatMap((owner) => bucketsOf(bucketCount).map((bucket) => ({ owner, bucket })));
  const dropped = await mapLimited(tablets, tabletDropsInFlightMax, ({ owner, bucket }) => {
    const drop = () => tabletStub(env, owner, bucket).drop(what);
    return drop().catch(drop).then(() => true, () => false);
  });
  const failed = dropped.filter((ok) => !ok).length;
  if (failed > 0) console.error(JSON.stringify({ event: "tablet_drop_failed", tableId: owners[0]?.tableId, what, failed }));
}
