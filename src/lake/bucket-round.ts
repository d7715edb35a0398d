/**
 * One bucket's part of a tiering round, as its lake writer runs it: the
 * bucket's log from the lake's offset up to a bound, read from its Tablet
 * as Arrow, becomes one data file; for a primary-key table the data file
 * holds each changed key's final image, and a position-delete file removes
 * the keys' previous lake rows (found in the writer's position index).
 *
 * Invariants: the rows of `[from, reached)` are all in the round's files
 * and no others; a key has at most one live lake row after the round (its
 * final image, or none when its last change deletes it); only whole
 * columns are moved, never converted value by value.
 */
import type * as arrow from "apache-arrow";
import type { TableEntry } from "../catalog/catalog.ts";
import type { ColumnBatch } from "../arrow/batch.ts";
import { gather } from "../arrow/gather.ts";
import { makeColumn } from "../arrow/gather.ts";
import { encodeKey, keyId } from "../table/keys.ts";
import type { Column } from "../table/schema.ts";
import { columnSpec, isPrimaryKeyTable } from "../table/schema.ts";
import { buildColumn } from "../table/columns.ts";
import { arrowType } from "../table/types.ts";
import { formatPartitionSpec } from "../table/partitioning.ts";
import { changeCode } from "../table/change-type.ts";
import type { LogPage } from "../log/page.ts";
import { changeCodesOf, pageFromWire, systemColumnIndexes } from "../log/page.ts";
import { live, tabletStub } from "../tablet/stub.ts";
import type { DataFile } from "../iceberg/manifest.ts";
import { icebergSchema, positionDeleteColumns, positionDeleteSchema, systemColumns } from "../iceberg/schema.ts";
import type { DataFileColumn } from "./parquet.ts";
import { putLakeFile } from "./data-file.ts";
import type { LakeOwner } from "./table-layout.ts";
import { bucketFileKey, partitionTuple } from "./table-layout.ts";

/** Rows one bucket contributes to one round at most, so a round stays well inside a Worker's memory. */
export const roundRowsPerBucketMax = 500_000;
/** Stored Arrow bytes one bucket contributes to one round at most (the encoder holds them and their Parquet at once). */
export const roundBytesPerBucketMax = 16 * 1024 * 1024;
/** Rows and bytes asked of the Tablet per read. */
const readRowsMax = 50_000;
const readBytesMax = 4 * 1024 * 1024;

/** The bucket's log `[from, to)` read from its Tablet, stopping at the round's bounds; `reached` is where it stopped. */
export async function readRoundRows(env: Env, table: LakeOwner, bucket: number, from: number, to: number): Promise<{ pages: LogPage[]; reached: number }> {
  const stub = tabletStub(env, table, bucket);
  const columns = table.definition.columns;
  const tablet = table.partition ? `bucket ${bucket} of ${formatPartitionSpec(table.definition.partitionKeys, table.partition.values)}` : `bucket ${bucket}`;
  const pages: LogPage[] = [];
  let offset = from;
  let rows = 0;
  let bytes = 0;
  while (offset < to && rows < roundRowsPerBucketMax && bytes < roundBytesPerBucketMax) {
    const result = live(await stub.read({
      offset,
      rowsMax: Math.min(readRowsMax, to - offset, roundRowsPerBucketMax - rows),
      bytesMax: Math.min(readBytesMax, roundBytesPerBucketMax - bytes),
      columns: columns.map(columnSpec),
    }));
    if (result.kind === "offset_out_of_range") {
      throw new Error(`${tablet}'s log starts at ${result.logStartOffset}, after the lake's offset ${offset}: untiered log was dropped`);
    }
    const page = pageFromWire(result.page, bucket, columns);
    if (page.rowCount === 0) throw new Error(`${tablet}'s log ended at ${offset}, before ${to}`);
    pages.push(page);
    rows += page.rowCount;
    bytes += result.page.ipc.byteLength;
    offset = page.nextOffset;
  }
  return { pages, reached: offset };
}

/** What a primary-key round leaves for the position index: each changed key's new lake row, or none. */
export interface KeyPosition {
  key: Uint8Array;
  /** Index of the new data file in `files`, or null when the key has no lake row after the round. */
  file: number | null;
  pos: number | null;
}

export interface BucketFiles {
  /** The data file first, then delete files. */
  files: DataFile[];
  positions: KeyPosition[];
}

/** Where a key's current lake row is, from the writer's index; `indexComplete` says whether a missing key has none. */
export interface PositionLookup {
  positions: Map<string, { path: string; pos: number }>;
  indexComplete: boolean;
}

/**
 * The files of one bucket's round. `lookup` gives the previous lake rows of
 * the keys a primary-key round changes.
 */
