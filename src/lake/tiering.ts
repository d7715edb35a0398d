/**
 * One tiering round of a table: every bucket's rows from its tiered offset
 * to its high watermark (up to a bound per round) become one Parquet file
 * per bucket, committed as one Iceberg snapshot whose summary records the
 * exclusive end offset reached in every bucket. A primary-key table's round
 * writes the final image of each key it touched, plus an equality-delete
 * file of the touched keys that existed before the round, in one
 * `overwrite` snapshot (an `append` when every touched key is new).
 *
 * Invariants: the commit is a compare-and-swap on the catalog's lake state,
 * so a row range is committed at most once; files written by a round that
 * loses the race are never referenced (only wasted), so nothing is
 * duplicated; a bucket's tiered offset only moves forward.
 */
import type { TableEntry } from "../catalog/catalog.ts";
import type { LakeState } from "../catalog/lake.ts";
import { commitLakeState } from "../catalog/lake.ts";
import * as arrow from "apache-arrow";
import { gather, gatherRange } from "../arrow/gather.ts";
import { readScalar } from "../table/columns.ts";
import { encodeKey } from "../table/keys.ts";
import type { TableDefinition } from "../table/schema.ts";
import { isPrimaryKeyTable } from "../table/schema.ts";
import { keyId } from "../tablet/kv.ts";
import type { ChangeType } from "../table/change-type.ts";
import type { IcebergSchema } from "../iceberg/schema.ts";
import { icebergSchema, lakeColumns, systemColumns } from "../iceberg/schema.ts";
import type { DataFile, ManifestFile, PartitionField } from "../iceberg/manifest.ts";
import { writeManifest, writeManifestList } from "../iceberg/manifest.ts";
import type { TableMetadata } from "../iceberg/metadata.ts";
import { bucketOffsetsSummaryKey, firstPartitionFieldId, newSnapshotId, newTableMetadata, withSnapshot } from "../iceberg/metadata.ts";
import { boundValue } from "../iceberg/metrics.ts";
import type { DataFileColumn } from "./parquet.ts";
import { writeDataFile } from "./parquet.ts";
import { lakeUri, readMetadata } from "./objects.ts";
import { readLogRange } from "../read/log.ts";
import type { LogPage } from "../read/log-page.ts";
import { bucketsOf, tabletStub } from "../tablet/stub.ts";
import { lakeLayout } from "../vocabulary.ts";

export type TieringResult =
  | { kind: "committed"; snapshotId: number; records: number; bucketOffsets: Record<string, number> }
  | { kind: "up_to_date" }
  | { kind: "lost_race" };

/** Rows one bucket contributes to one round, so a round stays well inside a Worker's memory. */
const roundRowsPerBucketMax = 200_000;

