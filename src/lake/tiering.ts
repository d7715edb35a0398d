/**
 * One tiering round of a log table: every bucket's rows from its tiered
 * offset to its high watermark (up to a bound per round) become one Parquet
 * file per bucket, committed as one Iceberg snapshot whose summary records
 * the exclusive end offset reached in every bucket.
 *
 * Invariants: the commit is a compare-and-swap on the catalog's lake state,
 * so a row range is committed at most once; files written by a round that
 * loses the race are never referenced (only wasted), so nothing is
 * duplicated; a bucket's tiered offset only moves forward.
 */
import type * as arrow from "apache-arrow";
import type { TableEntry } from "../catalog/catalog.ts";
import type { LakeState } from "../catalog/lake.ts";
import { commitLakeState, getLakeState } from "../catalog/lake.ts";
import { gatherRange } from "../arrow/gather.ts";
import { buildColumn } from "../table/columns.ts";
import type { TableDefinition } from "../table/schema.ts";
import { icebergSchema, lakeColumns, systemColumns } from "../iceberg/schema.ts";
import type { DataFile, ManifestFile, PartitionField } from "../iceberg/manifest.ts";
import { writeManifest, writeManifestList } from "../iceberg/manifest.ts";
import type { TableMetadata } from "../iceberg/metadata.ts";
import { newSnapshotId, newTableMetadata, withSnapshot } from "../iceberg/metadata.ts";
import { columnMetrics } from "../iceberg/metrics.ts";
import { writeDataFile } from "./parquet.ts";
import { readLogPage } from "../read/log.ts";
import type { LogPage } from "../read/log-page.ts";
import { bucketsOf, tabletStub } from "../tablet/stub.ts";
import { lakeLayout, requestLimits } from "../vocabulary.ts";

export type TieringResult =
  | { kind: "committed"; snapshotId: number; records: number; bucketOffsets: Record<string, number> }
  | { kind: "up_to_date" }
  | { kind: "lost_race" };

/** Rows one bucket contributes to one round, so a round stays well inside a Worker's memory. */
export const roundRowsPerBucketMax = 200_000;

export async function tierTable(env: Env, table: TableEntry, nowMs: number): Promise<TieringResult> {
  const { definition } = table;
  const state = await getLakeState(env.CATALOG, table.tableId);
  const from = (bucket: number) => state?.bucketOffsets[String(bucket)] ?? 0;
  const statuses = await Promise.all(bucketsOf(definition.bucket.num).map((b) => tabletStub(env, table.tableId, b).status()));
  const pending = statuses.map((s, bucket) => ({ bucket, from: from(bucket), to: s.highWatermark })).filter((p) => p.to > p.from);
  if (pending.length === 0) return { kind: "up_to_date" };

  const tableKey = lakeLayout.tableKey(table.database, table.name, table.tableId);
  const uri = (key: string) => `${env.LAKE_URI_PREFIX}/${key}`;
  const schema = icebergSchema(definition);
  const partitionFields = partitionSpec(definition);
  const files: (DataFile & { bucket: number })[] = [];
  const bucketOffsets = { ...(state?.bucketOffsets ?? {}) };
  for (const { bucket, from: start, to } of pending) {
    const pages = await readRange(env, table, bucket, start, Math.min(to, start + roundRowsPerBucketMax));
    const rowCount = pages.reduce((n, p) => n + p.rowCount, 0);
    if (rowCount === 0) continue;
    const columns = dataFileColumns(definition, pages, bucket, rowCount);
    const bytes = writeDataFile(columns, rowCount, schema);
    const key = lakeLayout.dataKey(tableKey, `${partitionFields[0]!.name}=${bucket}`, crypto.randomUUID());
    await env.LAKE.put(key, bytes);
    files.push({
      bucket,
      content: 0,
      path: uri(key),
      recordCount: rowCount,
      fileSizeInBytes: bytes.byteLength,
      partition: { [partitionFields[0]!.name]: bucket },
      metrics: new Map(columns.map((c) => [c.id, columnMetrics(c, c.data)])),
      splitOffsets: [4],
    });
    bucketOffsets[String(bucket)] = start + rowCount;
  }
  const snapshotId = newSnapshotId();
  const previous = state ? await readMetadata(env, state.metadataLocation) : null;
  const metadata = previous ?? newTableMetadata({
    tableUuid: table.tableId,
    location: uri(tableKey),
    schema,
    partitionFields,
    sortFieldId: systemColumns.find((c) => c.name === "__offset")!.id,
    nowMs,
  });
  const sequenceNumber = metadata["last-sequence-number"] + 1;
  const manifestKey = lakeLayout.manifestKey(tableKey, crypto.randomUUID());
  const manifestBytes = writeManifest({ schema, specId: 0, partitionFields, content: "data", files });
  await env.LAKE.put(manifestKey, manifestBytes);
  const records = files.reduce((n, f) => n + f.recordCount, 0);
  const addedManifest: ManifestFile = {
    path: uri(manifestKey), length: manifestBytes.byteLength, specId: 0, content: 0,
    sequenceNumber, minSequenceNumber: sequenceNumber, addedSnapshotId: snapshotId,
    addedFiles: files.length, existingFiles: 0, deletedFiles: 0, addedRows: records, existingRows: 0, deletedRows: 0,
    partitions: [bucketRange(files.map((f) => f.bucket))],
  };
  const manifests = [addedManifest, ...(state?.manifests ?? [])];
  const listKey = lakeLayout.manifestListKey(tableKey, snapshotId, crypto.randomUUID());
  await env.LAKE.put(listKey, writeManifestList({ snapshotId, parentSnapshotId: metadata["current-snapshot-id"] ?? null, sequenceNumber, manifests }));
  const next = withSnapshot(metadata, state ? state.metadataLocation : null, {
    "snapshot-id": snapshotId,
    "manifest-list": uri(listKey),
    summary: appendSummary(metadata, files, bucketOffsets),
  }, nowMs);
  const version = (state?.version ?? 0) + 1;
  const metadataKey = lakeLayout.metadataKey(tableKey, version, crypto.randomUUID());
  const metadataJson = JSON.stringify(next);
  await env.LAKE.put(metadataKey, metadataJson);
  const committed: LakeState = { metadataLocation: uri(metadataKey), version, manifests, bucketOffsets };
  if (!(await commitLakeState(env.CATALOG, table.tableId, state?.version ?? 0, committed))) return { kind: "lost_race" };
  // For path-based readers; written after the commit so they never see an uncommitted version.
  await env.LAKE.put(lakeLayout.hadoopMetadataKey(tableKey, version), metadataJson);
  await env.LAKE.put(lakeLayout.versionHintKey(tableKey), String(version));
  return { kind: "committed", snapshotId, records, bucketOffsets };
}

