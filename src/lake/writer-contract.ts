/**
 * The lake writer's contract: what the table's coordinator (`LakeScheduler`)
 * asks of the writer of one bucket, and what it answers.
 *
 * A round is two-phase: `writeRound` writes the bucket's files and prepares
 * its position-index changes under the round's id; the coordinator commits
 * the snapshot, then calls `adopt` (the round committed) or `abandon` (it
 * did not; its files are deleted). Before starting another round the
 * coordinator resolves the last one, so a writer normally holds at most
 * one.
 */
import type { TableEntry } from "../catalog/catalog.ts";
import type { DataFile } from "../iceberg/manifest.ts";
import type { CompactionInput } from "./bucket-compaction.ts";
import type { LakeOwner } from "./table-layout.ts";

export interface WriteRoundRequest {
  /** The table, or the partition of a partitioned table, whose bucket the writer serves. */
  table: LakeOwner;
  bucket: number;
  /** The round's snapshot id. */
  roundId: number;
  sequenceNumber: number;
  /** The offset the lake holds the bucket to (exclusive); the round starts there. */
  from: number;
  /** The table's current snapshot: a round of this id still prepared here committed. */
  committedRoundId: number | null;
}

export type WriteRoundResult =
  | { kind: "written"; files: DataFile[]; reached: number }
  /** The bucket's log holds nothing after `from`, or its partition was dropped (the lake keeps what it tiered). */
  | { kind: "nothing"; highWatermark: number };

export interface CompactRequest extends CompactionInput {
  table: LakeOwner;
  bucket: number;
  roundId: number;
  sequenceNumber: number;
  committedRoundId: number | null;
  /** Whether the inputs are every data file of the bucket (so every key gets a position in the index). */
  completesIndex: boolean;
}

export interface AdoptRequest {
  /** The table, with the partition's id for a partitioned table's Tablet. */
  table: TableEntry & { partition?: { partitionId: number } };
  bucket: number;
  roundId: number;
  /** Where the committed snapshot leaves the bucket: the Tablet may drop its log below it once old enough. */
  tieredOffset: number;
}
