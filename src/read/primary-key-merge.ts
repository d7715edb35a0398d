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
import { changeCode } from "../table/change-type.ts";
import { encodeKey, keyId } from "../table/keys.ts";
import { gather } from "../arrow/gather.ts";
import { hashRows } from "../arrow/hash.ts";
import { fileContent } from "../iceberg/manifest-read.ts";
import { positionDeleteColumns } from "../iceberg/schema.ts";
import { changeCodesOf } from "../log/page.ts";
import type { Predicate } from "../table/predicate.ts";
import type { LakeFile } from "./lake-snapshot.ts";
import type { RowChunk, ScanStats } from "./scan-rows.ts";
import { filterChunk, hotRows, lakeRows, pick } from "./scan-rows.ts";

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
  const keyIndexes = keyColumns.map((k) => columns.indexOf(k));
  const keyData = (chunk: RowChunk) => keyIndexes.map((i) => chunk.data[i]!);
  const deletedAt = await equalityDeletes(env, files.filter((f) => f.content === fileContent.equalityDeletes), keyColumns, stats);
  const deletedRows = await positionDeletes(env, files.filter((f) => f.content === fileContent.positionDeletes), stats);
  const changed = await changedRows(env, table, range, columns, keyColumns, keyIndexes, stats);
  // A lake row is checked by its exact key only when its key's hash is one a change or an equality delete has.
  const suspects = new Set<number>([...changed.hashes, ...deletedAt.hashes]);
  const deleted = (file: LakeFile) => {
    const applicable = (deletedRows.get(file.path) ?? []).filter((d) => d.sequenceNumber >= file.dataSequenceNumber);
    return applicable.length <= 1 ? applicable[0]?.positions : Int32Array.from(applicable.flatMap((d) => [...d.positions])).sort();
  };
  for await (const chunk of lakeRows(env, files.filter((f) => f.content === fileContent.data), columns, predicates, stats, deleted)) {
    const sequenceNumber = chunk.sequenceNumber!;
    const hashes = hashRows(keyData(chunk), chunk.rowCount);
    const key = keyColumns.map((k, i) => ({ type: k.type, data: chunk.data[keyIndexes[i]!]! }));
    const live: number[] = [];
    for (let row = 0; row < chunk.rowCount; row++) {
      if (suspects.has(hashes[row]!)) {
        const id = keyId(encodeKey(key, row));
        if (changed.rows.has(id) || (deletedAt.keys.get(id) ?? -1) > sequenceNumber) continue;
      }
      live.push(row);
    }
    if (live.length === chunk.rowCount) yield chunk;
    else if (live.length > 0) yield pick(chunk, live);
  }
  // The changed keys' final rows, gathered from the changelog chunks they were read in.
  const finalRows = [...changed.rows.values()].filter((row) => row !== null);
  if (finalRows.length === 0) return;
  const starts: number[] = [];
  changed.chunks.reduce((start, chunk) => (starts.push(start), start + chunk.rowCount), 0);
  const rows = finalRows.map(({ chunk, row }) => starts[chunk]! + row);
  const data = columns.map((_, c) => gather(changed.chunks.map((chunk) => chunk.data[c]!), rows));
  yield filterChunk({ rowCount: rows.length, data }, columns, predicates);
}

/** Per chunk row, its key id (the order-preserving key encoding as a string). */
function keyIds(chunk: RowChunk, keyColumns: readonly Column[], keyIndexes: readonly number[]): string[] {
  const key = keyColumns.map((k, i) => ({ type: k.type, data: chunk.data[keyIndexes[i]!]! }));
  return Array.from({ length: chunk.rowCount }, (_, row) => keyId(encodeKey(key, row)));
}

