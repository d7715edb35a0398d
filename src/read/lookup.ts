/**
 * Lookups on primary-key tables: current rows by full key (answers in key
 * order, buckets asked in parallel) and every row under a bucket-key prefix
 * (one bucket, one contiguous key range). In a partitioned table a key's
 * partition is named by its partition-key columns (part of the primary
 * key), and a prefix names them besides the bucket key, as in Fluss; a key
 * of a partition that does not exist has no row.
 *
 * Invariant: lookups read the Tablets' committed kv, so a lookup sent after
 * an acknowledged write sees that write.
 */
import { FloeError } from "../errors.ts";
import type { TableEntry } from "../catalog/catalog.ts";
import type { PhysicalTable } from "../catalog/partitions.ts";
import { resolvePartitions } from "../catalog/partitions.ts";
import { partitionOfRow } from "../table/partitioning.ts";
import type { TableDefinition } from "../table/schema.ts";
import { isPartitioned, isPrimaryKeyTable } from "../table/schema.ts";
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

/**
 * Key objects as encoded kv keys of the `names` columns, with their buckets
 * and, in a partitioned table, the spec of the partition each names
 * (undefined when its values cannot name one); the objects hold the
 * partition keys besides `names`.
 */
function encodeKeys(definition: TableDefinition, names: readonly string[], what: string, objects: readonly unknown[]) {
  const carried = new Set([...names, ...definition.partitionKeys]);
  const ordered = definition.columns.filter((c) => carried.has(c.name));
  const batch = rowsFromJson(definition, ordered, objects, what);
  const dataOf = (name: string) => {
    const index = ordered.findIndex((c) => c.name === name);
    return { type: ordered[index]!.type, data: batch.columns[index]! };
  };
  const buckets = assignBuckets(definition.bucket.key.map(dataOf), batch.rowCount, definition.bucket.num);
  const keyColumns = names.map(dataOf);
  const partitionData = definition.partitionKeys.map((name) => dataOf(name).data);
  return Array.from({ length: batch.rowCount }, (_, row) => {
    const partition = partitionData.length === 0 ? undefined : partitionOfRow(definition.partitionKeys, partitionData, row);
    return { bucket: buckets[row]!, key: encodeKey(keyColumns, row), spec: partition && "spec" in partition ? partition.spec : undefined };
  });
}

/**
 * Where each of `specs` lives: the table itself (unpartitioned), else each
 * partition that exists; a missing one (or an undefined spec) maps to nothing.
 */
async function ownersOf(env: Env, table: TableEntry, specs: readonly (string | undefined)[]): Promise<(spec: string | undefined) => PhysicalTable | undefined> {
  if (!isPartitioned(table.definition)) return () => table;
  const named = [...new Set(specs.filter((spec) => spec !== undefined))];
  const partitions = await resolvePartitions(env.CATALOG, table, named, false);
  return (spec) => {
    const partition = spec === undefined ? undefined : partitions.get(spec);
    return partition && { ...table, partition };
  };
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
  const ownerOf = await ownersOf(env, table, encoded.map((e) => e.spec));
  // Keys by Tablet: by partition, then bucket.
  const byTablet = new Map<string, { owner: PhysicalTable; bucket: number; indexes: number[] }>();
  encoded.forEach(({ bucket, spec: partition }, i) => {
    const owner = ownerOf(partition);
    if (!owner) return;
    const id = `${partition ?? ""}:${bucket}`;
    const tablet = byTablet.get(id);
    if (tablet) tablet.indexes.push(i);
    else byTablet.set(id, { owner, bucket, indexes: [i] });
  });
  const rows: (Row | null)[] = new Array(keys.length).fill(null);
  await Promise.all(
    [...byTablet.values()].map(async ({ owner, bucket, indexes }) => {
      const found = live(await tabletStub(env, owner, bucket).lookup({ table: spec, keys: indexes.map((i) => encoded[i]!.key) }));
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
    throw FloeError.badRequest(`prefix must be an object of the bucket-key columns${isPartitioned(definition) ? " and the partition keys" : ""}`);
  }
  const bucketKey = definition.bucket.key;
  const [{ bucket, key, spec }] = encodeKeys(definition, bucketKey, "prefix", [prefix]) as [{ bucket: number; key: Uint8Array; spec?: string }];
  const owner = (await ownersOf(env, table, [spec]))(spec);
  if (!owner) return { rows: [], truncated: false };
  // One row more than asked says whether the prefix holds more.
  const page = live(await tabletStub(env, owner, bucket).scanKv({
    table: primaryKeySpec(definition), prefix: key, rowsMax: limit + 1, bytesMax: prefixBytesMax, isLookup: true,
  }));
  return { rows: jsonRows(definition, page.ipc).slice(0, limit), truncated: page.lastKey !== null };
}

/** A Tablet's rows (an IPC stream of the table's columns) as JSON objects: the edge where lookups leave Arrow. */
function jsonRows(definition: TableDefinition, ipc: Uint8Array): Row[] {
  const table = decodeStream(ipc);
  return table.batches.flatMap((batch) => columnsToJsonRows(definition.columns, batch.data.children, batch.numRows));
}
