/**
 * Dropping a partition from the lake, as the table's coordinator runs it
 * between rounds: every data and delete file whose partition tuple holds
 * the spec's values and whose name carries the id of an incarnation the
 * catalog no longer holds (dropped from the hot tier, by hand or by
 * retention) leaves the table in one `delete` snapshot, its manifest
 * entries DELETED. The offsets of those incarnations' Tablets leave the
 * snapshot with them.
 *
 * Invariants: a live partition's files are never removed, so its lake rows
 * and its Tablets' tiered offsets stay consistent (a union read of it loses
 * nothing); the commit goes through the coordinator, one at a time with its
 * rounds, and is a compare-and-swap on the catalog's lake state, recorded
 * open as a round with no writers, so one that loses the swap leaves no
 * object behind; earlier snapshots still reference the files, so time travel
 * reads them until expiry drops those snapshots and their objects.
 */
import type { TableEntry } from "../catalog/catalog.ts";
import { listPartitions } from "../catalog/partitions.ts";
import { formatPartitionSpec } from "../table/partitioning.ts";
import { newSnapshotId } from "../iceberg/metadata.ts";
import { fileContent } from "../iceberg/manifest-read.ts";
import type { ManifestEntry } from "../iceberg/manifest-read.ts";
import { commitSnapshot, currentSnapshotOf } from "./commit.ts";
import * as store from "./coordinator-store.ts";
import { filesOf, metadataAt } from "./snapshots.ts";
import { partitionIdOf, partitionValuesOf } from "./table-layout.ts";
import { parseTabletOffsetKey } from "./tablet-offsets.ts";
import { resolveOpenRound, roundJournal } from "./tiering.ts";

export type LakePartitionDrop =
  | {
    kind: "dropped";
    snapshotId: number;
    /** The ids of the incarnations whose files left. */
    partitionIds: number[];
    dataFiles: number;
    deleteFiles: number;
    /** Rows of the data files removed (before their deletes applied). */
    records: number;
  }
  /** The lake holds no file of a dropped incarnation of the spec. */
  | { kind: "nothing" }
  /** Another commit won the catalog's swap each time it was tried. */
  | { kind: "lost_race" };

/** Commits tried before answering `lost_race`: only the coordinator commits, so a loss means the lake state was changed by hand. */
const attemptsMax = 3;

/** Drops from the lake the files of the dropped incarnations of the partition `spec` (canonical) names. */
export async function dropPartitionFromLake(env: Env, sql: SqlStorage, table: TableEntry, spec: string, nowMs: number): Promise<LakePartitionDrop> {
  for (let attempt = 0; attempt < attemptsMax; attempt++) {
    const result = await attemptDrop(env, sql, table, spec, nowMs);
    if (result.kind !== "lost_race") return result;
  }
  return { kind: "lost_race" };
}

async function attemptDrop(env: Env, sql: SqlStorage, table: TableEntry, spec: string, nowMs: number): Promise<LakePartitionDrop> {
  const state = await resolveOpenRound(env, sql, table);
  if (!state) return { kind: "nothing" };
  const metadata = await metadataAt(env, state.metadataLocation);
  const snapshot = currentSnapshotOf(metadata);
  if (!snapshot) return { kind: "nothing" };
  // Asked of D1 now, not of an isolate's cache: a partition created again since the hot drop keeps its files.
  const live = (await listPartitions(env.CATALOG, table, spec, 1)).find((p) => p.spec === spec)?.partitionId;
  const removed = droppedIncarnationFiles(table, await filesOf(env, snapshot), spec, live);
  if (removed.length === 0) return { kind: "nothing" };

  const partitionIds = [...new Set(removed.map((f) => partitionIdOf(f.path)!))].sort((a, b) => a - b);
  const bucketOffsets = Object.fromEntries(Object.entries(state.bucketOffsets).filter(([key]) => !partitionIds.includes(parseTabletOffsetKey(key).partitionId ?? -1)));
  const round = { roundId: newSnapshotId(), tablets: [], written: [] as string[] };
  store.recordRound(sql, round);
  const committed = await commitSnapshot(env, table, state, metadata, {
    snapshotId: round.roundId,
    operation: "delete",
    added: [],
    removed,
    bucketOffsets,
  }, roundJournal(sql, round), nowMs);
  await resolveOpenRound(env, sql, table);
  if (committed.kind === "lost_race") return committed;
  const data = removed.filter((f) => f.content === fileContent.data);
  return {
    kind: "dropped",
    snapshotId: round.roundId,
    partitionIds,
    dataFiles: data.length,
    deleteFiles: removed.length - data.length,
    records: data.reduce((n, f) => n + f.recordCount, 0),
  };
}

/** The files of the spec's incarnations other than the live one (`live`, if any). */
export function droppedIncarnationFiles(table: TableEntry, files: readonly ManifestEntry[], spec: string, live: number | undefined): ManifestEntry[] {
  const { definition } = table;
  return files.filter((file) => formatPartitionSpec(definition.partitionKeys, partitionValuesOf(definition, file)) === spec && partitionIdOf(file.path) !== live);
}