/** One round from `state`, the table's lake state as just read from the catalog (null: nothing tiered yet). */
export async function tierTable(env: Env, table: TableEntry, state: LakeState | null, nowMs: number): Promise<TieringResult> {
  const { definition } = table;
  const from = (bucket: number) => state?.bucketOffsets[String(bucket)] ?? 0;
  const statuses = await Promise.all(bucketsOf(definition.bucket.num).map((b) => tabletStub(env, table.tableId, b).status()));
  const pending = statuses.map((s, bucket) => ({ bucket, from: from(bucket), to: s.highWatermark })).filter((p) => p.to > p.from);
  if (pending.length === 0) return { kind: "up_to_date" };

  const tableKey = lakeLayout.tableKey(table.database, table.name, table.tableId);
  const uri = (key: string) => lakeUri(env, key);
  const schema = icebergSchema(definition);
  const partitionFields = partitionSpec(definition);
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
  const dataFiles: BucketFile[] = [];
  const deleteFiles: BucketFile[] = [];
  const bucketOffsets = { ...(state?.bucketOffsets ?? {}) };
  for (const { bucket, from: start, to } of pending) {
    const pages = await readLogRange(env, table, { bucket, from: start, to: Math.min(to, start + roundRowsPerBucketMax) });
    const rowCount = pages.reduce((n, p) => n + p.rowCount, 0);
    if (rowCount === 0) continue;
    const partition = { [partitionFields[0]!.name]: bucket };
    const put = async (columns: DataFileColumn[], fileSchema: IcebergSchema, content: 0 | 2, extra?: Record<string, string>) => {
      const written = await writeDataFile(columns, fileSchema, extra);
      const suffix = content === 2 ? "-eq-deletes" : "";
      const key = lakeLayout.dataKey(tableKey, `${partitionFields[0]!.name}=${bucket}`, `${sequenceNumber}-${crypto.randomUUID()}${suffix}`);
      await env.LAKE.put(key, written.bytes);
      const file: BucketFile = {
        bucket, content, path: uri(key), recordCount: written.recordCount, fileSizeInBytes: written.bytes.byteLength, partition,
        metrics: written.metrics, splitOffsets: written.splitOffsets,
        // Rows go in offset order, as the default sort order (`__offset` ascending) says.
        sortOrderId: metadata["default-sort-order-id"],
      };
      if (content === 2) file.equalityIds = schema["identifier-field-ids"];
      return file;
    };
    const rowsOf = dataFileColumns(definition, pages, bucket);
    if (!isPrimaryKeyTable(definition)) {
      dataFiles.push(await put(rowsOf("all"), schema, 0));
    } else {
      // A round applies its changes per key, last wins: the final images become data, and every key that existed
      // before the round gets an equality delete, which removes its older versions (lower sequence numbers) but not
      // this round's rows.
      const { finalRows, existedRows } = lastChangePerKey(definition, pages, rowCount);
      if (finalRows.length > 0) dataFiles.push(await put(rowsOf(finalRows), schema, 0));
      if (existedRows.length > 0) {
        const keyNames = new Set(definition.primaryKey);
        const deleteSchema = { ...schema, fields: schema.fields.filter((f) => keyNames.has(f.name)) };
        const equalityIds = schema["identifier-field-ids"]!.join(",");
        deleteFiles.push(await put(rowsOf(existedRows, keyNames), deleteSchema, 2, { "delete-type": "equality", "delete-field-ids": equalityIds }));
      }
    }
    bucketOffsets[String(bucket)] = start + rowCount;
  }
  const snapshotId = newSnapshotId();
  const added: ManifestFile[] = [];
  for (const [files, content] of [[dataFiles, 0], [deleteFiles, 1]] as const) {
    if (files.length === 0) continue;
    const manifestKey = lakeLayout.manifestKey(tableKey, crypto.randomUUID());
    const bytes = writeManifest({ schema, specId: 0, partitionFields, content: content === 0 ? "data" : "deletes", files });
    await env.LAKE.put(manifestKey, bytes);
    const rows = files.reduce((n, f) => n + f.recordCount, 0);
    added.push({
      path: uri(manifestKey), length: bytes.byteLength, specId: 0, content,
      sequenceNumber, minSequenceNumber: sequenceNumber, addedSnapshotId: snapshotId,
      addedFiles: files.length, existingFiles: 0, deletedFiles: 0, addedRows: rows, existingRows: 0, deletedRows: 0,
      partitions: [bucketRange(files.map((f) => f.bucket))],
    });
  }
  const manifests = [...added, ...(state?.manifests ?? [])];
  const listKey = lakeLayout.manifestListKey(tableKey, snapshotId, crypto.randomUUID());
  await env.LAKE.put(listKey, writeManifestList({ snapshotId, parentSnapshotId: metadata["current-snapshot-id"] ?? null, sequenceNumber, manifests }));
  const next = withSnapshot(metadata, state ? state.metadataLocation : null, {
    "snapshot-id": snapshotId,
    "manifest-list": uri(listKey),
    summary: commitSummary(metadata, dataFiles, deleteFiles, bucketOffsets),
  }, nowMs);
  const version = (state?.version ?? 0) + 1;
  const metadataKey = lakeLayout.metadataKey(tableKey, version, crypto.randomUUID());
  const metadataJson = JSON.stringify(next);
  await env.LAKE.put(metadataKey, metadataJson);
  const committed: LakeState = { metadataLocation: uri(metadataKey), snapshotId, version, manifests, bucketOffsets };
  if (!(await commitLakeState(env.CATALOG, table.tableId, state?.version ?? 0, committed))) return { kind: "lost_race" };
  // For path-based readers; written after the commit so they never see an uncommitted version.
  await env.LAKE.put(lakeLayout.hadoopMetadataKey(tableKey, version), metadataJson);
  await env.LAKE.put(lakeLayout.versionHintKey(tableKey), String(version));
  const records = dataFiles.reduce((n, f) => n + f.recordCount, 0);
  return { kind: "committed", snapshotId, records, bucketOffsets };
}

type BucketFile = DataFile & { bucket: number };

/**
 * Per key touched in the round, the row of its last change; of those, the
 * rows whose last change leaves a row (the final images) and the rows of
 * keys that existed before the round (the keys that need an equality delete).
 */
