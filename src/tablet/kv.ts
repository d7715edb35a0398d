/**
 * Primary-key state in a Tablet: writes merge each input row with the key's
 * current row (kv), append the resulting changes to the log (the changelog)
 * and update kv, all in the caller's transaction; lookups and scans read kv.
 *
 * Invariants: kv and changelog change together, so a row visible in kv has
 * its change in the log and replaying the changelog from offset 0 rebuilds
 * kv exactly; rows of one batch apply in order, so a key written twice in a
 * batch sees its first write; an unchanged row (the same bytes,
 * `kv-row.ts`), a delete of a missing key and a write the merge engine
 * ignores produce no change at all. Change images come from the input's
 * Arrow columns or from stored rows, never through scalars or text.
 */
import type * as arrow from "apache-arrow";
import { decodeStream, encodeStream, joinStream } from "../arrow/ipc.ts";
import { gather } from "../arrow/gather.ts";
import { arrowSchemaOf, buildColumn } from "../table/columns.ts";
import type { ChangeType } from "../table/change-type.ts";
import { changeCode, changeColumnName } from "../table/change-type.ts";
import { encodeKey, keyId, prefixEnd } from "../table/keys.ts";
import type { Column } from "../table/schema.ts";
import { columnFromSpec } from "../table/schema.ts";
import type { LogFrames } from "../log/frames.ts";
import { encodeFrames } from "../log/frames.ts";
import type { KvScanRequest, LookupRequest, PrimaryKeySpec, PrimaryKeyWrite } from "./contract.ts";
import type { RowLayout } from "./kv-row.ts";
import { decodeRows, integerAt, mergeRow, rowEncoder, rowFromLegacyJson, rowLayout, sameRow } from "./kv-row.ts";
import * as queries from "./queries.ts";

/** A primary-key table as the Tablet works with it, derived once per spec. */
interface KvTable {
  columns: Column[];
  layout: RowLayout;
  /** Column indexes of the kv key, in key order. */
  keyIndexes: number[];
  spec: PrimaryKeySpec;
  versionIndex?: number;
}

let lastTable: { text: string; table: KvTable } | undefined;

/** The Tablet's view of a primary-key table; the last one is kept, since every call of a table carries the same spec. */
function kvTableOf(spec: PrimaryKeySpec): KvTable {
  const text = JSON.stringify([spec.columns, spec.keyOrder, spec.versionColumn]);
  if (lastTable?.text === text) return { ...lastTable.table, spec };
  const columns = spec.columns.map(columnFromSpec);
  const indexOf = (name: string) => columns.findIndex((c) => c.name === name);
  const table: KvTable = { columns, layout: rowLayout(columns), keyIndexes: spec.keyOrder.map(indexOf), spec };
  if (spec.versionColumn !== undefined) table.versionIndex = indexOf(spec.versionColumn);
  lastTable = { text, table };
  return table;
}

/** Where a change's row image is: a row of an input batch, or a stored row's bytes. */
type Image = { batch: number; row: number } | { bytes: Uint8Array };

interface Change {
  type: ChangeType;
  image: Image;
}

interface KeyState {
  key: Uint8Array;
  row: Uint8Array | null;
  /** Where `row`'s image is, for the changelog. */
  image: Image | null;
  changed: boolean;
}

/** Applies a write to kv and returns the changelog frames to append. */
export function applyPrimaryKeyWrite(sql: SqlStorage, write: PrimaryKeyWrite, input: LogFrames): LogFrames {
  const table = kvTableOf(write);
  const batches = input.batches.map(({ ipcBatch }) => {
    const decoded = decodeStream(joinStream(input.schema, [ipcBatch]));
    const present = new Map(decoded.schema.fields.map((f, i) => [table.columns.findIndex((c) => c.name === f.name), decoded.getChildAt(i)!.data[0]!]));
    const keyColumns = table.keyIndexes.map((index) => ({ type: table.columns[index]!.type, data: present.get(index)! }));
    const keys = Array.from({ length: decoded.numRows }, (_, r) => encodeKey(keyColumns, r));
    return { present, keys, full: present.size === table.columns.length };
  });
  const full = batches.every((b) => b.full);
  // One read for every key the write touches; afterwards `current` is the state as rows apply in order.
  const stored = readRows(sql, table, batches.flatMap((b) => b.keys));
  const current = new Map<string, KeyState>();
  const changes: Change[] = [];
  batches.forEach(({ present, keys }, b) => {
    const encode = full ? rowEncoder(table.layout, table.columns.map((_, i) => present.get(i)!)) : undefined;
    keys.forEach((key, r) => {
      const id = keyId(key);
      let entry = current.get(id);
      if (!entry) {
        const row = stored.get(id) ?? null;
        entry = { key, row, image: row && { bytes: row }, changed: false };
        current.set(id, entry);
      }
      let next: Uint8Array | null = null;
      let image: Image | null = null;
      if (write.op !== "delete") {
        next = encode ? encode(r) : mergeRow(table.layout, entry.row, present, r);
        image = full ? { batch: b, row: r } : { bytes: next };
      }
      const rowChanges = deriveChanges(table, entry, next, image);
      if (rowChanges.length > 0) {
        changes.push(...rowChanges);
        entry.row = next;
        entry.image = image;
        entry.changed = true;
      }
    });
  });
  const changed = [...current.values()].filter((e) => e.changed);
  queries.deleteKvRows(sql, changed.filter((e) => e.row === null).map((e) => e.key));
  queries.putKvRows(sql, changed.flatMap((e) => (e.row === null ? [] : [{ key: e.key, row: e.row }])));
  return changelogFrames(table, full ? batches.map((b) => table.columns.map((_, i) => b.present.get(i)!)) : [], changes);
}

