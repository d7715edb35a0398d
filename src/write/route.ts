/**
 * Routing a batch to its partitions (partitioned tables) and buckets.
 *
 * Rows of a partitioned table go to the partition their partition-key
 * values name, keeping request order within each; a value that cannot
 * name a partition refuses the request, naming its row.
 *
 * Rows with a bucket key go to the bucket their key hashes to
 * (`table/bucketing.ts`), keeping request order within each bucket. Log
 * tables without a bucket key spread a request over the buckets in
 * contiguous slices of `spreadSliceRows` rows, starting at a bucket derived
 * from the writer id and sequence when given (so a retry lands exactly where
 * the original did), else at a random one.
 */
import type * as arrow from "apache-arrow";
import { FloeError } from "../errors.ts";
import type { Column, TableDefinition } from "../table/schema.ts";
import { assignBuckets, murmur3 } from "../table/bucketing.ts";
import { partitionOfRow, samePartitionValues } from "../table/partitioning.ts";
import { gather, gatherRange } from "../arrow/gather.ts";
import type { RowBatch } from "./batch.ts";

interface PartitionRows {
  /** The partition's spec (`table/partitioning.ts`). */
  spec: string;
  batch: RowBatch;
}

/** The rows of a batch over `columns` (which hold every partition key) by partition, in order of first appearance. */
export function routeToPartitions(definition: TableDefinition, columns: readonly Column[], batch: RowBatch): PartitionRows[] {
  const keys = definition.partitionKeys;
  const data = keys.map((name) => batch.columns[columns.findIndex((c) => c.name === name)]!);
  let previous: string | undefined;
  const specOf = (row: number) => {
    // The rows of one write mostly name one partition: a row with the values of the row before takes its spec as it is.
    if (previous !== undefined && samePartitionValues(data, row - 1, row)) return previous;
    const partition = partitionOfRow(keys, data, row);
    if ("problem" in partition) throw FloeError.badRequest(`row ${row}, ${partition.problem}`);
    return (previous = partition.spec);
  };
  return splitRows(batch, specOf).map(({ key, batch: rows }) => ({ spec: key, batch: rows }));
}

/** A batch split by a key of each row, keys in order of first appearance, rows in request order within each. */
function splitRows<K>(batch: RowBatch, keyOf: (row: number) => K): { key: K; batch: RowBatch }[] {
  const rowsByKey = new Map<K, number[]>();
  for (let row = 0; row < batch.rowCount; row++) {
    const key = keyOf(row);
    const rows = rowsByKey.get(key);
    if (rows) rows.push(row);
    else rowsByKey.set(key, [row]);
  }
  if (rowsByKey.size === 1) return [{ key: rowsByKey.keys().next().value!, batch }];
  return [...rowsByKey].map(([key, rows]) => ({
    key,
    batch: { rowCount: rows.length, columns: batch.columns.map((data) => gather([data], rows)) },
  }));
}

export interface BucketRows {
  bucket: number;
  batch: RowBatch;
}

/** Rows per bucket when a keyless log table spreads a request. */
export const spreadSliceRows = 1000;

export function routeToBuckets(definition: TableDefinition, batch: RowBatch, spreadSeed: string | undefined): BucketRows[] {
  const bucketCount = definition.bucket.num;
  if (definition.bucket.key.length === 0) return spread(batch, bucketCount, spreadSeed);
  const key = definition.bucket.key.map((name) => {
    const index = definition.columns.findIndex((c) => c.name === name);
    return { type: definition.columns[index]!.type, data: batch.columns[index]! };
  });
  const buckets = assignBuckets(key, batch.rowCount, bucketCount);
  return splitRows(batch, (row) => buckets[row]!).map(({ key: bucket, batch: rows }) => ({ bucket, batch: rows }));
}

function spread(batch: RowBatch, bucketCount: number, seed: string | undefined): BucketRows[] {
  const start =
    seed === undefined
      ? Math.floor(Math.random() * bucketCount)
      : (murmur3(new TextEncoder().encode(seed)) & 0x7fffffff) % bucketCount;
  const slices = Math.min(bucketCount, Math.ceil(batch.rowCount / spreadSliceRows));
  if (slices === 1) return [{ bucket: start, batch }];
  const sliceRows = Math.ceil(batch.rowCount / slices);
  const out: BucketRows[] = [];
  for (let s = 0; s < slices; s++) {
    const begin = s * sliceRows;
    const end = Math.min(batch.rowCount, begin + sliceRows);
    out.push({
      bucket: (start + s) % bucketCount,
      batch: { rowCount: end - begin, columns: batch.columns.map((data) => gatherRange([data], begin, end)) },
    });
  }
  return out;
}
