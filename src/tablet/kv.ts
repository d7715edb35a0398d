/**
 * Primary-key writes in a Tablet: each input row is merged with the key's
 * current row (kv), the resulting change is appended to the log (the
 * changelog) and kv is updated, all in the caller's transaction.
 *
 * Invariants: kv and changelog change together, so a row visible in kv has
 * its change in the log and replaying the changelog from offset 0 rebuilds
 * kv exactly; rows of one batch apply in order, so a key written twice in a
 * batch sees its first write; an unchanged row, a delete of a missing key
 * and a write the merge engine ignores produce no change at all.
 */
import type * as arrow from "apache-arrow";
import { decodeStream, joinStream } from "../arrow/ipc.ts";
import { buildColumn, readScalar } from "../table/columns.ts";
import type { ChangeType } from "../table/change-type.ts";
import { changeCode, changeColumnName } from "../table/change-type.ts";
import { encodeKey } from "../table/keys.ts";
import type { Column } from "../table/schema.ts";
import type { FloeType } from "../table/types.ts";
import { parseType } from "../table/types.ts";
import type { JsonValue } from "../table/values.ts";
import { scalarFromJson, scalarToJson } from "../table/values.ts";
import type { LogFrames } from "./frames.ts";
import { encodeFrames } from "./frames.ts";
import * as queries from "./queries.ts";

/** What a Tablet needs to know of a primary-key table to apply writes; sent with every write. */
export interface PrimaryKeySpec {
  columns: { name: string; type: string; nullable: boolean }[];
  /** Key columns in kv-key order: the bucket key first, then the rest of the primary key. */
  keyOrder: string[];
  mergeEngine: "last_row" | "first_row" | "versioned";
  versionColumn?: string;
  changelogImage: "full" | "wal";
}

export interface PrimaryKeyWrite extends PrimaryKeySpec {
  op: "upsert" | "delete";
}

type StoredRow = JsonValue[];

interface Change {
  type: ChangeType;
  row: StoredRow;
}

/** Applies a write to kv and returns the changelog frames to append. */
export function applyPrimaryKeyWrite(sql: SqlStorage, write: PrimaryKeyWrite, input: LogFrames): LogFrames {
  const columns: Column[] = write.columns.map((c, i) => ({ id: i + 1, name: c.name, type: parseType(c.type), nullable: c.nullable }));
  const columnIndex = new Map(columns.map((c, i) => [c.name, i]));
  const versionIndex = write.versionColumn === undefined ? undefined : columnIndex.get(write.versionColumn)!;
  const version = versionIndex === undefined ? undefined : { index: versionIndex, type: columns[versionIndex]!.type };
  const batches = input.batches.map(({ ipcBatch }) => {
    const batch = decodeStream(joinStream(input.schema, [ipcBatch]));
    const key = write.keyOrder.map((name) => ({ type: columns[columnIndex.get(name)!]!.type, data: batch.getChild(name)!.data[0]! }));
    const keys = Array.from({ length: batch.numRows }, (_, r) => encodeKey(key, r));
    return { batch, keys };
  });
  // One read for every key the write touches; afterwards `current` is the state as rows apply in order.
  const stored = queries.getKvRows(sql, batches.flatMap((b) => b.keys), keyId);
  const current = new Map<string, { key: Uint8Array; row: StoredRow | null; changed: boolean }>();
  const changes: Change[] = [];
  for (const { batch, keys } of batches) {
    const present = batch.schema.fields.map((f) => ({ index: columnIndex.get(f.name)!, data: batch.getChild(f.name)!.data[0]! }));
    const partial = present.length < columns.length;
    keys.forEach((key, r) => {
      const id = keyId(key);
      const entry = current.get(id) ?? { key, row: parseStored(stored.get(id)), changed: false };
      const next = write.op === "delete" ? null : mergedRow(columns, present, r, partial ? entry.row : null);
      const rowChanges = deriveChanges(write, entry.row, next, version);
      if (rowChanges.length > 0) {
        changes.push(...rowChanges);
        entry.row = next;
        entry.changed = true;
      }
      current.set(id, entry);
    });
  }
  const changed = [...current.values()].filter((e) => e.changed);
  queries.deleteKvRows(sql, changed.filter((e) => e.row === null).map((e) => e.key));
  queries.putKvRows(sql, changed.filter((e) => e.row !== null).map((e) => ({ key: e.key, row: JSON.stringify(e.row) })));
  return changelogFrames(columns, changes);
}

