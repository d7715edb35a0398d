/**
 * Routing a batch to its buckets.
 *
 * Rows with a bucket key go to the bucket their key hashes to
 * (`table/bucketing.ts`), keeping request order within each bucket. Log
 * tables without a bucket key spread a request over the buckets in
 * contiguous slices of `spreadSliceRows` rows, starting at a bucket derived
 * from the writer id and sequence when given (so a retry lands exactly where
 * the original did), else at a random one.
 */
import type * as arrow from "apache-arrow";
import type { TableDefinition } from "../table/schema.ts";
import { assignBuckets, murmur3 } from "../table/bucketing.ts";
import { gather, gatherRange } from "../arrow/gather.ts";
import type { RowBatch } from "./batch.ts";

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
  const rowsByBucket = new Map<number, number[]>();
  buckets.forEach((bucket, row) => {
    const rows = rowsByBucket.get(bucket);
    if (rows) rows.push(row);
    else rowsByBucket.set(bucket, [row]);
  });
  if (rowsByBucket.size === 1) return [{ bucket: buckets[0]!, batch }];
  return [...rowsByBucket].map(([bucket, rows]) => ({
    bucket,
    batch: { rowCount: rows.length, columns: batch.columns.map((data) => gather([data], rows)) },
  }));
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