/** The lake partition of a bucket: `bucket[N]` of a one-column bucket key (Floe's own bucket function), else the bucket itself. */
export function partitionSpec(definition: TableDefinition): PartitionField[] {
  const [key, ...more] = definition.bucket.key;
  if (key !== undefined && more.length === 0) {
    const column = definition.columns.find((c) => c.name === key)!;
    return [{ sourceId: column.id, fieldId: 1000, name: `${key}_bucket`, transform: `bucket[${definition.bucket.num}]`, resultType: "int" }];
  }
  const bucketColumn = systemColumns.find((c) => c.name === "__bucket")!;
  return [{ sourceId: bucketColumn.id, fieldId: 1000, name: "__bucket", transform: "identity", resultType: "int" }];
}

async function readRange(env: Env, table: TableEntry, bucket: number, from: number, to: number): Promise<LogPage[]> {
  const pages: LogPage[] = [];
  for (let offset = from; offset < to; ) {
    const page = await readLogPage(env, table, { bucket, offset, limit: Math.min(requestLimits.logReadRowsMax, to - offset) });
    if (page.rowCount === 0) break;
    pages.push(page);
    offset = page.nextOffset;
  }
  return pages;
}

/** The table's columns, then `__bucket`, `__offset` and `__timestamp`, from the log pages. */
function dataFileColumns(definition: TableDefinition, pages: LogPage[], bucket: number, rowCount: number) {
  const column = (index: number): arrow.Data => gatherRange(pages.map((p) => p.data[index]!), 0, rowCount);
  const userCount = definition.columns.length;
  const systemData: Record<string, arrow.Data> = {
    __bucket: buildColumn({ kind: "INT" }, new Array(rowCount).fill(bucket)),
    __offset: column(userCount),
    __timestamp: column(userCount + 1),
  };
  return lakeColumns(definition).map((c, i) => ({ ...c, data: i < userCount ? column(i) : systemData[c.name]! }));
}

function bucketRange(buckets: number[]): ManifestFile["partitions"][number] {
  const int = (n: number) => {
    const view = new DataView(new ArrayBuffer(4));
    view.setInt32(0, n, true);
    return new Uint8Array(view.buffer);
  };
  return { containsNull: false, lowerBound: int(Math.min(...buckets)), upperBound: int(Math.max(...buckets)) };
}

function appendSummary(metadata: TableMetadata, files: DataFile[], bucketOffsets: Record<string, number>) {
  const previous: Record<string, string> = metadata.snapshots.at(-1)?.summary ?? {};
  const total = (key: string, added: number) => String(Number(previous[key] ?? 0) + added);
  const records = files.reduce((n, f) => n + f.recordCount, 0);
  const bytes = files.reduce((n, f) => n + f.fileSizeInBytes, 0);
  return {
    operation: "append" as const,
    "added-data-files": String(files.length),
    "added-records": String(records),
    "added-files-size": String(bytes),
    "changed-partition-count": String(files.length),
    "total-data-files": total("total-data-files", files.length),
    "total-records": total("total-records", records),
    "total-files-size": total("total-files-size", bytes),
    "total-delete-files": "0",
    "total-position-deletes": "0",
    "total-equality-deletes": "0",
    "engine-name": "floe",
    "commit-user": "floe",
    "floe.bucket-offsets": JSON.stringify(bucketOffsets),
  };
}

async function readMetadata(env: Env, location: string): Promise<TableMetadata> {
  const key = location.slice(env.LAKE_URI_PREFIX.length + 1);
  const object = await env.LAKE.get(key);
  if (!object) throw new Error(`lake metadata ${location} is missing from R2`);
  return (await object.json()) as TableMetadata;
}