function lastChangePerKey(definition: TableDefinition, pages: LogPage[], rowCount: number) {
  const columnData = (index: number) => gatherRange(pages.map((p) => p.data[index]!), 0, rowCount);
  const key = definition.primaryKey.map((name) => {
    const index = definition.columns.findIndex((c) => c.name === name);
    return { type: definition.columns[index]!.type, data: columnData(index) };
  });
  const changes = columnData(definition.columns.length + 2);
  const change = (row: number) => readScalar({ kind: "STRING" }, changes, row) as ChangeType;
  const first = new Map<string, number>();
  const last = new Map<string, number>();
  for (let row = 0; row < rowCount; row++) {
    const id = keyId(encodeKey(key, row));
    if (!first.has(id)) first.set(id, row);
    last.set(id, row);
  }
  const touchedRows = [...last.values()].sort((a, b) => a - b);
  const finalRows = touchedRows.filter((row) => change(row) !== "-D");
  // The lake holds the state as of the round's start, so a key whose first change here inserts it has no row there to delete.
  const existedRows = [...last.entries()].filter(([id]) => change(first.get(id)!) !== "+I").map(([, row]) => row).sort((a, b) => a - b);
  return { finalRows, existedRows };
}

/** The lake partition of a bucket: `bucket[N]` of a one-column bucket key (Floe's own bucket function), else the bucket itself. */
function partitionSpec(definition: TableDefinition): PartitionField[] {
  const [key, ...more] = definition.bucket.key;
  if (key !== undefined && more.length === 0) {
    const column = definition.columns.find((c) => c.name === key)!;
    return [{ sourceId: column.id, fieldId: firstPartitionFieldId, name: `${key}_bucket`, transform: `bucket[${definition.bucket.num}]`, resultType: "int" }];
  }
  const bucketColumn = systemColumns.find((c) => c.name === "__bucket")!;
  return [{ sourceId: bucketColumn.id, fieldId: firstPartitionFieldId, name: "__bucket", transform: "identity", resultType: "int" }];
}

/**
 * The data file columns (the table's, then `__bucket`, `__offset`,
 * `__timestamp`) of the chosen rows of the log pages: all of them as the
 * pages' own chunks, or some of them gathered into one chunk.
 */
function dataFileColumns(definition: TableDefinition, pages: LogPage[], bucket: number) {
  const userCount = definition.columns.length;
  const pageColumn = (index: number) => pages.map((p) => p.data[index]!);
  // A page holds the table's columns, then _offset and _timestamp, which become __offset and __timestamp.
  const pageIndex: Record<string, number> = { __offset: userCount, __timestamp: userCount + 1 };
  const bucketChunk = (length: number) => arrow.makeData({ type: new arrow.Int32(), length, nullCount: 0, data: new Int32Array(length).fill(bucket) });
  return (rows: number[] | "all", only?: ReadonlySet<string>): DataFileColumn[] =>
    lakeColumns(definition).flatMap((c, i) => {
      if (only && !only.has(c.name)) return [];
      if (c.name === "__bucket") return [{ ...c, chunks: rows === "all" ? pages.map((p) => bucketChunk(p.rowCount)) : [bucketChunk(rows.length)] }];
      const chunks = pageColumn(i < userCount ? i : pageIndex[c.name]!);
      return [{ ...c, chunks: rows === "all" ? chunks : [gather(chunks, rows)] }];
    });
}

function bucketRange(buckets: number[]): ManifestFile["partitions"][number] {
  const int = (n: number) => boundValue({ kind: "INT" }, n);
  return { containsNull: false, lowerBound: int(Math.min(...buckets)), upperBound: int(Math.max(...buckets)) };
}

function commitSummary(metadata: TableMetadata, dataFiles: BucketFile[], deleteFiles: BucketFile[], bucketOffsets: Record<string, number>) {
  const previous: Record<string, string> = metadata.snapshots.at(-1)?.summary ?? {};
  const total = (key: string, added: number) => String(Number(previous[key] ?? 0) + added);
  const sum = (files: DataFile[], pick: (f: DataFile) => number) => files.reduce((n, f) => n + pick(f), 0);
  const records = sum(dataFiles, (f) => f.recordCount);
  const deletes = sum(deleteFiles, (f) => f.recordCount);
  const bytes = sum([...dataFiles, ...deleteFiles], (f) => f.fileSizeInBytes);
  return {
    operation: deleteFiles.length > 0 ? ("overwrite" as const) : ("append" as const),
    "added-data-files": String(dataFiles.length),
    "added-records": String(records),
    "added-delete-files": String(deleteFiles.length),
    "added-equality-delete-files": String(deleteFiles.length),
    "added-equality-deletes": String(deletes),
    "added-files-size": String(bytes),
    "changed-partition-count": String(new Set([...dataFiles, ...deleteFiles].map((f) => f.bucket)).size),
    "total-data-files": total("total-data-files", dataFiles.length),
    "total-records": total("total-records", records),
    "total-files-size": total("total-files-size", bytes),
    "total-delete-files": total("total-delete-files", deleteFiles.length),
    "total-position-deletes": "0",
    "total-equality-deletes": total("total-equality-deletes", deletes),
    "engine-name": "floe",
    "commit-user": "floe",
    [bucketOffsetsSummaryKey]: JSON.stringify(bucketOffsets),
  };
}
