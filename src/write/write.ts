/**
 * A write request end to end: route the validated batch to its partitions
 * (partitioned tables) and buckets, encode every bucket's record batches,
 * find (or create) the partitions, then append to the Tablets in parallel.
 *
 * Invariants: everything that can refuse the request for its content
 * (validation, partition values, encoding, size limits) happens before a
 * partition is created or a Tablet called, and a write to a partition that
 * does not exist is refused before any Tablet is called (unless the write
 * may create it), so a refused request writes nothing. Each Tablet commits
 * its part in its own transaction and remembers the writer's sequence, so
 * a retry with the same writer id and sequence is answered from each
 * Tablet's memory and writes only what had not been written, across
 * buckets and partitions alike.
 */
import { FloeError, TableDroppedError } from "../errors.ts";
import type { TableEntry } from "../catalog/catalog.ts";
import type { PartitionEntry, PhysicalTable } from "../catalog/partitions.ts";
import { describePartition, forgetPartitions, resolvePartitions } from "../catalog/partitions.ts";
import { tabletStub } from "../tablet/stub.ts";
import type { AppendRequest, AppendResult, WriterSeq } from "../tablet/contract.ts";
import { encodeFrames } from "../log/frames.ts";
import { isPartitioned, retentionOf } from "../table/schema.ts";
import { partitionLimits, partitionsPerWriteMaxOf } from "../table/partitioning.ts";
import type { RowBatch } from "./batch.ts";
import type { WritePlan } from "./plan.ts";
import { routeToBuckets, routeToPartitions } from "./route.ts";
import { headers } from "../vocabulary.ts";

export interface BucketWrite {
  /** The partition's spec, for a partitioned table. */
  partition?: string;
  bucket: number;
  baseOffset: number;
  count: number;
  /** Present when this bucket had already committed this writer sequence. */
  duplicate?: true;
}

export interface WriteOptions {
  writer?: WriterSeq;
  /** Partitions the rows name that do not exist are created (else the write is refused with 404). */
  createPartitions: boolean;
}

/** One Tablet's part of a write. */
interface TabletAppend {
  spec?: string;
  bucket: number;
  request: AppendRequest;
}

export async function writeRows(env: Env, table: TableEntry, plan: WritePlan, batch: RowBatch, options: WriteOptions): Promise<BucketWrite[]> {
  const { writer } = options;
  const spreadSeed = writer ? `${writer.id}/${writer.seq}` : undefined;
  const routed = { ...table.definition, columns: plan.columns };
  const retention = retentionOf(table.definition);
  const encode = (rows: RowBatch, spec?: string): TabletAppend[] =>
    routeToBuckets(routed, rows, spreadSeed).map(({ bucket, batch: bucketRows }) => ({
      spec,
      bucket,
      request: { ...encodeFrames(plan.columns, bucketRows), writer, primaryKey: plan.primaryKey, retention },
    }));
  if (!isPartitioned(table.definition)) {
    const appends = encode(batch);
    return answer(appends, await appendAll(env, appends.map((append) => ({ append, owner: table }))), writer);
  }
  const parts = routeToPartitions(table.definition, plan.columns, batch);
  const partitionsMax = partitionsPerWriteMaxOf(table.definition.bucket.num);
  if (parts.length > partitionsMax) {
    throw new FloeError(
      "payload_too_large",
      `a write reaches at most ${partitionsMax} partitions of this table (${partitionLimits.tabletsPerWriteMax} Tablets of ${table.definition.bucket.num} buckets each), got ${parts.length}; split it`,
    );
  }
  const appends = parts.flatMap((part) => encode(part.batch, part.spec));
  const specs = parts.map((part) => part.spec);
  const partitions = await partitionsOf(env, table, specs, options.createPartitions);
  const results = await appendAll(env, appends.map((append) => ({ append, owner: { ...table, partition: partitions.get(append.spec!)! } })));
  const stale = appends.flatMap((append, i) => (results[i]!.kind === "dropped" ? [i] : []));
  // Nothing written: the table, or every partition this isolate knew, was dropped; `withTable` starts over.
  if (stale.length === results.length) throw new TableDroppedError();
  if (stale.length > 0) {
    // A partition dropped (and maybe created again) since this isolate cached it: only its parts are sent again.
    const staleSpecs = [...new Set(stale.map((i) => appends[i]!.spec!))];
    forgetPartitions(table.tableId, staleSpecs);
    const fresh = await resolvePartitions(env.CATALOG, table, staleSpecs, options.createPartitions);
    // Not a 404 as before any part was written: the other partitions' parts are committed.
    const gone = staleSpecs.find((spec) => !fresh.has(spec));
    if (gone !== undefined) {
      throw FloeError.conflict(
        `${describePartition(table, gone)} was dropped while this write ran: its rows were not written, the other partitions' were; ` +
          `create it (or let writes create partitions) and retry with the same ${headers.writerId} and ${headers.writerSeq} to write nothing twice`,
      );
    }
    const retried = await appendAll(env, stale.map((i) => ({ append: appends[i]!, owner: { ...table, partition: fresh.get(appends[i]!.spec!)! } })));
    retried.forEach((result, j) => {
      if (result.kind === "dropped") {
        throw FloeError.conflict(
          `${describePartition(table, appends[stale[j]!]!.spec!)} was dropped while this write ran, which committed elsewhere; retry it with the same ${headers.writerId} and ${headers.writerSeq} to write nothing twice`,
        );
      }
      results[stale[j]!] = result;
    });
  }
  return answer(appends, results, writer);
}

