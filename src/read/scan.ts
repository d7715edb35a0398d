/**
 * Scans of one logical table: the union of a lake snapshot and the hot log
 * after it (the default), the lake alone, or the Tablets alone.
 *
 * A scan fixes its read point before the first row: the lake snapshot (from
 * the catalog, or an older one by id) and every bucket's high watermark.
 * Rows then come bucket by bucket: a log table's lake rows below the
 * snapshot's offset, then its log from that offset to the high watermark,
 * in offset order; a primary-key table's merged current state. A tiering
 * commit during the scan changes nothing: lake files are immutable and the
 * log after the snapshot is kept until it is tiered. Only retention can
 * interfere, when `table.log.ttl` is shorter than the scan: the read point
 * then moves to the newer snapshot if no row was sent yet, and otherwise
 * the scan fails with `gone` rather than return a partial table.
 *
 * A partitioned table is read partition by partition (it has no lake
 * yet): every partition, or the one `partition` names, less those a filter
 * on the partition keys rules out, which are pruned before any Tablet is
 * asked.
 *
 * Invariant: no row is returned twice and none between the lake snapshot
 * and the high watermarks is missed; `offsets` says exactly where a
 * subscription continues from.
 */
import type { TableEntry } from "../catalog/catalog.ts";
import type { PhysicalTable } from "../catalog/partitions.ts";
import { canonicalSpec, findPartition, listPartitions, physicalTable } from "../catalog/partitions.ts";
import { FloeError } from "../errors.ts";
import type { Column } from "../table/schema.ts";
import { isPartitioned, isPrimaryKeyTable } from "../table/schema.ts";
import { partitionLimits } from "../table/partitioning.ts";
import { takeRange } from "../arrow/take.ts";
import { bucketsOf, live, tabletStub } from "../tablet/stub.ts";
import { fileContent } from "../iceberg/manifest-read.ts";
import { inOffsetOrder } from "../lake/snapshots.ts";
import { concatAhead, mapLimited } from "../read-ahead.ts";
import { parseFilter, partitionMayMatch } from "./filter.ts";
import type { Predicate } from "./filter.ts";
import { projectColumns } from "../log/page.ts";
import { kvBucketRows } from "./hot-scan.ts";
import type { LakeSnapshot } from "./lake-snapshot.ts";
import { currentSnapshot, snapshotById } from "./lake-snapshot.ts";
import type { BucketRange } from "./primary-key-merge.ts";
import { mergedBucketRows } from "./primary-key-merge.ts";
import type { RowChunk, ScanStats } from "./scan-rows.ts";
import { emptyStats, filterChunk, hotRows, lakeRows } from "./scan-rows.ts";

export const scanSources = ["union", "lake", "hot"] as const;
export type ScanSource = (typeof scanSources)[number];

export interface ScanRequest {
  source: ScanSource;
  /** Column names to return, in order; all when absent. */
  columns?: string[];
  filter?: string;
  limit?: number;
  /** A lake snapshot to read instead of the current one (time travel). */
  snapshotId?: number;
  /** The one partition of a partitioned table to read (its spec); all of them when absent. */
  partition?: string;
}

export interface Scan {
  columns: Column[];
  /** The lake snapshot read, or null (hot source, or nothing tiered yet). */
  snapshotId: number | null;
  /** Per bucket (per partition, then bucket, for a partitioned table), the exclusive end offset the rows cover. */
  offsets: Record<string, number> | Record<string, Record<string, number>>;
  stats: ScanStats;
  /** Chunks of rows, column-major over `columns`. */
  rows: AsyncGenerator<RowChunk>;
}