export async function writeBucketFiles(
  env: Env,
  table: LakeOwner,
  bucket: number,
  sequenceNumber: number,
  pages: readonly LogPage[],
  lookup: (keys: Uint8Array[]) => PositionLookup,
  /** Told each file's R2 key before the file is put, so a round that fails can remove what it wrote. */
  journal: (key: string) => void,
): Promise<BucketFiles> {
  const { definition } = table;
  const columns = lakeColumnChunks(definition.columns, pages, bucket);
  const partition = partitionTuple(table, bucket);
  const schema = icebergSchema(definition);
  const put = (kind: "data" | "positionDeletes" | "equalityDeletes", request: Omit<Parameters<typeof putLakeFile>[1], "key" | "partition" | "content">) => {
    const key = bucketFileKey(table, bucket, sequenceNumber, kind);
    journal(key);
    return putLakeFile(env, { ...request, key, partition, content: kind === "data" ? 0 : kind === "positionDeletes" ? 1 : 2 });
  };
  if (!isPrimaryKeyTable(definition)) {
    return { files: [await put("data", { columns: columns.map(({ column, chunks }) => ({ ...column, chunks })), schema })], positions: [] };
  }
  const changes = lastChangePerKey(table, pages);
  const { positions: previous, indexComplete } = lookup(changes.keys.map((k) => k.key));
  const files: DataFile[] = [];
  const positions: KeyPosition[] = [];
  // The final images, in offset order; each key's new position is its row in this file.
  const finalRows = changes.keys.filter((k) => k.lastChange !== changeCode["-D"]).map((k) => k.lastRow).sort((a, b) => a - b);
  const newPosition = new Map(finalRows.map((row, pos) => [row, pos]));
  if (finalRows.length > 0) {
    files.push(await put("data", { columns: columns.map(({ column, chunks }) => ({ ...column, chunks: [gather(chunks, finalRows)] })), schema }));
  }
  for (const k of changes.keys) {
    const pos = newPosition.get(k.lastRow);
    positions.push({ key: k.key, file: pos === undefined ? null : 0, pos: pos ?? null });
  }
  // The previous lake rows of changed keys: by position where the index knows them. A key the index does not know
  // had no lake row, unless the bucket was tiered before the index existed; then a key the round did not insert
  // gets an equality delete (which applies to older sequence numbers only, so not to this round's rows).
  const deleted = changes.keys.flatMap((k) => {
    const at = previous.get(keyId(k.key));
    return at ? [at] : [];
  }).sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : a.pos - b.pos));
  if (deleted.length > 0) {
    const deleteColumns: DataFileColumn[] = [
      { ...positionDeleteColumns[0]!, chunks: [buildColumn({ kind: "STRING" }, deleted.map((d) => d.path))] },
      { ...positionDeleteColumns[1]!, chunks: [buildColumn({ kind: "BIGINT" }, deleted.map((d) => BigInt(d.pos)))] },
    ];
    files.push(await put("positionDeletes", { columns: deleteColumns, schema: positionDeleteSchema(), metadata: { "delete-type": "position" } }));
  }
  const unindexed = indexComplete ? [] : changes.keys.filter((k) => !previous.has(keyId(k.key)) && k.firstChange !== changeCode["+I"]);
  if (unindexed.length > 0) {
    const rows = unindexed.map((k) => k.lastRow).sort((a, b) => a - b);
    const keyNames = new Set(definition.primaryKey);
    const keyColumns = columns.filter(({ column }) => keyNames.has(column.name));
    const equalityIds = schema["identifier-field-ids"]!;
    files.push(await put("equalityDeletes", {
      columns: keyColumns.map(({ column, chunks }) => ({ ...column, chunks: [gather(chunks, rows)] })),
      schema: { ...schema, fields: schema.fields.filter((f) => keyNames.has(f.name)) },
      metadata: { "delete-type": "equality", "delete-field-ids": equalityIds.join(",") },
      equalityIds,
    }));
  }
  return { files, positions };
}

/**
 * The lake columns (the table's, then `__bucket`, `__offset`, `__timestamp`)
 * as chunks, one per record batch of the pages: the table's columns and the
 * pages' `_offset` and `_timestamp` pass through as they are.
 */
function lakeColumnChunks(tableColumns: readonly Column[], pages: readonly LogPage[], bucket: number): { column: Column; chunks: arrow.Data[] }[] {
  const batches: ColumnBatch[] = pages.flatMap((p) => p.batches);
  const system = systemColumnIndexes(tableColumns.length);
  const indexOf: Record<string, number> = { __offset: system.offset, __timestamp: system.timestamp };
  return [...tableColumns, ...systemColumns].map((column, i) => ({
    column,
    chunks: batches.map((batch) =>
      column.name === "__bucket"
        ? makeColumn({ type: arrowType(column.type), length: batch.rowCount, nullCount: 0, data: new Int32Array(batch.rowCount).fill(bucket) })
        : batch.columns[i < tableColumns.length ? i : indexOf[column.name]!]!),
  }));
}

/** Per key changed in the pages: its encoded key, the row (over all pages) of its last change, and its first and last change codes. */
function lastChangePerKey(table: TableEntry, pages: readonly LogPage[]) {
  const { definition } = table;
  const keyIndexes = definition.primaryKey.map((name) => definition.columns.findIndex((c) => c.name === name));
  const change = systemColumnIndexes(definition.columns.length).change;
  const keys = new Map<string, { key: Uint8Array; lastRow: number; firstChange: number; lastChange: number }>();
  let row = 0;
  for (const batch of pages.flatMap((p) => p.batches)) {
    const keyColumns = keyIndexes.map((index) => ({ type: definition.columns[index]!.type, data: batch.columns[index]! }));
    const codes = changeCodesOf(batch.columns[change]!);
    for (let r = 0; r < batch.rowCount; r++, row++) {
      const key = encodeKey(keyColumns, r);
      const id = keyId(key);
      const entry = keys.get(id);
      if (entry) {
        entry.lastRow = row;
        entry.lastChange = codes[r]!;
      } else {
        keys.set(id, { key, lastRow: row, firstChange: codes[r]!, lastChange: codes[r]! });
      }
    }
  }
  return { keys: [...keys.values()] };
}