/** Per deleted key, the highest sequence number of an equality delete naming it; and the keys' hashes. */
async function equalityDeletes(env: Env, files: readonly LakeFile[], keyColumns: readonly Column[], stats: ScanStats) {
  const keys = new Map<string, number>();
  const hashes = new Set<number>();
  const indexes = keyColumns.map((_, i) => i);
  for await (const chunk of lakeRows(env, files, keyColumns, [], stats)) {
    for (const key of keyIds(chunk, keyColumns, indexes)) keys.set(key, Math.max(keys.get(key) ?? -1, chunk.sequenceNumber!));
    for (const hash of hashRows(chunk.data, chunk.rowCount)) hashes.add(hash);
  }
  return { keys, hashes };
}

/**
 * Per data file path, the positions position deletes remove from it (each
 * delete file's, ascending, with its sequence number: it applies to data
 * files of a sequence number at most its own).
 */
async function positionDeletes(env: Env, files: readonly LakeFile[], stats: ScanStats): Promise<Map<string, { sequenceNumber: number; positions: Int32Array }[]>> {
  const byPath = new Map<string, { sequenceNumber: number; positions: number[] }[]>();
  const utf8 = new TextDecoder();
  for await (const chunk of lakeRows(env, files, positionDeleteColumns, [], stats)) {
    const paths = chunk.data[0]!;
    const offsets = paths.valueOffsets as Int32Array;
    const bytes = paths.values as Uint8Array;
    const pos = chunk.data[1]!.values as BigInt64Array;
    const words = new Int32Array(pos.buffer, pos.byteOffset, pos.length * 2);
    // A delete file is sorted by path: decode a path only where it changes.
    let path = "";
    let entry: { sequenceNumber: number; positions: number[] } | undefined;
    for (let row = 0; row < chunk.rowCount; row++) {
      const start = offsets[row]!;
      const end = offsets[row + 1]!;
      const samePath = entry !== undefined && row > 0 && end - start === offsets[row]! - offsets[row - 1]! && sameBytes(bytes, start, offsets[row - 1]!, end - start);
      if (!samePath) {
        path = utf8.decode(bytes.subarray(start, end));
        const list = byPath.get(path) ?? byPath.set(path, []).get(path)!;
        entry = list.find((e) => e.sequenceNumber === chunk.sequenceNumber);
        if (!entry) list.push((entry = { sequenceNumber: chunk.sequenceNumber!, positions: [] }));
      }
      // Positions are rows of one file: far below 2^31.
      entry!.positions.push(words[2 * row]!);
    }
  }
  return new Map([...byPath].map(([path, list]) => [path, list.map((e) => ({ sequenceNumber: e.sequenceNumber, positions: Int32Array.from(e.positions).sort() }))]));
}

function sameBytes(bytes: Uint8Array, a: number, b: number, length: number): boolean {
  for (let i = 0; i < length; i++) if (bytes[a + i] !== bytes[b + i]) return false;
  return true;
}

/**
 * Per key changed in `[from, to)`: where its final row is (chunk and row), or
 * null when its last change deletes it; the changed keys' hashes; and the
 * changelog chunks read.
 */
async function changedRows(env: Env, table: TableEntry, range: BucketRange, columns: readonly Column[], keyColumns: readonly Column[], keyIndexes: readonly number[], stats: ScanStats) {
  const rows = new Map<string, { chunk: number; row: number } | null>();
  const hashes = new Set<number>();
  const chunks: RowChunk[] = [];
  for await (const chunk of hotRows(env, table, range.bucket, range.from, range.to, columns, stats)) {
    const index = chunks.push(chunk) - 1;
    const codes = changeCodesOf(chunk.changes!);
    for (const hash of hashRows(keyIndexes.map((i) => chunk.data[i]!), chunk.rowCount)) hashes.add(hash);
    keyIds(chunk, keyColumns, keyIndexes).forEach((key, row) => {
      const code = codes[row]!;
      if (code === changeCode["-U"]) return;
      rows.delete(key); // re-inserted last, so iteration order follows the latest change
      rows.set(key, code === changeCode["-D"] ? null : { chunk: index, row });
    });
  }
  return { rows, hashes, chunks };
}