export async function openScan(env: Env, table: TableEntry, request: ScanRequest): Promise<Scan> {
  const { definition } = table;
  const columns = projectColumns(definition.columns, request.columns);
  const predicates = parseFilter(request.filter, definition.columns);
  const isNeeded = (c: Column) => columns.includes(c) || predicates.some((p) => p.column === c) || definition.primaryKey.includes(c.name);
  const readColumns = definition.columns.filter(isNeeded);
  const stats = emptyStats();
  if (request.source === "hot" && request.snapshotId !== undefined) {
    throw FloeError.badRequest("snapshot= reads a lake snapshot: use it with source=lake or source=union");
  }
  const project = (rows: AsyncGenerator<RowChunk>) => projected(rows, readColumns, columns);

  const keyed = isPrimaryKeyTable(definition);
  const owners = await ownersToScan(env, table, request, predicates, stats);
  const { snapshot, ranges } = await readPoint(env, table, owners, request);
  const snapshotId = snapshot?.snapshotId ?? null;
  const scan = (rows: AsyncGenerator<RowChunk>): Scan => ({
    columns, snapshotId, offsets: offsetsOf(ranges), stats, rows: limited(rows, request.limit),
  });
  // A primary-key table's key-value state is its current state: the Tablets alone, and the union while nothing is
  // tiered (merging the changelog from offset 0 instead would hold all of it in memory).
  if (keyed && (request.source === "hot" || (request.source === "union" && snapshotId === null))) {
    const bucketRows = ({ owner, range }: OwnedRange) => project(filtered(kvBucketRows(env, owner, range.bucket, readColumns), readColumns, predicates));
    return scan(concatAhead(ranges.map(bucketRows), bucketsAhead));
  }
  const files = snapshot?.files ?? [];
  const bucketFiles = (range: BucketRange) => files.filter((f) => f.bucket === range.bucket);
  const bucketRows = keyed
    ? ({ owner, range }: OwnedRange) => project(mergedBucketRows(env, owner, range, bucketFiles(range), readColumns, predicates, stats))
    : ({ owner, range }: OwnedRange) => logBucketRows(env, owner, range, bucketFiles(range), { read: readColumns, answer: columns }, predicates, stats);
  return scan(concatAhead(ranges.map(bucketRows), bucketsAhead));
}

/** One bucket's range of one table or partition. */
interface OwnedRange {
  owner: PhysicalTable;
  range: BucketRange;
}

/**
 * What a scan reads: the table, or the partitions of a partitioned table it
 * covers (the one `partition` names, or all), less those the filter's
 * predicates on partition keys rule out.
 */
async function ownersToScan(env: Env, table: TableEntry, request: ScanRequest, predicates: readonly Predicate[], stats: ScanStats): Promise<PhysicalTable[]> {
  if (!isPartitioned(table.definition)) return [await physicalTable(env.CATALOG, table, request.partition)];
  if (request.source === "lake" || request.snapshotId !== undefined) {
    throw FloeError.badRequest(`table '${table.database}.${table.name}' is partitioned, and partitioned tables are not tiered to the lake yet: scan with source=hot or union, without snapshot=`);
  }
  const partitions = request.partition === undefined
    ? await listPartitions(env.CATALOG, table, null, partitionLimits.partitionsPerTableMax)
    : [await findPartition(env.CATALOG, table, canonicalSpec(table, request.partition))];
  const kept = partitions.filter((partition) => partitionMayMatch(predicates, table.definition.partitionKeys, partition.values));
  stats.partitionsRead += kept.length;
  stats.partitionsSkipped += partitions.length - kept.length;
  return kept.map((partition) => ({ ...table, partition }));
}

/** Where the rows end: per bucket, or per partition and bucket. */
function offsetsOf(ranges: readonly OwnedRange[]): Scan["offsets"] {
  if (ranges.every(({ owner }) => owner.partition === undefined)) return Object.fromEntries(ranges.map(({ range }) => [String(range.bucket), range.to]));
  const offsets: Record<string, Record<string, number>> = {};
  for (const { owner, range } of ranges) (offsets[owner.partition!.spec] ??= {})[String(range.bucket)] = range.to;
  return offsets;
}

/** Buckets read at once: the one being answered and the next, which reads ahead into a small buffer. */
const bucketsAhead = 2;

/** Tablets asked for their offsets at once. */
const tabletCallsAtOnce = 16;

/** Attempts at fixing a read point while tiering and retention move the current one on. */
const readPointAttempts = 3;

/**
 * The lake snapshot and the per-bucket offset ranges a scan reads. Between
 * reading the current snapshot and the Tablets' offsets, a newer commit and
 * retention may drop the log just after the snapshot; then it starts again
 * from the newer snapshot.
 */
