/**
 * Lookups on primary-key tables: current rows by full key (answers in key
 * order, buckets asked in parallel) and every row under a bucket-key prefix
 * (one bucket, one contiguous key range).
 *
 * Invariant: lookups read the Tablets' committed kv, so a lookup sent after
 * an acknowledged write sees that write.
 */
import { FloeError } from "../errors.ts";
import type { TableEntry } from "../catalog/catalog.ts";
import type { Column, TableDefinition } from "../table/schema.ts";
import { isPrimaryKeyTable } from "../table/schema.ts";
import { assignBuckets } from "../table/bucketing.ts";
import { encodeKey } from "../table/keys.ts";
import type { JsonValue } from "../table/values.ts";
import { decodeStream } from "../arrow/ipc.ts";
import { live, tabletStub } from "../tablet/stub.ts";
import { columnsToJsonRows } from "../log/page.ts";
import { primaryKeySpec } from "../write/plan.ts";
import { rowsFromJson } from "../write/json.ts";
import { requestLimits } from "../vocabulary.ts";

export type Row = Record<string, JsonValue>;

/** Stored bytes one prefix lookup reads at most; past them the answer is `truncated`. */
const prefixBytesMax = 8 * 1024 * 1024;

/** Key objects as encoded kv keys with their buckets. */
function encodeKeys(definition: TableDefinition, names: readonly string[], what: string, objects: readonly unknown[]) {
  const columns = names.map((name) => definition.columns.find((c) => c.name === name)!);
  const ordered = definition.columns.filter((c) => names.includes(c.name));
  const batch = rowsFromJson(definition, ordered, objects, what);
  const dataOf = (column: Column) => ({ type: column.type, data: batch.columns[ordered.indexOf(column)]! });
  const bucketKey = definition.bucket.key.map((name) => dataOf(columns.find((c) => c.name === name)!));
  const buckets = assignBuckets(bucketKey, batch.rowCount, definition.bucket.num);
  const keyColumns = columns.map(dataOf);
  return Array.from({ length: batch.rowCount }, (_, row) => ({ bucket: buckets[row]!, key: encodeKey(keyColumns, row) }));
}

function assertPrimaryKeyTable(table: TableEntry): void {
  if (!isPrimaryKeyTable(table.definition)) {
    throw FloeError.badRequest(`lookups need a primary-key table; '${table.database}.${table.name}' is a log table`);
  }
}

export async function lookupKeys(env: Env, table: TableEntry, keys: unknown): Promise<(Row | null)[]> {
  assertPrimaryKeyTable(table);
  if (!Array.isArray(keys) || keys.length === 0) throw FloeError.badRequest("keys must be a non-empty array of key objects");
  if (keys.length > requestLimits.lookupKeysMax) {
    throw new FloeError("payload_too_large", `a lookup takes at most ${requestLimits.lookupKeysMax} keys, got ${keys.length}`);
  }
  const { definition } = table;
  const spec = primaryKeySpec(definition);
  const encoded = encodeKeys(definition, spec.keyOrder, "key", keys);
  const byBucket = new Map<number, number[]>();
  encoded.forEach(({ bucket }, i) => {
    const indexes = byBucket.get(bucket);
    if (indexes) indexes.push(i);
    else byBucket.set(bucket, [i]);
  });
  const rows: (Row | null)[] = new Array(keys.length).fill(null);
  await Promise.all(
    [...byBucket].map(async ([bucket, indexes]) => {
      const found = live(await tabletStub(env, table.tableId, bucket).lookup({ table: spec, keys: indexes.map((i) => encoded[i]!.key) }));
      const objects = jsonRows(definition, found.ipc);
      found.rowOf.forEach((index, j) => {
        if (index >= 0) rows[indexes[j]!] = objects[index]!;
      });
    }),
  );
  return rows;
}

export async function lookupPrefix(env: Env, table: TableEntry, prefix: unknown, limit: number): Promise<{ rows: Row[]; truncated: boolean }> {
  assertPrimaryKeyTable(table);
  const { definition } = table;
  if (typeof prefix !== "object" || prefix === null || Array.isArray(prefix)) {
    throw FloeError.badRequest("prefix must be an object of the bucket-key columns");
  }
  const bucketKey = definition.bucket.key;
  const [{ bucket, key }] = encodeKeys(definition, bucketKey, "prefix", [prefix]) as [{ bucket: number; key: Uint8Array }];
  // One row more than asked says whether the prefix holds more.
  const page = live(await tabletStub(env, table.tableId, bucket).scanKv({
    table: primaryKeySpec(definition), prefix: key, rowsMax: limit + 1, bytesMax: prefixBytesMax, isLookup: true,
  }));
  return { rows: jsonRows(definition, page.ipc).slice(0, limit), truncated: page.lastKey !== null };
}

/** A Tablet's rows (an IPC stream of the table's columns) as JSON objects: the edge where lookups leave Arrow. */
function jsonRows(definition: TableDefinition, ipc: Uint8Array): Row[] {
  const table = decodeStream(ipc);
  return table.batches.flatMap((batch) => columnsToJsonRows(definition.columns, batch.data.children, batch.numRows));
}