/** The partitions of `specs`, by spec: created when `create`, else all existing or 404 naming the first missing one. */
async function partitionsOf(env: Env, table: TableEntry, specs: readonly string[], create: boolean): Promise<Map<string, PartitionEntry>> {
  const partitions = await resolvePartitions(env.CATALOG, table, specs, create);
  const missing = specs.find((spec) => !partitions.has(spec));
  if (missing !== undefined) {
    throw FloeError.notFound(
      `${describePartition(table, missing)} does not exist, so nothing was written: create it (PUT .../partitions/${missing}), ` +
        "or let writes create partitions (?dynamicPartitions=true, or the table property table.auto-partition.enabled)",
    );
  }
  return partitions;
}

async function appendAll(env: Env, appends: readonly { append: TabletAppend; owner: PhysicalTable }[]): Promise<AppendResult[]> {
  return Promise.all(appends.map(({ append, owner }) => tabletStub(env, owner, append.bucket).append(append.request)));
}

/** Each Tablet's answer as the client sees it, by partition and bucket; a dropped Tablet means the table was. */
function answer(appends: readonly TabletAppend[], results: readonly AppendResult[], writer: WriterSeq | undefined): BucketWrite[] {
  const writes = results.map((result, i): BucketWrite => {
    const { spec, bucket } = appends[i]!;
    const where = spec === undefined ? `bucket ${bucket}` : `bucket ${bucket} of partition ${spec}`;
    if (result.kind === "dropped") throw new TableDroppedError();
    if (result.kind === "out_of_order") {
      throw FloeError.conflict(`writer '${writer!.id}' sequence ${writer!.seq} is older than ${result.lastSeq}, the last one ${where} committed`);
    }
    const write: BucketWrite = { ...(spec === undefined ? {} : { partition: spec }), bucket, baseOffset: result.baseOffset, count: result.count };
    if (result.kind === "duplicate") write.duplicate = true;
    return write;
  });
  const partitionOrder = (a: BucketWrite, b: BucketWrite) => (a.partition === b.partition ? 0 : (a.partition ?? "") < (b.partition ?? "") ? -1 : 1);
  return writes.sort((a, b) => partitionOrder(a, b) || a.bucket - b.bucket);
}
