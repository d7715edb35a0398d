/**
 * Committing one snapshot of a table: a commit is data (the files it adds
 * and removes, the offsets it reaches) plus a requirement (the catalog
 * still at the version it was planned on). This writes the manifests, the
 * manifest list and the metadata JSON, then swaps the catalog's pointer;
 * the metadata expires old snapshots on the way when the table asks for it.
 *
 * Invariants: every object written is recorded in the open round before it
 * is written (`journal`), and every object the commit stops referencing is
 * recorded as obsolete-if-committed before the swap; the catalog swap is
 * the commit point, so a commit that loses it changes nothing a reader sees.
 */
import type { TableEntry } from "../catalog/catalog.ts";
import type { LakeState } from "../catalog/lake.ts";
import { commitLakeState } from "../catalog/lake.ts";
import type { DataFile } from "../iceberg/manifest.ts";
import { writeManifest, writeManifestList } from "../iceberg/manifest.ts";
import type { Snapshot, TableMetadata } from "../iceberg/metadata.ts";
import { bucketOffsetsSummaryKey, maintenanceSummaryKeys, newTableMetadata, withSnapshot } from "../iceberg/metadata.ts";
import type { ManifestEntry } from "../iceberg/manifest-read.ts";
import { fileContent } from "../iceberg/manifest-read.ts";
import { icebergSchema, systemColumns } from "../iceberg/schema.ts";
import { lakeLayout } from "../vocabulary.ts";
import { describeManifest, planManifests } from "./manifest-plan.ts";
import { objectsOnlyIn, snapshotsToExpire } from "./expiry.ts";
import { expiryPolicy } from "./policy.ts";
import { entriesOf, manifestsOf } from "./snapshots.ts";
import { lakeKey, lakeUri } from "./objects.ts";
import { partitionSpec, tableKeyOf } from "./table-layout.ts";

export interface SnapshotChange {
  /** The new snapshot's id, chosen before its files were written. */
  snapshotId: number;
  /** Iceberg's: `delete` removes files and adds none (a partition dropped from the lake). */
  operation: "append" | "overwrite" | "replace" | "delete";
  added: DataFile[];
  /** Live files the snapshot removes (a compaction's inputs, a dropped partition's files). */
  removed: readonly ManifestEntry[];
  /** Every bucket's offset after the change. */
  bucketOffsets: Record<string, number>;
}

/** How the commit records what it writes and what it makes obsolete, before doing either. */
export interface CommitJournal {
  written(key: string): void;
  obsolete(keys: readonly string[]): void;
}

export type CommitResult =
  | { kind: "committed"; state: LakeState; metadata: TableMetadata }
  | { kind: "lost_race" };

/** The sequence number a commit on top of `metadata` gets. */
export function nextSequenceNumber(metadata: TableMetadata | null): number {
  return (metadata?.["last-sequence-number"] ?? 0) + 1;
}