async function readPoint(
  env: Env, table: TableEntry, owners: readonly PhysicalTable[], request: ScanRequest,
): Promise<{ snapshot: LakeSnapshot | null; ranges: OwnedRange[] }> {
  // A partitioned table has no lake (yet): its union is its hot log.
  if (request.source === "hot" || isPartitioned(table.definition)) return { snapshot: null, ranges: await hotRanges(env, owners, null) };
  for (let attempt = 1; ; attempt++) {
    const snapshot = request.snapshotId === undefined ? await currentSnapshot(env, table) : await snapshotById(env, table, request.snapshotId);
    if (request.source === "lake") {
      const end = (bucket: number) => snapshot.bucketOffsets[String(bucket)] ?? 0;
      return { snapshot, ranges: bucketsOf(table.definition.bucket.num).map((bucket) => ({ owner: table, range: { bucket, from: end(bucket), to: end(bucket) } })) };
    }
    try {
      return { snapshot, ranges: await hotRanges(env, owners, snapshot) };
    } catch (error) {
      const retry = error instanceof FloeError && error.kind === "gone" && request.snapshotId === undefined && attempt < readPointAttempts;
      if (!retry) throw error;
    }
  }
}

/** Per bucket of each owner, the log after the snapshot (or the whole retained log) up to the high watermark now. */
async function hotRanges(env: Env, owners: readonly PhysicalTable[], snapshot: LakeSnapshot | null): Promise<OwnedRange[]> {
  const tablets = owners.flatMap((owner) => bucketsOf(owner.definition.bucket.num).map((bucket) => ({ owner, bucket })));
  const statuses = await mapLimited(tablets, tabletCallsAtOnce, async ({ owner, bucket }) => live(await tabletStub(env, owner, bucket).status()));
  return tablets.map(({ owner, bucket }, i) => {
    const { logStartOffset, highWatermark } = statuses[i]!;
    const from = snapshot ? (snapshot.bucketOffsets[String(bucket)] ?? 0) : logStartOffset;
    if (from < logStartOffset) {
      throw new FloeError("gone", `bucket ${bucket}'s log before offset ${logStartOffset} was dropped after tiering, so lake snapshot ${snapshot!.snapshotId} (offset ${from}) cannot be continued from the hot log; read a newer snapshot`);
    }
    return { owner, range: { bucket, from, to: highWatermark } };
  });
}

/**
 * A log table's bucket in the answer's columns: its lake rows (files in
 * commit order, rows in offset order; the read columns add those the filter
 * needs), then its hot log, which the Tablet filters and projects itself.
 */
async function* logBucketRows(
  env: Env, table: PhysicalTable, range: BucketRange, files: LakeSnapshot["files"], columns: { read: Column[]; answer: Column[] }, predicates: Predicate[], stats: ScanStats,
): AsyncGenerator<RowChunk> {
  const data = files.filter((f) => f.content === fileContent.data).sort(inOffsetOrder);
  yield* projected(lakeRows(env, data, columns.read, predicates, stats), columns.read, columns.answer);
  yield* hotRows(env, table, range.bucket, range.from, range.to, columns.answer, stats, predicates);
}

async function* filtered(rows: AsyncGenerator<RowChunk>, columns: readonly Column[], predicates: readonly Predicate[]): AsyncGenerator<RowChunk> {
  for await (const chunk of rows) yield filterChunk(chunk, columns, predicates);
}

async function* projected(rows: AsyncGenerator<RowChunk>, from: readonly Column[], to: readonly Column[]): AsyncGenerator<RowChunk> {
  const indexes = to.map((c) => from.indexOf(c));
  for await (const chunk of rows) {
    if (chunk.rowCount > 0) yield { rowCount: chunk.rowCount, data: indexes.map((i) => chunk.data[i]!) };
  }
}

async function* limited(rows: AsyncGenerator<RowChunk>, limit: number | undefined): AsyncGenerator<RowChunk> {
  let left = limit ?? Infinity;
  for await (const chunk of rows) {
    if (chunk.rowCount >= left) {
      yield { rowCount: left, data: chunk.data.map((column) => takeRange(column, 0, left)) };
      return;
    }
    left -= chunk.rowCount;
    yield chunk;
  }
}
