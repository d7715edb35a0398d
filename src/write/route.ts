/**
 * Routing a batch to its buckets and cutting each bucket's rows into record
 * batches that fit a SQLite row.
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
import type { TableDefinition } from "../table/schema.ts";
import { assignBuckets, murmur3 } from "../table/bucketing.ts";
import { arrowSchemaOf } from "../table/columns.ts";
import { encodeStream, splitStream } from "../arrow/ipc.ts";
import { gather, gatherRange } from "../arrow/gather.ts";
import type { AppendRequest } from "../tablet/log.ts";
import { requestLimits } from "../vocabulary.ts";
import type { RowBatch } from "./batch.ts";

export interface BucketRows {
  bucket: number;
  batch: RowBatch;
}

/** Rows per bucket when a keyless log table spreads a request. */
export const spreadSliceRows = 1000;
/** Record batches are cut to stay well under the Durable Object SQLite 2 MB row limit. */
export const storedBatchBytesMax = 1536 * 1024;

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

/** Encodes one bucket's rows as the Tablet append request, cut into record batches under the row limit. */
export function encodeAppend(definition: TableDefinition, batch: RowBatch): Omit<AppendRequest, "writer"> {
  const schema = arrowSchemaOf(definition.columns);
  const pieces: AppendRequest["batches"] = [];
  let schemaFrame: Uint8Array | undefined;
  const encode = (columns: arrow.Data[], rowCount: number): void => {
    const frames = splitStream(encodeStream(schema, columns, rowCount));
    const bytes = frames.batch.byteLength;
    if (rowCount === 1 && bytes > requestLimits.rowBytesMax) {
      throw new FloeError("payload_too_large", `a row encodes to ${bytes} bytes; the limit is ${requestLimits.rowBytesMax}`);
    }
    if (bytes > storedBatchBytesMax) {
      const parts = Math.min(rowCount, Math.ceil((bytes * 1.25) / storedBatchBytesMax));
      const partRows = Math.ceil(rowCount / parts);
      for (let begin = 0; begin < rowCount; begin += partRows) {
        const end = Math.min(rowCount, begin + partRows);
        encode(columns.map((d) => gatherRange([d], begin, end)), end - begin);
      }
      return;
    }
    schemaFrame ??= frames.schema.slice();
    pieces.push({ ipcBatch: frames.batch.slice(), recordCount: rowCount });
  };
  encode(batch.columns, batch.rowCount);
  return { schema: schemaFrame!, batches: pieces };
}