export async function commitSnapshot(
  env: Env,
  table: TableEntry,
  state: LakeState | null,
  parentMetadata: TableMetadata | null,
  change: SnapshotChange,
  journal: CommitJournal,
  nowMs: number,
): Promise<CommitResult> {
  const { definition } = table;
  const tableKey = tableKeyOf(table);
  const schema = icebergSchema(definition);
  const partitionFields = partitionSpec(definition);
  const metadata = parentMetadata ?? newTableMetadata({
    tableUuid: table.tableId,
    location: lakeUri(env, tableKey),
    schema,
    partitionFields,
    sortFieldId: systemColumns.find((c) => c.name === "__offset")!.id,
    nowMs,
  });
  const sequenceNumber = nextSequenceNumber(parentMetadata);
  const put = async (key: string, bytes: Uint8Array | string) => {
    journal.written(key);
    await env.LAKE.put(key, bytes);
  };

  const parent = currentSnapshotOf(metadata);
  const parentManifests = parent ? await manifestsOf(env, parent) : [];
  const parentEntries = await entriesOf(env, parentManifests);
  const removedPaths = new Set(change.removed.map((e) => e.path));
  const plan = planManifests(parentManifests.map((manifest, i) => ({ manifest, entries: parentEntries[i]! })), change.added, removedPaths, change.snapshotId);
  const manifests = [...plan.kept];
  for (const written of plan.written) {
    const key = lakeLayout.manifestKey(tableKey, crypto.randomUUID());
    const bytes = writeManifest({ schema, specId: 0, partitionFields, content: written.content === 0 ? "data" : "deletes", entries: written.entries });
    await put(key, bytes);
    manifests.push(describeManifest(written, lakeUri(env, key), bytes.byteLength, change.snapshotId, sequenceNumber));
  }
  const listKey = lakeLayout.manifestListKey(tableKey, change.snapshotId, crypto.randomUUID());
  await put(listKey, writeManifestList({ snapshotId: change.snapshotId, parentSnapshotId: parent?.["snapshot-id"] ?? null, sequenceNumber, manifests }));

  const expiry = expiryPolicy(definition);
  const expired = snapshotsToExpire(metadata, expiry, nowMs);
  const summary = commitSummary(metadata, change, { expired: expired.length, nowMs });
  const next = withSnapshot(metadata, state ? state.metadataLocation : null, { "snapshot-id": change.snapshotId, "manifest-list": lakeUri(env, listKey), summary }, nowMs);
  const kept = withoutSnapshots(next, expired, expiry.previousVersionsMax);
  if (expiry.enabled) {
    const oldestKept = kept.metadata.snapshots[0]!;
    const objects = [...(await objectsOnlyIn(env, expired, oldestKept)), ...kept.droppedMetadata.flatMap((uri) => [uri, hadoopCopyOf(env, uri)])];
    journal.obsolete(objects.map((uri) => lakeKey(env, uri)));
  }
  const version = (state?.version ?? 0) + 1;
  const metadataKey = lakeLayout.metadataKey(tableKey, version, crypto.randomUUID());
  const metadataJson = JSON.stringify(kept.metadata);
  await put(metadataKey, metadataJson);
  const committed: LakeState = { metadataLocation: lakeUri(env, metadataKey), snapshotId: change.snapshotId, version, bucketOffsets: change.bucketOffsets };
  if (!(await commitLakeState(env.CATALOG, table.tableId, state?.version ?? 0, committed))) return { kind: "lost_race" };
  // For path-based readers; written after the commit so they never see an uncommitted version.
  await env.LAKE.put(lakeLayout.hadoopMetadataKey(tableKey, version), metadataJson);
  await env.LAKE.put(lakeLayout.versionHintKey(tableKey), String(version));
  return { kind: "committed", state: committed, metadata: kept.metadata };
}

export function currentSnapshotOf(metadata: TableMetadata): Snapshot | undefined {
  return metadata.snapshots.find((s) => s["snapshot-id"] === metadata["current-snapshot-id"]);
}

/** The metadata without the expired snapshots, and its metadata log cut to `previousVersionsMax` (the URIs it drops). */
function withoutSnapshots(metadata: TableMetadata, expired: readonly Snapshot[], previousVersionsMax: number): { metadata: TableMetadata; droppedMetadata: string[] } {
  const gone = new Set(expired.map((s) => s["snapshot-id"]));
  const log = metadata["metadata-log"];
  const cut = Math.max(0, log.length - previousVersionsMax);
  return {
    metadata: {
      ...metadata,
      snapshots: metadata.snapshots.filter((s) => !gone.has(s["snapshot-id"])),
      "snapshot-log": metadata["snapshot-log"].filter((s) => !gone.has(s["snapshot-id"])),
      "metadata-log": log.slice(cut),
    },
    droppedMetadata: log.slice(0, cut).map((entry) => entry["metadata-file"]),
  };
}

