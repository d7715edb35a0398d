/**
 * Which manifests a new snapshot lists: those of its parent it keeps as they
 * are, those it rewrites (a file removed: DELETED entry; the rest EXISTING),
 * one per kind for the files it adds, and, once a kind has more than
 * `manifestsMergeMinCount` manifests, all of them merged into as few as
 * `manifestEntriesMax` entries each allow (Iceberg's
 * `commit.manifest.min-count-to-merge`), so the count stays bounded
 * however many rounds a table has seen.
 *
 * Invariant: the planned manifests hold every live file of the parent not
 * removed, every added file, and nothing else live.
 */
import type { DataFile, ManifestEntryRecord, ManifestFile } from "../iceberg/manifest.ts";
import { addedEntry, entryStatus } from "../iceberg/manifest.ts";
import type { ManifestEntry } from "../iceberg/manifest-read.ts";

/** A kind's manifests are merged once it has more than this many. */
export const manifestsMergeMinCount = 16;
/** Entries one merged manifest holds at most. */
export const manifestEntriesMax = 10_000;

export interface NewManifest {
  /** 0 data, 1 deletes. */
  content: 0 | 1;
  entries: ManifestEntryRecord[];
}

export interface ManifestPlan {
  kept: ManifestFile[];
  written: NewManifest[];
}

export function planManifests(
  parent: readonly { manifest: ManifestFile; entries: readonly ManifestEntry[] }[],
  added: readonly DataFile[],
  removed: ReadonlySet<string>,
  snapshotId: number,
): ManifestPlan {
  const kept: ManifestFile[] = [];
  const rewritten: NewManifest[] = [];
  for (const { manifest, entries } of parent) {
    if (!entries.some((e) => removed.has(e.path))) {
      kept.push(manifest);
      continue;
    }
    rewritten.push({
      content: manifest.content,
      entries: entries.map((e) => (removed.has(e.path)
        ? { ...e.record, status: entryStatus.deleted, snapshot_id: snapshotId }
        : { ...e.record, status: entryStatus.existing })),
    });
  }
  const plan: ManifestPlan = { kept: [], written: [] };
  for (const content of [0, 1] as const) {
    const addedEntries = added.filter((f) => (f.content === 0 ? 0 : 1) === content).map(addedEntry);
    const keptOfKind = kept.filter((m) => m.content === content);
    const rewrittenOfKind = rewritten.filter((m) => m.content === content);
    const count = keptOfKind.length + rewrittenOfKind.length + (addedEntries.length > 0 ? 1 : 0);
    if (count <= manifestsMergeMinCount) {
      plan.kept.push(...keptOfKind);
      plan.written.push(...rewrittenOfKind);
      if (addedEntries.length > 0) plan.written.push({ content, entries: addedEntries });
      continue;
    }
    const keptEntries = parent
      .filter(({ manifest }) => keptOfKind.includes(manifest))
      .flatMap(({ entries }) => entries.map((e): ManifestEntryRecord => ({ ...e.record, status: entryStatus.existing })));
    const all = [...addedEntries, ...rewrittenOfKind.flatMap((m) => m.entries), ...keptEntries].sort(byPartition);
    for (let i = 0; i < all.length; i += manifestEntriesMax) plan.written.push({ content, entries: all.slice(i, i + manifestEntriesMax) });
  }
  return plan;
}

/** The manifest list's description of a manifest this snapshot writes. */
export function describeManifest(written: NewManifest, path: string, length: number, snapshotId: number, sequenceNumber: number): ManifestFile {
  const count = (status: number) => written.entries.filter((e) => e.status === status);
  const rows = (entries: ManifestEntryRecord[]) => entries.reduce((n, e) => n + Number(e.data_file.record_count), 0);
  const [added, existing, deleted] = [count(entryStatus.added), count(entryStatus.existing), count(entryStatus.deleted)];
  const sequences = written.entries.map((e) => (e.sequence_number === null ? sequenceNumber : Number(e.sequence_number)));
  const tuples = written.entries.map(partitionOf);
  return {
    path, length, specId: 0, content: written.content,
    sequenceNumber, minSequenceNumber: Math.min(sequenceNumber, ...sequences), addedSnapshotId: snapshotId,
    addedFiles: added.length, existingFiles: existing.length, deletedFiles: deleted.length,
    addedRows: rows(added), existingRows: rows(existing), deletedRows: rows(deleted),
    partitions: tuples[0]!.map((_, field) => {
      const values = tuples.map((tuple) => tuple[field]!).sort(compareValues);
      return { containsNull: false, lowerBound: singleValue(values[0]!), upperBound: singleValue(values.at(-1)!) };
    }),
  };
}

/**
 * A file's partition tuple, in spec order: the partition values (strings)
 * of a partitioned table, then the bucket (an int) under either bucket
 * field. Floe never writes a null partition value.
 */
function partitionOf(entry: ManifestEntryRecord): (string | number)[] {
  return Object.values(entry.data_file.partition as Record<string, string | number>).map((v) => (typeof v === "string" ? v : Number(v)));
}

/** Strings by code point (as their UTF-8 bytes order, and as Iceberg compares string bounds), ints by value. */
function compareValues(a: string | number, b: string | number): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Entries by partition tuple, so a merged manifest's partition summaries are narrow. */
function byPartition(a: ManifestEntryRecord, b: ManifestEntryRecord): number {
  const [x, y] = [partitionOf(a), partitionOf(b)];
  for (let i = 0; i < x.length; i++) {
    const order = compareValues(x[i]!, y[i]!);
    if (order !== 0) return order;
  }
  return 0;
}

/** A value in Iceberg's single-value form, as partition summaries hold bounds: a string as UTF-8, an int as 4 bytes little-endian. */
function singleValue(value: string | number): Uint8Array {
  if (typeof value === "string") return new TextEncoder().encode(value);
  const bytes = new Uint8Array(4);
  new DataView(bytes.buffer).setInt32(0, value, true);
  return bytes;
}