/** The changes one input row makes, under the table's merge engine. */
function deriveChanges(write: PrimaryKeyWrite, old: StoredRow | null, next: StoredRow | null, version?: VersionColumn): Change[] {
  if (next === null) {
    // Deletes: only the default engine applies them (Fluss forces IGNORE for first_row and versioned).
    if (old === null || write.mergeEngine !== "last_row") return [];
    return [{ type: "-D", row: old }];
  }
  if (old === null) return [{ type: "+I", row: next }];
  if (write.mergeEngine === "first_row") return [];
  if (version && !isNewerVersion(version.type, next[version.index]!, old[version.index]!)) return [];
  if (JSON.stringify(next) === JSON.stringify(old)) return [];
  return write.changelogImage === "wal" ? [{ type: "+U", row: next }] : [{ type: "-U", row: old }, { type: "+U", row: next }];
}

/** The versioned engine's version column, resolved once per write. */
interface VersionColumn {
  index: number;
  type: FloeType;
}

/** Versioned engine: the new row wins when its version is not null and at least the stored one. */
function isNewerVersion(type: FloeType, next: JsonValue, old: JsonValue): boolean {
  if (next === null) return false;
  if (old === null) return true;
  return BigInt(scalarFromJson(type, next) as number | bigint) >= BigInt(scalarFromJson(type, old) as number | bigint);
}

/** The row after the write: the input's columns over the old row (partial update) or over nulls. */
function mergedRow(columns: readonly Column[], present: { index: number; data: arrow.Data }[], r: number, base: StoredRow | null): StoredRow {
  const row: StoredRow = base ? [...base] : new Array(columns.length).fill(null);
  for (const { index, data } of present) {
    const type = columns[index]!.type;
    const value = readScalar(type, data, r);
    row[index] = value === null ? null : scalarToJson(type, value);
  }
  return row;
}

/** A key as a Map key: one UTF-16 unit per byte. */
export function keyId(key: Uint8Array): string {
  let id = "";
  for (const byte of key) id += String.fromCharCode(byte);
  return id;
}

function parseStored(text: string | undefined): StoredRow | null {
  return text === undefined ? null : (JSON.parse(text) as StoredRow);
}

/** The changelog batch: the table's columns plus the change code. */
function changelogFrames(columns: readonly Column[], changes: readonly Change[]): LogFrames {
  if (changes.length === 0) return { schema: new Uint8Array(0), batches: [] };
  const changeType: FloeType = { kind: "TINYINT" };
  const data = columns.map((column, c) =>
    buildColumn(column.type, changes.map((change) => {
      const value = change.row[c];
      return value === null || value === undefined ? null : scalarFromJson(column.type, value);
    })),
  );
  data.push(buildColumn(changeType, changes.map((change) => changeCode[change.type])));
  const schemaColumns = [...columns, { id: 0, name: changeColumnName, type: changeType, nullable: false }];
  return encodeFrames(schemaColumns, { rowCount: changes.length, columns: data });
}

/** Rows of kv as JSON objects, in column order. */
export function storedRowToObject(columns: readonly { name: string }[], text: string): Record<string, JsonValue> {
  const values = JSON.parse(text) as StoredRow;
  const object: Record<string, JsonValue> = {};
  columns.forEach((column, i) => { object[column.name] = values[i] ?? null; });
  return object;
}