/** The `v<N>.metadata.json` copy written beside a versioned metadata file (`<N>-<uuid>.metadata.json`). */
function hadoopCopyOf(env: Env, uri: string): string {
  const key = lakeKey(env, uri);
  const version = Number(/\/(\d+)-[^/]*\.metadata\.json$/.exec(key)?.[1]);
  return lakeUri(env, key.replace(/\/[^/]*$/, `/v${version}.metadata.json`));
}

function commitSummary(metadata: TableMetadata, change: SnapshotChange, maintenance: { expired: number; nowMs: number }): Snapshot["summary"] {
  const previous: Record<string, string> = currentSnapshotOf(metadata)?.summary ?? {};
  const sum = (files: readonly { recordCount: number; fileSizeInBytes: number; content: number }[], content: number, pick: "recordCount" | "fileSizeInBytes" | "files") =>
    files.filter((f) => f.content === content).reduce((n, f) => n + (pick === "files" ? 1 : f[pick]), 0);
  const added = change.added;
  const removed = change.removed;
  const delta = (content: number, pick: "recordCount" | "fileSizeInBytes" | "files") => sum(added, content, pick) - sum(removed, content, pick);
  const total = (key: string, change: number) => String(Number(previous[key] ?? 0) + change);
  const bytes = (files: readonly { fileSizeInBytes: number }[]) => files.reduce((n, f) => n + f.fileSizeInBytes, 0);
  const { data, positionDeletes, equalityDeletes } = fileContent;
  return {
    operation: change.operation,
    "added-data-files": String(sum(added, data, "files")),
    "added-records": String(sum(added, data, "recordCount")),
    "deleted-data-files": String(sum(removed, data, "files")),
    "deleted-records": String(sum(removed, data, "recordCount")),
    "added-delete-files": String(sum(added, positionDeletes, "files") + sum(added, equalityDeletes, "files")),
    "added-position-delete-files": String(sum(added, positionDeletes, "files")),
    "added-position-deletes": String(sum(added, positionDeletes, "recordCount")),
    "added-equality-delete-files": String(sum(added, equalityDeletes, "files")),
    "added-equality-deletes": String(sum(added, equalityDeletes, "recordCount")),
    "removed-delete-files": String(sum(removed, positionDeletes, "files") + sum(removed, equalityDeletes, "files")),
    "removed-position-delete-files": String(sum(removed, positionDeletes, "files")),
    "removed-position-deletes": String(sum(removed, positionDeletes, "recordCount")),
    "removed-equality-delete-files": String(sum(removed, equalityDeletes, "files")),
    "removed-equality-deletes": String(sum(removed, equalityDeletes, "recordCount")),
    "added-files-size": String(bytes(added)),
    "removed-files-size": String(bytes(removed)),
    "changed-partition-count": String(new Set([...added, ...removed].map((f) => JSON.stringify(f.partition))).size),
    "total-data-files": total("total-data-files", delta(data, "files")),
    "total-records": total("total-records", delta(data, "recordCount")),
    "total-files-size": total("total-files-size", bytes(added) - bytes(removed)),
    "total-delete-files": total("total-delete-files", delta(positionDeletes, "files") + delta(equalityDeletes, "files")),
    "total-position-deletes": total("total-position-deletes", delta(positionDeletes, "recordCount")),
    "total-equality-deletes": total("total-equality-deletes", delta(equalityDeletes, "recordCount")),
    "engine-name": "floe",
    "commit-user": "floe",
    [bucketOffsetsSummaryKey]: JSON.stringify(change.bucketOffsets),
    ...carried(maintenanceSummaryKeys.lastCompactionMs, change.operation === "replace"),
    ...carried(maintenanceSummaryKeys.lastExpiryMs, maintenance.expired > 0),
  };
  /** A maintenance time: now when this commit did it, else the parent's. */
  function carried(key: string, now: boolean): Record<string, string> {
    const value = now ? String(maintenance.nowMs) : previous[key];
    return value === undefined ? {} : { [key]: value };
  }
}
