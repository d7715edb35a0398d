/**
 * One tiering round of a table, as its coordinator runs it: every Tablet's
 * lake writer (a bucket's, or for a partitioned table a bucket's of each
 * partition the catalog holds) turns the Tablet's log from the lake's
 * offset onwards into files (many at once, with a bound), and the
 * coordinator commits them as one snapshot whose summary records every
 * Tablet's exclusive end offset (`tablet-offsets.ts`). A primary-key round writes each changed key's final image and
 * position deletes for its previous lake row, in one `overwrite` snapshot
 * (an `append` when no file was deleted from).
 *
 * Invariants: a round is recorded open before any writer is asked, and
 * resolved (each writer told whether it committed) before the next; the
 * commit is a compare-and-swap on the catalog's lake state, so a row range
 * is committed at most once; files of a round that did not commit are
 * deleted, never referenced; a Tablet's tiered offset only moves forward.
 */
import type { TableEntry } from "../catalog/catalog.ts";
import type { LakeState } from "../catalog/lake.ts";
import { getLakeState } from "../catalog/lake.ts";
import { newSnapshotId } from "../iceberg/metadata.ts";
import { fileContent } from "../iceberg/manifest-read.ts";
import { bucketsOf } from "../tablet/stub.ts";
import { listPartitions } from "../catalog/partitions.ts";
import { isPartitioned } from "../table/schema.ts";
import { partitionLimits } from "../table/partitioning.ts";
import { mapLimited } from "../read-ahead.ts";
import type { CommitJournal } from "./commit.ts";
import { commitSnapshot, nextSequenceNumber } from "./commit.ts";
import * as store from "./coordinator-store.ts";
import { metadataAt } from "./snapshots.ts";
import { lakeWriterStub } from "./writer.ts";
import type { LakeOwner } from "./table-layout.ts";
import { parseTabletOffsetKey, tabletOffsetKey } from "./tablet-offsets.ts";
import type { WriteRoundResult } from "./writer-contract.ts";

/** When one Tablet's writer worked on a round, as the coordinator saw it (so operators see the buckets overlap). */
export interface WriterTiming {
  bucket: number;
  /** The partition's id, for a partitioned table's Tablet. */
  partitionId?: number;
  rows: number;
  startedAtMs: number;
  endedAtMs: number;
}

export type TieringResult =
  | { kind: "committed"; snapshotId: number; records: number; bucketOffsets: Record<string, number>; writers: WriterTiming[] }
  | { kind: "up_to_date" }
  | { kind: "lost_race" };

/** Lake writers asked at once. */
export const writersAtOnce = 16;

/** One Tablet a round tiers: its bucket of the table, or of one partition. */
interface LakeTablet {
  owner: LakeOwner;
  bucket: number;
  /** Its entry in the tiered offsets. */
  key: string;
}

/** The Tablets of a table: its buckets, or every bucket of every partition the catalog holds now. */
async function lakeTablets(env: Env, table: TableEntry): Promise<LakeTablet[]> {
  const owners: LakeOwner[] = isPartitioned(table.definition)
    ? (await listPartitions(env.CATALOG, table, null, partitionLimits.partitionsPerTableMax)).map((partition) => ({ ...table, partition }))
    : [table];
  return owners.flatMap((owner) => bucketsOf(table.definition.bucket.num).map((bucket) => ({
    owner, bucket, key: tabletOffsetKey(bucket, owner.partition?.partitionId),
  })));
}

