/**
 * A write request end to end: route the validated batch to its buckets,
 * encode every bucket's record batches, then append to the Tablets in
 * parallel.
 *
 * Invariant: everything that can refuse the request (validation, encoding,
 * size limits) happens before the first Tablet is called, so a refused
 * request writes nothing in any bucket. A retry with the same writer id and
 * sequence is answered from each Tablet's memory of that sequence and
 * writes only what had not been written.
 */
import { FloeError } from "../errors.ts";
import type { TableEntry } from "../catalog/catalog.ts";
import { live, tabletStub } from "../tablet/stub.ts";
import type { WriterSeq } from "../tablet/contract.ts";
import { encodeFrames } from "../log/frames.ts";
import { retentionOf } from "../table/schema.ts";
import type { RowBatch } from "./batch.ts";
import type { WritePlan } from "./plan.ts";
import { routeToBuckets } from "./route.ts";

export interface BucketWrite {
  bucket: number;
  baseOffset: number;
  count: number;
  /** Present when this bucket had already committed this writer sequence. */
  duplicate?: true;
}

export async function writeRows(
  env: Env,
  table: TableEntry,
  plan: WritePlan,
  batch: RowBatch,
  writer?: WriterSeq,
): Promise<BucketWrite[]> {
  const spreadSeed = writer ? `${writer.id}/${writer.seq}` : undefined;
  const routed = routeToBuckets({ ...table.definition, columns: plan.columns }, batch, spreadSeed);
  const retention = retentionOf(table.definition);
  const appends = routed.map(({ bucket, batch: rows }) => ({
    bucket,
    request: { ...encodeFrames(plan.columns, rows), writer, primaryKey: plan.primaryKey, retention },
  }));
  const results = await Promise.all(
    appends.map(async ({ bucket, request }) => ({
      bucket,
      result: live(await tabletStub(env, table.tableId, bucket).append(request)),
    })),
  );
  const writes: BucketWrite[] = [];
  for (const { bucket, result } of results) {
    if (result.kind === "out_of_order") {
      throw FloeError.conflict(
        `writer '${writer!.id}' sequence ${writer!.seq} is older than ${result.lastSeq}, the last one bucket ${bucket} committed`,
      );
    }
    const write: BucketWrite = { bucket, baseOffset: result.baseOffset, count: result.count };
    if (result.kind === "duplicate") write.duplicate = true;
    writes.push(write);
  }
  return writes.sort((a, b) => a.bucket - b.bucket);
}