/** The changes one input row makes, under the table's merge engine. */
function deriveChanges(table: KvTable, old: KeyState, next: Uint8Array | null, nextImage: Image | null): Change[] {
  const { spec } = table;
  if (next === null) {
    // Deletes: only the default engine applies them (Fluss forces IGNORE for first_row and versioned).
    if (old.row === null || spec.mergeEngine !== "last_row") return [];
    return [{ type: "-D", image: old.image! }];
  }
  if (old.row === null) return [{ type: "+I", image: nextImage! }];
  if (spec.mergeEngine === "first_row") return [];
  if (table.versionIndex !== undefined && !isNewerVersion(table, next, old.row)) return [];
  if (sameRow(next, old.row)) return [];
  return spec.changelogImage === "wal"
    ? [{ type: "+U", image: nextImage! }]
    : [{ type: "-U", image: old.image! }, { type: "+U", image: nextImage! }];
}

/** Versioned engine: the new row wins when its version is not null and at least the stored one. */
function isNewerVersion(table: KvTable, next: Uint8Array, old: Uint8Array): boolean {
  const nextVersion = integerAt(table.layout, next, table.versionIndex!);
  if (nextVersion === null) return false;
  const oldVersion = integerAt(table.layout, old, table.versionIndex!);
  return oldVersion === null || nextVersion >= oldVersion;
}

/** The changelog batch: the table's columns, gathered from the input batches and stored rows, plus the change code. */
function changelogFrames(table: KvTable, inputColumns: arrow.Data[][], changes: readonly Change[]): LogFrames {
  if (changes.length === 0) return { schema: new Uint8Array(0), batches: [] };
  const storedImages = new Map<Uint8Array, number>();
  for (const { image } of changes) if ("bytes" in image && !storedImages.has(image.bytes)) storedImages.set(image.bytes, storedImages.size);
  const stored = decodeRows(table.layout, [...storedImages.keys()]);
  const batchStarts: number[] = [];
  const storedStart = inputColumns.reduce((start, columns) => (batchStarts.push(start), start + (columns[0]?.length ?? 0)), 0);
  const rows = changes.map(({ image }) => ("bytes" in image ? storedStart + storedImages.get(image.bytes)! : batchStarts[image.batch]! + image.row));
  const data = table.columns.map((_, c) => gather([...inputColumns.map((columns) => columns[c]!), stored[c]!], rows));
  const changeType = { kind: "TINYINT" } as const;
  data.push(buildColumn(changeType, changes.map((change) => changeCode[change.type])));
  const schemaColumns = [...table.columns, { id: 0, name: changeColumnName, type: changeType, nullable: false }];
  return encodeFrames(schemaColumns, { rowCount: changes.length, columns: data });
}

/** The current rows of `keys`, in the table's columns, and where each key's row is among them. */
export function lookupRows(sql: SqlStorage, request: LookupRequest): { ipc: Uint8Array; rowOf: number[] } {
  const table = kvTableOf(request.table);
  const stored = readRows(sql, table, request.keys);
  const found: Uint8Array[] = [];
  const indexOf = new Map<Uint8Array, number>();
  const rowOf = request.keys.map((key) => {
    const row = stored.get(keyId(key));
    if (row === undefined) return -1;
    if (!indexOf.has(row)) indexOf.set(row, found.push(row) - 1);
    return indexOf.get(row)!;
  });
  return { ipc: rowsToIpc(table, found), rowOf };
}

/** One page of current rows in key order, under a prefix and after a key. */
export function scanRows(sql: SqlStorage, request: KvScanRequest): { ipc: Uint8Array; rowCount: number; lastKey: Uint8Array | null } {
  const table = kvTableOf(request.table);
  const { prefix, after } = request;
  const bounds = { ...(prefix.length > 0 ? { from: prefix, to: prefixEnd(prefix) } : {}), ...(after ? { after } : {}) };
  const stored = queries.scanKvRows(sql, bounds, request.rowsMax, request.bytesMax);
  const rows = stored.map(({ row }) => rowBytes(table, row));
  // A page cut by its row or byte bound may have a successor; a shorter one is the last.
  const bytes = rows.reduce((n, row) => n + row.length, 0);
  const cut = rows.length === request.rowsMax || (rows.length > 0 && bytes >= request.bytesMax);
  return { ipc: rowsToIpc(table, rows), rowCount: rows.length, lastKey: cut ? stored.at(-1)!.key : null };
}

/** The stored rows of `keys` by key id, each in the binary row form. */
function readRows(sql: SqlStorage, table: KvTable, keys: readonly Uint8Array[]): Map<string, Uint8Array> {
  const stored = queries.getKvRows(sql, keys, keyId);
  return new Map([...stored].map(([id, row]) => [id, rowBytes(table, row)]));
}

/** A stored kv row in the binary form, converting one written in the older JSON form. */
function rowBytes(table: KvTable, row: queries.StoredKvRow): Uint8Array {
  return typeof row === "string" ? rowFromLegacyJson(table.layout, row) : new Uint8Array(row);
}

/** Rows in the table's columns as one Arrow IPC stream. */
function rowsToIpc(table: KvTable, rows: readonly Uint8Array[]): Uint8Array {
  return encodeStream(arrowSchemaOf(table.columns), decodeRows(table.layout, rows), rows.length);
}