/** One round, from the table's lake state as the catalog holds it now. */
export async function tierTable(env: Env, sql: SqlStorage, table: TableEntry, nowMs: number): Promise<TieringResult> {
  const state = await resolveOpenRound(env, sql, table);
  const metadata = state ? await metadataAt(env, state.metadataLocation) : null;
  const roundId = newSnapshotId();
  const sequenceNumber = nextSequenceNumber(metadata);
  const tablets = await lakeTablets(env, table);
  const offset = (key: string) => state?.bucketOffsets[key] ?? 0;
  store.recordRound(sql, { roundId, tablets: tablets.map((t) => t.key), written: [] });
  const results = await mapLimited(tablets, writersAtOnce, async ({ owner, bucket, key }) => {
    const startedAtMs = Date.now();
    const partitionId = owner.partition?.partitionId;
    const result: WriteRoundResult = await lakeWriterStub(env, table.tableId, bucket, partitionId).writeRound({
      table: owner, bucket, roundId, sequenceNumber, from: offset(key), committedRoundId: state?.snapshotId ?? null,
    });
    if (result.kind !== "written") return [];
    const timing: WriterTiming = { bucket, ...(partitionId === undefined ? {} : { partitionId }), rows: result.reached - offset(key), startedAtMs, endedAtMs: Date.now() };
    return [{ key, ...result, timing }];
  });
  const wrote = results.flat();
  if (wrote.length === 0) {
    store.closeRound(sql);
    return { kind: "up_to_date" };
  }
  const round = { roundId, tablets: wrote.map((w) => w.key), written: [] as string[] };
  store.recordRound(sql, round);
  // A partitioned table's offsets name only the Tablets the catalog holds now, so a dropped partition's leave.
  const bucketOffsets = isPartitioned(table.definition)
    ? Object.fromEntries(tablets.flatMap(({ key }) => (state?.bucketOffsets[key] === undefined ? [] : [[key, state.bucketOffsets[key]]])))
    : { ...(state?.bucketOffsets ?? {}) };
  for (const { key, reached } of wrote) bucketOffsets[key] = reached;
  const added = wrote.flatMap((w) => w.files);
  const hasDeletes = added.some((f) => f.content !== fileContent.data);
  const committed = await commitSnapshot(env, table, state, metadata, {
    snapshotId: roundId,
    operation: hasDeletes ? "overwrite" : "append",
    added,
    removed: [],
    bucketOffsets,
  }, roundJournal(sql, round), nowMs);
  await resolveOpenRound(env, sql, table);
  if (committed.kind === "lost_race") return committed;
  const records = added.filter((f) => f.content === fileContent.data).reduce((n, f) => n + f.recordCount, 0);
  return { kind: "committed", snapshotId: roundId, records, bucketOffsets, writers: wrote.map((w) => w.timing) };
}

/** Records the round's writes and obsolete objects in the coordinator's store as a commit makes them. */
export function roundJournal(sql: SqlStorage, round: store.OpenRound): CommitJournal {
  return {
    written(key) {
      round.written.push(key);
      store.recordRound(sql, round);
    },
    obsolete(keys) {
      store.addObsolete(sql, round.roundId, keys);
    },
  };
}

/**
 * Settles the round left open by a crash or a failure, from what the
 * catalog shows: the buckets' writers adopt it (it committed: it is the
 * current snapshot, since rounds of a table never overlap) or abandon it,
 * deleting its files; answers the lake state it read.
 */
export async function resolveOpenRound(env: Env, sql: SqlStorage, table: TableEntry): Promise<LakeState | null> {
  const state = await getLakeState(env.CATALOG, table.tableId);
  const open = store.openRound(sql);
  if (!open) return state;
  const committed = state?.snapshotId === open.roundId;
  await mapLimited(open.tablets, writersAtOnce, async (key) => {
    const { bucket, partitionId } = parseTabletOffsetKey(key);
    const writer = lakeWriterStub(env, table.tableId, bucket, partitionId);
    const owner = partitionId === undefined ? table : { ...table, partition: { partitionId } };
    if (committed) await writer.adopt({ table: owner, bucket, roundId: open.roundId, tieredOffset: state.bucketOffsets[key] ?? 0 });
    else await writer.abandon(open.roundId);
  });
  if (!committed && open.written.length > 0) await env.LAKE.delete(open.written);
  store.resolveObsolete(sql, open.roundId, committed);
  store.closeRound(sql);
  return state;
}
