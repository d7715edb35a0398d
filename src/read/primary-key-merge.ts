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
import type { PhysicalTable } from "../catalog/partitions.ts";
import type { Column } from "../table/schema.ts";
import { changeCode } from "../table/change-type.ts";
import { encodeKey, keyId } from "../table/keys.ts";
import type * as arrow from "apache-arrow";
import { hashRows } from "../arrow/hash.ts";
import { concatColumns, takeRows } from "../arrow/take.ts";
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
  table: PhysicalTable,
  range: BucketRange,
  files: readonly LakeFile[],
  columns: readonly Column[],
  predicates: readonly Predicate[],
  stats: ScanStats,
): AsyncGenerator<RowChunk> {
  const keyColumns = table.definition.primaryKey.map((name) => columns.find((c) => c.name === name)!);
  const keyIndexes = keyColumns.map((k) => columns.indexOf(k));
  const keyData = (chunk: RowChunk) => keyIndexes.map((i) => chunk.data[i]!);
  // The deletes (from R2) and the changelog (from the Tablet) are read at once: the first row waits for all three.
  const [deletedAt, deletedRows, changed] = await Promise.all([
    equalityDeletes(env, files.filter((f) => f.content === fileContent.equalityDeletes), keyColumns, stats),
    positionDeletes(env, files.filter((f) => f.content === fileContent.positionDeletes), stats),
    changedRows(env, table, range, columns, keyColumns, keyIndexes, stats),
  ]);
  // A lake row is checked by its exact key only when its key's hash is one a change or an equality delete has.
  const suspects = new Set<number>([...changed.hashes, ...deletedAt.hashes]);
  const deleted = (file: LakeFile) => {
    const applicable = (deletedRows.get(file.path) ?? []).filter((d) => d.sequenceNumber >= file.dataSequenceNumber);
    return applicable.length <= 1 ? applicable[0]?.positions : Int32Array.from(applicable.flatMap((d) => [...d.positions])).sort();
  };
  for await (const chunk of lakeRows(env, files.filter((f) => f.content === fileContent.data), columns, predicates, stats, deleted)) {
    const sequenceNumber = chunk.sequenceNumber!;
    const hashes = hashRows(keyData(chunk), chunk.rowCount);
    const key = keyOf(keyColumns, keyData(chunk));
    const live: number[] = [];
    for (let row = 0; row < chunk.rowCount; row++) {
      if (suspects.has(hashes[row]!)) {
        const id = key(row);
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
  const rows = Int32Array.from(finalRows, ({ chunk, row }) => starts[chunk]! + row);
  const data = columns.map((_, c) => takeRows(concatColumns(changed.chunks.map((chunk) => chunk.data[c]!)), rows));
  yield filterChunk({ rowCount: rows.length, data }, columns, predicates);
}

type KeyId = number | string;

/**
 * A row's key as a Map key: for a key of one integer column (DATE, TIME and
 * timestamps included), its value as a number when within ±2^53; otherwise
 * the order-preserving key encoding as a string. A value is always spelled
 * one way, so equal keys are equal ids.
 */
function keyOf(keyColumns: readonly Column[], data: readonly arrow.Data[]): (row: number) => KeyId {
  const encoded = (row: number) => keyId(encodeKey(keyColumns.map((k, i) => ({ type: k.type, data: data[i]! })), row));
  if (keyColumns.length !== 1) return encoded;
  switch (keyColumns[0]!.type.kind) {
    case "TINYINT":
    case "SMALLINT":
    case "INT":
    case "DATE": {
      const values = data[0]!.values as Int8Array | Int16Array | Int32Array;
      return (row) => values[row]!;
    }
    case "BIGINT":
    case "TIME":
    case "TIMESTAMP":
    case "TIMESTAMP_LTZ": {
      const values = data[0]!.values as BigInt64Array;
      const words = new Int32Array(values.buffer, values.byteOffset, values.length * 2);
      return (row) => {
        const high = words[2 * row + 1]!;
        return high >= -0x200000 && high < 0x200000 ? high * 4294967296 + (words[2 * row]! >>> 0) : encoded(row);
      };
    }
    default:
      return encoded;
  }
}

/** Every row's key id. */
function keyIds(chunk: RowChunk, keyColumns: readonly Column[], keyIndexes: readonly number[]): KeyId[] {
  const key = keyOf(keyColumns, keyIndexes.map((i) => chunk.data[i]!));
  return Array.from({ length: chunk.rowCount }, (_, row) => key(row));
}

/** Per deleted key, the highest sequence number of an equality delete naming it; and the keys' hashes. */
async function equalityDeletes(env: Env, files: readonly LakeFile[], keyColumns: readonly Column[], stats: ScanStats) {
  const keys = new Map<KeyId, number>();
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
    const same = (a: number, b: number) => {
      const length = offsets[a + 1]! - offsets[a]!;
      if (offsets[b + 1]! - offsets[b]! !== length) return false;
      for (let i = length - 1; i >= 0; i--) if (bytes[offsets[a]! + i] !== bytes[offsets[b]! + i]) return false;
      return true;
    };
    // Iceberg requires a delete file sorted by path (then position): each run of one path is found by galloping
    // and its path decoded once.
    for (let row = 0; row < chunk.rowCount; ) {
      let end = row + 1;
      for (let step = 1; end < chunk.rowCount && same(row, end); step *= 2) end = Math.min(chunk.rowCount, end + step);
      let lo = row;
      let hi = end;
      while (hi - lo > 1) {
        const mid = (lo + hi) >> 1;
        if (same(row, mid)) lo = mid;
        else hi = mid;
      }
      const path = utf8.decode(bytes.subarray(offsets[row]!, offsets[row + 1]!));
      const list = byPath.get(path) ?? byPath.set(path, []).get(path)!;
      let entry = list.find((e) => e.sequenceNumber === chunk.sequenceNumber);
      if (!entry) list.push((entry = { sequenceNumber: chunk.sequenceNumber!, positions: [] }));
      // Positions are rows of one file: far below 2^31.
      for (let r = row; r <= lo; r++) entry.positions.push(words[2 * r]!);
      row = lo + 1;
    }
  }
  return new Map([...byPath].map(([path, list]) => [path, list.map((e) => ({ sequenceNumber: e.sequenceNumber, positions: Int32Array.from(e.positions).sort() }))]));
}

/**
 * Per key changed in `[from, to)`: where its final row is (chunk and row), or
 * null when its last change deletes it; the changed keys' hashes; and the
 * changelog chunks read.
 */
async function changedRows(env: Env, table: PhysicalTable, range: BucketRange, columns: readonly Column[], keyColumns: readonly Column[], keyIndexes: readonly number[], stats: ScanStats) {
  const rows = new Map<KeyId, { chunk: number; row: number } | null>();
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
