/**
 * Compaction of a table, as its coordinator runs it after tiering: every
 * Tablet (a bucket, or a bucket of one partition, dropped from the hot
 * tier or not) with enough small or deleted-from files has its lake writer
 * rewrite them, folding in the bucket's delete files, and one `replace`
 * snapshot swaps the old files for the new (the offsets do not move).
 *
 * Which files a bucket rewrites: its small data files (under 3/4 of the
 * target size) and every data file a delete file may apply to (a position
 * delete to files of its sequence number or lower, an equality delete to
 * lower ones), or all of them when it has equality deletes (they apply by
 * key, and the bucket's position index, which compaction completes, may
 * not know those keys). It compacts once those files and its delete files
 * number at least `table.datalake.compaction.min-input-files`. Afterwards
 * no delete file applies to the bucket's live rows.
 *
 * Invariants: as for tiering (`tiering.ts`): the round is recorded open
 * before any writer is asked and settled before the next, so a compaction
 * that loses the compare-and-swap or fails leaves no file behind; rounds
 * of a table never run at once, so compaction never races tiering.
 */
import type { TableEntry } from "../catalog/catalog.ts";
import { newSnapshotId } from "../iceberg/metadata.ts";
import type { ManifestEntry } from "../iceberg/manifest-read.ts";
import { bucketOf, fileContent } from "../iceberg/manifest-read.ts";
import { mapLimited } from "../read-ahead.ts";
import { commitSnapshot, currentSnapshotOf, nextSequenceNumber } from "./commit.ts";
import * as store from "./coordinator-store.ts";
import type { CompactionPolicy } from "./policy.ts";
import { compactionPolicy } from "./policy.ts";
import { filesOf, inOffsetOrder, metadataAt } from "./snapshots.ts";
import { resolveOpenRound, roundJournal, writersAtOnce } from "./tiering.ts";
import { lakeWriterStub } from "./writer.ts";
import type { LakeOwner } from "./table-layout.ts";
import { partitionIdOf, partitionValuesOf } from "./table-layout.ts";
import { tabletOffsetKey } from "./tablet-offsets.ts";

export type CompactionResult =
  | { kind: "compacted"; snapshotId: number; buckets: number; filesRemoved: number; filesAdded: number }
  | { kind: "not_needed" }
  | { kind: "lost_race" };

/** What one Tablet's compaction rewrites: files of one lake partition, never of two. */
interface BucketPlan {
  /** The table, or the partition (by the id its files' names carry, dropped or not) of a partitioned table. */
  owner: LakeOwner;
  bucket: number;
  /** Its entry in the tiered offsets. */
  key: string;
  inputs: ManifestEntry[];
  deletes: ManifestEntry[];
  completesIndex: boolean;
}

export async function compactTable(env: Env, sql: SqlStorage, table: TableEntry, nowMs: number): Promise<CompactionResult> {
  const policy = compactionPolicy(table.definition);
  if (!policy.enabled) return { kind: "not_needed" };
  const state = await resolveOpenRound(env, sql, table);
  if (!state) return { kind: "not_needed" };
  const metadata = await metadataAt(env, state.metadataLocation);
  const snapshot = currentSnapshotOf(metadata);
  if (!snapshot) return { kind: "not_needed" };
  const plans = planCompaction(table, await filesOf(env, snapshot), policy);
  if (plans.length === 0) return { kind: "not_needed" };

  const roundId = newSnapshotId();
  const sequenceNumber = nextSequenceNumber(metadata);
  const round = { roundId, tablets: plans.map((p) => p.key), written: [] as string[] };
  store.recordRound(sql, round);
  const added = (await mapLimited(plans, writersAtOnce, (plan) =>
    lakeWriterStub(env, table.tableId, plan.bucket, plan.owner.partition?.partitionId).compact({
      table: plan.owner, bucket: plan.bucket, roundId, sequenceNumber, committedRoundId: state.snapshotId,
      inputs: plan.inputs, deletes: plan.deletes, targetFileBytes: policy.targetFileBytes, completesIndex: plan.completesIndex,
    }))).flat();
  const removed = plans.flatMap((p) => [...p.inputs, ...p.deletes]);
  const committed = await commitSnapshot(env, table, state, metadata, {
    snapshotId: roundId,
    operation: "replace",
    added,
    removed,
    bucketOffsets: state.bucketOffsets,
  }, roundJournal(sql, round), nowMs);
  await resolveOpenRound(env, sql, table);
  if (committed.kind === "lost_race") return committed;
  return { kind: "compacted", snapshotId: roundId, buckets: plans.length, filesRemoved: removed.length, filesAdded: added.length };
}

/** The Tablets due for compaction and what each rewrites. */
export function planCompaction(table: TableEntry, files: readonly ManifestEntry[], policy: CompactionPolicy): BucketPlan[] {
  const byTablet = new Map<string, { owner: LakeOwner; bucket: number; files: ManifestEntry[] }>();
  for (const file of files) {
    const bucket = bucketOf(file);
    const partitionId = partitionIdOf(file.path);
    const key = tabletOffsetKey(bucket, partitionId);
    const owner = partitionId === undefined ? table : { ...table, partition: { partitionId, values: partitionValuesOf(table.definition, file) } };
    (byTablet.get(key) ?? byTablet.set(key, { owner, bucket, files: [] }).get(key)!).files.push(file);
  }
  const plans: BucketPlan[] = [];
  const order = (t: { owner: LakeOwner; bucket: number }) => (t.owner.partition?.partitionId ?? 0) * 65_536 + t.bucket;
  for (const [key, { owner, bucket, files: tabletFiles }] of [...byTablet].sort((a, b) => order(a[1]) - order(b[1]))) {
    const data = tabletFiles.filter((f) => f.content === fileContent.data).sort(inOffsetOrder);
    const deletes = tabletFiles.filter((f) => f.content !== fileContent.data);
    const equality = deletes.some((f) => f.content === fileContent.equalityDeletes);
    const deletedFrom = (file: ManifestEntry) => deletes.some((d) => (d.content === fileContent.positionDeletes ? d.dataSequenceNumber >= file.dataSequenceNumber : d.dataSequenceNumber > file.dataSequenceNumber));
    const small = (file: ManifestEntry) => file.fileSizeInBytes < (policy.targetFileBytes * 3) / 4;
    const inputs = equality ? data : data.filter((f) => small(f) || deletedFrom(f));
    if (inputs.length + deletes.length < policy.minInputFiles) continue;
    plans.push({ owner, bucket, key, inputs, deletes, completesIndex: inputs.length === data.length });
  }
  return plans;
}
