/**
 * A subscription that follows every partition of a partitioned table,
 * including partitions created after it started, in the Worker's relay:
 * each partition's buckets are Tablet sockets like any others, and each
 * message names its partition.
 *
 * Why the relay polls the catalog (every `partitionPollMs`) rather than
 * being told of new partitions: they are created from any isolate (writes,
 * the automatic-partitioning pass, by hand) and subscriptions live in any
 * isolate, with no registry of them, so a notification that went missing
 * would leave a partition unfollowed for good. A poll costs one catalog
 * query per subscription per interval (the partitions whose id is above
 * the last seen: ids only grow) and misses nothing: a partition found after
 * the subscription started begins at its earliest offset, so its first
 * rows arrive however late it is found.
 *
 * Invariants: at most `tabletsPerSubscriptionMax` Tablet sockets (past it
 * the subscription ends, saying so); a partition whose Tablets say it was
 * dropped ends alone, with one `partition_dropped` message; the table's
 * drop ends the subscription.
 */
import type { TableEntry } from "../catalog/catalog.ts";
import type { PartitionEntry, PhysicalTable } from "../catalog/partitions.ts";
import { describePartition, forgetPartitions, partitionsCreatedAfter, resolvePartitions } from "../catalog/partitions.ts";
import type { ErrorKind } from "../errors.ts";
import type { EveryPartition } from "../protocol/request.ts";
import type { ErrorMessage, PartitionDroppedMessage, TabletSubscription } from "../protocol/subscription.ts";
import { partitionPollMs, tabletsPerSubscriptionMax } from "../protocol/subscription.ts";
import { partitionLimits } from "../table/partitioning.ts";

/** What the relay does for the follower. */
export interface PartitionRelay {
  /** Opens the Tablet sockets of one partition's buckets; `gone` is called once if the partition is dropped under them. */
  connect(owner: PhysicalTable, subscriptions: TabletSubscription[], gone: (error: ErrorMessage["error"]) => void): Promise<void>;
  /** Closes and forgets the Tablet sockets of one partition. */
  closePartition(partitionId: number): void;
  send(message: string): void;
  fail(kind: ErrorKind, message: string): void;
  /** Ends the subscription with an error thrown while following: a FloeError as it is, anything else as `internal`. */
  failFrom(error: unknown): void;
}

export interface PartitionFollower {
  /** The id of the partition a client's ack names by its spec, while it is followed. */
  partitionIdOf(spec: string): number | undefined;
  stop(): void;
}

export function followEveryPartition(env: Env, table: TableEntry, every: EveryPartition, relay: PartitionRelay): PartitionFollower {
  const partitionsMax = Math.floor(tabletsPerSubscriptionMax / every.bucketCount);
  const followed = new Map<string, number>();
  let lastSeenId = 0;
  let stopped = false;

  const follow = async (partition: PartitionEntry, createdAfterStart: boolean) => {
    followed.set(partition.spec, partition.partitionId);
    let ended = false;
    const gone = (error: ErrorMessage["error"]) => {
      if (ended || stopped) return;
      ended = true;
      if (followed.get(partition.spec) === partition.partitionId) followed.delete(partition.spec);
      relay.closePartition(partition.partitionId);
      const message: PartitionDroppedMessage = { type: "partition_dropped", partition: partition.spec, error };
      relay.send(JSON.stringify(message));
    };
    try {
      await relay.connect({ ...table, partition }, every.bucketsOf(partition.spec, createdAfterStart), gone);
    } catch (error) {
      if (await stillExists(partition)) return failWith(error);
      // Dropped between the catalog's answer and its Tablets' (which refuse once they are).
      gone({ code: "gone", message: `${describePartition(table, partition.spec)} was dropped` });
    }
  };

  const stillExists = async (partition: PartitionEntry): Promise<boolean> => {
    // What this isolate remembers of the table's partitions may predate the drop.
    forgetPartitions(table.tableId, [partition.spec]);
    return (await resolvePartitions(env.CATALOG, table, [partition.spec], false)).get(partition.spec)?.partitionId === partition.partitionId;
  };

  const failWith = (error: unknown) => {
    stop();
    relay.failFrom(error);
  };

  /** Follows the partitions created since the last look; false once the subscription ended. */
  const look = async (createdAfterStart: boolean): Promise<boolean> => {
    const found = await partitionsCreatedAfter(env.CATALOG, table, lastSeenId, partitionLimits.partitionsPerTableMax);
    if (stopped) return false;
    if (found === null) {
      relay.fail("gone", `table ${table.database}.${table.name} was dropped`);
      return false;
    }
    if (found.length === 0) return true;
    lastSeenId = found.at(-1)!.partitionId;
    if (followed.size + found.length > partitionsMax) {
      const tablets = (followed.size + found.length) * every.bucketCount;
      relay.fail(
        createdAfterStart ? "unavailable" : "bad_request",
        `following every partition of ${table.database}.${table.name} would take ${tablets} Tablets (${followed.size + found.length} partitions × ${every.bucketCount} buckets); ` +
          `a subscription follows at most ${tabletsPerSubscriptionMax}: name a partition, or fewer buckets`,
      );
      return false;
    }
    await Promise.all(found.map((partition) => follow(partition, createdAfterStart).catch(failWith)));
    return true;
  };

  let looking = false;
  const timer = setInterval(() => {
    if (looking || stopped) return;
    looking = true;
    // A failed look (the catalog unreachable for a moment) is tried again at the next interval: it advanced nothing.
    look(true).then(
      (goingOn) => void (goingOn || stop()),
      (error: unknown) => console.error(JSON.stringify({ event: "partition_poll_failed", table: `${table.database}.${table.name}`, error: String(error) })),
    ).finally(() => (looking = false));
  }, partitionPollMs);
  const stop = () => {
    stopped = true;
    clearInterval(timer);
  };
  // The first look is the subscription's start: its failure fails the subscription.
  looking = true;
  look(false).catch(failWith).finally(() => (looking = false));

  return { partitionIdOf: (spec) => followed.get(spec), stop };
}
