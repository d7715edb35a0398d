/**
 * The current state of one bucket of a primary-key table from the lake and
 * the changelog after it: the lake's state (data rows minus the rows
 * position deletes name and minus equality deletes with a higher sequence
 * number: Iceberg's rules), overridden key by key by the changelog from the
 * snapshot's offset to the high watermark, newest change winning and
 * deletes removing.
 *
 * Memory per bucket is its deleted positions, the keys of its equality
 * deletes and its changelog after the snapshot; lake data rows stream
 * through.
 *
 * Invariant: every key appears at most once, with the image of its latest
 * change at or below the high watermark read.
 */
import type { TableEntry } from "../catalog/catalog.ts";
import type { Column } from "../table/schema.ts";
import type { ChangeType } from "../table/change-type.ts";
import { readScalar } from "../table/columns.ts";
import { encodeKey, keyId } from "../table/keys.ts";
import { gather } from "../arrow/gather.ts";
import { fileContent } from "../iceberg/manifest-read.ts";
import { positionDeleteColumns } from "../iceberg/schema.ts";
import type { Predicate } from "./filter.ts";
import type { LakeFile } from "./lake-snapshot.ts";
import type { RowChunk, ScanStats } from "./scan-rows.ts";
import { hotRows, lakeRows, pick, selectRows } from "./scan-rows.ts";

export interface BucketRange {
  bucket: number;
  /** The first log offset the lake does not hold. */
  from: number;
  /** The high watermark the read stops at. */
  to: number;
}

export async function* mergedBucketRows(
  env: Env,
  table: TableEntry,
  range: BucketRange,
  files: readonly LakeFile[],
  columns: readonly Column[],
  predicates: readonly Predicate[],
  stats: ScanStats,
): AsyncGenerator<RowChunk> {
  const keyColumns = table.definition.primaryKey.map((name) => columns.find((c) => c.name === name)!);
  const deletedAt = await equalityDeletes(env, files.filter((f) => f.content === fileContent.equalityDeletes), keyColumns, stats);
  const deletedRows = await positionDeletes(env, files.filter((f) => f.content === fileContent.positionDeletes), stats);
  const keysOf = keyEncoder(columns, keyColumns);
  const changed = await changedRows(env, table, range, columns, keysOf);
  const deleted = (file: LakeFile) => {
    const applicable = (deletedRows.get(file.path) ?? []).filter((d) => d.sequenceNumber >= file.dataSequenceNumber);
    return applicable.length <= 1 ? applicable[0]?.positions : new Set(applicable.flatMap((d) => [...d.positions]));
  };
  for await (const chunk of lakeRows(env, files.filter((f) => f.content === fileContent.data), columns, predicates, stats, deleted)) {
    const sequenceNumber = chunk.sequenceNumber!;
    const live = keysOf(chunk).flatMap((key, row) => (!changed.rows.has(key) && !((deletedAt.get(key) ?? -1) > sequenceNumber) ? [row] : []));
    if (live.length > 0) yield pick(chunk, live);
  }
  // The changed keys' final rows, gathered from the changelog chunks they were read in.
  const finalRows = [...changed.rows.values()].filter((row) => row !== null);
  if (finalRows.length === 0) return;
  const starts: number[] = [];
  changed.chunks.reduce((start, chunk) => (starts.push(start), start + chunk.rowCount), 0);
  const rows = finalRows.map(({ chunk, row }) => starts[chunk]! + row);
  const data = columns.map((_, c) => gather(changed.chunks.map((chunk) => chunk.data[c]!), rows));
  yield selectRows({ rowCount: rows.length, data }, columns, predicates);
}

/** Per chunk row, its key id (the order-preserving key encoding as a string). */
function keyEncoder(columns: readonly Column[], keyColumns: readonly Column[]) {
  const indexes = keyColumns.map((k) => columns.indexOf(k));
  return (chunk: RowChunk): string[] => {
    const key = keyColumns.map((k, i) => ({ type: k.type, data: chunk.data[indexes[i]!]! }));
    return Array.from({ length: chunk.rowCount }, (_, row) => keyId(encodeKey(key, row)));
  };
}

/** Per deleted key, the highest sequence number of an equality delete naming it. */
async function equalityDeletes(env: Env, files: readonly LakeFile[], keyColumns: readonly Column[], stats: ScanStats): Promise<Map<string, number>> {
  const deletedAt = new Map<string, number>();
  const keysOf = keyEncoder(keyColumns, keyColumns);
  for await (const chunk of lakeRows(env, files, keyColumns, [], stats)) {
    for (const key of keysOf(chunk)) deletedAt.set(key, Math.max(deletedAt.get(key) ?? -1, chunk.sequenceNumber!));
  }
  return deletedAt;
}

/**
 * Per data file path, the positions position deletes remove from it (each
 * delete file's, with its sequence number: it applies to data files of a
 * sequence number at most its own).
 */
async function positionDeletes(env: Env, files: readonly LakeFile[], stats: ScanStats): Promise<Map<string, { sequenceNumber: number; positions: Set<number> }[]>> {
  const byPath = new Map<string, { sequenceNumber: number; positions: Set<number> }[]>();
  const [pathColumn, posColumn] = positionDeleteColumns;
  for await (const chunk of lakeRows(env, files, positionDeleteColumns, [], stats)) {
    for (let row = 0; row < chunk.rowCount; row++) {
      const path = readScalar(pathColumn!.type, chunk.data[0]!, row) as string;
      const pos = Number(readScalar(posColumn!.type, chunk.data[1]!, row));
      const list = byPath.get(path) ?? byPath.set(path, []).get(path)!;
      let entry = list.find((e) => e.sequenceNumber === chunk.sequenceNumber);
      if (!entry) list.push((entry = { sequenceNumber: chunk.sequenceNumber!, positions: new Set() }));
      entry.positions.add(pos);
    }
  }
  return byPath;
}

/**
 * Per key changed in `[from, to)`: where its final row is (chunk and row), or
 * null when its last change deletes it; and the changelog chunks read.
 */
async function changedRows(env: Env, table: TableEntry, range: BucketRange, columns: readonly Column[], keysOf: (chunk: RowChunk) => string[]) {
  const rows = new Map<string, { chunk: number; row: number } | null>();
  const chunks: RowChunk[] = [];
  for await (const chunk of hotRows(env, table, range.bucket, range.from, range.to, columns)) {
    const index = chunks.push(chunk) - 1;
    keysOf(chunk).forEach((key, row) => {
      const change = readScalar({ kind: "STRING" }, chunk.changes!, row) as ChangeType;
      if (change === "-U") return;
      rows.delete(key); // re-inserted last, so iteration order follows the latest change
      rows.set(key, change === "-D" ? null : { chunk: index, row });
    });
  }
  return { rows, chunks };
}
