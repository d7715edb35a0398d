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
 * A partitioned table is read partition by partition: every partition, or
 * the one `partition` names, less those a filter on the partition keys
 * rules out, which are pruned before any Tablet is asked, and the lake's
 * manifests and files pruned the same way before any is fetched. Each
 * partition's Tablets continue from the snapshot's offsets for them. A
 * partition dropped from the hot tier keeps its lake rows until the lake
 * drops them: a union read gives them as they are in the lake (they have
 * no hot log), as a lake read does; so does a partition dropped and
 * created again, whose new Tablets start empty (its files name its id).
 *
 * Invariant: no row is returned twice and none between the lake snapshot
 * and the high watermarks is missed; `offsets` says exactly where a
 * subscription continues from.
 */
import type { TableEntry } from "../catalog/catalog.ts";
import type { PhysicalTable } from "../catalog/partitions.ts";
import { findPartition, listPartitions, physicalTable, resolvePartitions } from "../catalog/partitions.ts";
import { FloeError } from "../errors.ts";
import type { Column } from "../table/schema.ts";
import { isLakeEnabled, isPartitioned, isPrimaryKeyTable } from "../table/schema.ts";
import { formatPartitionSpec, parsePartitionSpec, partitionLimits } from "../table/partitioning.ts";
import { takeRange } from "../arrow/take.ts";
import { bucketsOf, live, tabletStub } from "../tablet/stub.ts";
import { fileContent } from "../iceberg/manifest-read.ts";
import { inOffsetOrder } from "../lake/snapshots.ts";
import { tabletOffsetKey } from "../lake/tablet-offsets.ts";
import { concatAhead, mapLimited } from "../read-ahead.ts";
import { parseFilter, partitionMayMatch } from "./filter.ts";
import type { Predicate } from "./filter.ts";
import { projectColumns } from "../log/page.ts";
import { kvBucketRows } from "./hot-scan.ts";
import type { LakeFile, LakeSnapshot } from "./lake-snapshot.ts";
import type { LakePruning } from "./partition-pruning.ts";
import { lakePruning } from "./partition-pruning.ts";
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
  const { owners, pruning } = await ownersToScan(env, table, request, predicates, stats);
  const { snapshot, ranges } = await readPoint(env, table, owners, request, pruning);
  if (snapshot) {
    stats.manifestsSkipped += snapshot.pruned.manifests;
    stats.filesSkipped += snapshot.pruned.files;
  }
  const snapshotId = snapshot?.snapshotId ?? null;
  const scan = (rows: AsyncGenerator<RowChunk>): Scan => ({
    columns, snapshotId, offsets: offsetsOf(ranges.filter((r) => !r.lakeOnly)), stats, rows: limited(rows, request.limit),
  });
  // A primary-key table's key-value state is its current state: the Tablets alone, and the union while nothing is
  // tiered (merging the changelog from offset 0 instead would hold all of it in memory).
  if (keyed && (request.source === "hot" || (request.source === "union" && snapshotId === null))) {
    const bucketRows = ({ owner, range }: OwnedRange) => project(filtered(kvBucketRows(env, owner, range.bucket, readColumns), readColumns, predicates));
    return scan(concatAhead(ranges.map(bucketRows), bucketsAhead));
  }
  // Grouped once by Tablet: a scan may cover thousands of Tablets and files.
  const filesByTablet = new Map<string, LakeFile[]>();
  for (const file of snapshot?.files ?? []) {
    const key = tabletOffsetKey(file.bucket, file.partitionId);
    const group = filesByTablet.get(key);
    if (group) group.push(file);
    else filesByTablet.set(key, [file]);
  }
  const bucketFiles = ({ owner, range }: OwnedRange) => filesByTablet.get(tabletOffsetKey(range.bucket, owner.partition?.partitionId)) ?? [];
  const bucketRows = keyed
    ? (owned: OwnedRange) => project(mergedBucketRows(env, owned.owner, owned.range, bucketFiles(owned), readColumns, predicates, stats))
    : (owned: OwnedRange) => logBucketRows(env, owned.owner, owned.range, bucketFiles(owned), { read: readColumns, answer: columns }, predicates, stats);
  return scan(concatAhead(ranges.map(bucketRows), bucketsAhead));
}

/** One bucket's range of one table or partition. */
interface OwnedRange {
  owner: PhysicalTable;
  range: BucketRange;
  /** A partition the hot tier no longer holds (dropped, or an earlier incarnation of one): its lake rows only. */
  lakeOnly?: boolean;
}

/**
 * What a scan reads: the table, or the partitions of a partitioned table it
 * covers (the one `partition` names, or all), less those the filter's
 * predicates on partition keys rule out; and for a partitioned lake, the
 * same pruning of its manifests and files. A lake table's partition named
 * but not in the hot tier may still have lake rows, so it is not a 404.
 */
async function ownersToScan(
  env: Env, table: TableEntry, request: ScanRequest, predicates: readonly Predicate[], stats: ScanStats,
): Promise<{ owners: PhysicalTable[]; pruning?: LakePruning }> {
  if (!isPartitioned(table.definition)) return { owners: [await physicalTable(env.CATALOG, table, request.partition)] };
  const lake = isLakeEnabled(table.definition);
  if (!lake && (request.source === "lake" || request.snapshotId !== undefined)) {
    throw FloeError.badRequest(`table '${table.database}.${table.name}' is partitioned and has no lake (table.datalake.enabled), so it is not tiered to the lake: scan with source=hot or union, without snapshot=`);
  }
  const keys = table.definition.partitionKeys;
  const values = request.partition === undefined ? undefined : parsePartitionSpec(keys, request.partition);
  const spec = values === undefined ? undefined : formatPartitionSpec(keys, values);
  const partitions = spec === undefined
    ? await listPartitions(env.CATALOG, table, null, partitionLimits.partitionsPerTableMax)
    // The lake may hold the rows of a partition the hot tier dropped; a hot scan reads no lake, so it needs the partition.
    : lake && request.source !== "hot" ? [...(await resolvePartitions(env.CATALOG, table, [spec], false)).values()] : [await findPartition(env.CATALOG, table, spec)];
  const kept = partitions.filter((partition) => partitionMayMatch(predicates, keys, partition.values));
  stats.partitionsRead += kept.length;
  stats.partitionsSkipped += partitions.length - kept.length;
  return { owners: kept.map((partition) => ({ ...table, partition })), ...(lake ? { pruning: lakePruning(table.definition, predicates, values) } : {}) };
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
  env: Env, table: TableEntry, owners: readonly PhysicalTable[], request: ScanRequest, pruning: LakePruning | undefined,
): Promise<{ snapshot: LakeSnapshot | null; ranges: OwnedRange[] }> {
  // A table without a lake: its union is its hot log, from where retention left it.
  const noLake = !isLakeEnabled(table.definition) && request.source === "union" && request.snapshotId === undefined;
  if (request.source === "hot" || noLake) return { snapshot: null, ranges: await hotRanges(env, owners, null) };
  for (let attempt = 1; ; attempt++) {
    const snapshot = request.snapshotId === undefined ? await currentSnapshot(env, table, pruning) : await snapshotById(env, table, request.snapshotId, pruning);
    if (request.source === "lake") {
      const end = (owner: PhysicalTable, bucket: number) => snapshot.bucketOffsets[tabletOffsetKey(bucket, owner.partition?.partitionId)] ?? 0;
      const ranges = tabletsOf(owners).map(({ owner, bucket }) => ({ owner, range: { bucket, from: end(owner, bucket), to: end(owner, bucket) } }));
      return { snapshot, ranges: [...ranges, ...lakeOnlyRanges(table, owners, snapshot)] };
    }
    try {
      return { snapshot, ranges: [...(await hotRanges(env, owners, snapshot)), ...lakeOnlyRanges(table, owners, snapshot)] };
    } catch (error) {
      const retry = error instanceof FloeError && error.kind === "gone" && request.snapshotId === undefined && attempt < readPointAttempts;
      if (!retry) throw error;
    }
  }
}

/** Every bucket of each owner. */
function tabletsOf(owners: readonly PhysicalTable[]): { owner: PhysicalTable; bucket: number }[] {
  return owners.flatMap((owner) => bucketsOf(owner.definition.bucket.num).map((bucket) => ({ owner, bucket })));
}

/** Per bucket of each owner, the log after the snapshot (or the whole retained log) up to the high watermark now. */
async function hotRanges(env: Env, owners: readonly PhysicalTable[], snapshot: LakeSnapshot | null): Promise<OwnedRange[]> {
  const tablets = tabletsOf(owners);
  const statuses = await mapLimited(tablets, tabletCallsAtOnce, async ({ owner, bucket }) => live(await tabletStub(env, owner, bucket).status()));
  return tablets.map(({ owner, bucket }, i) => {
    const { logStartOffset, highWatermark } = statuses[i]!;
    const from = snapshot ? (snapshot.bucketOffsets[tabletOffsetKey(bucket, owner.partition?.partitionId)] ?? 0) : logStartOffset;
    if (from < logStartOffset) {
      throw new FloeError("gone", `bucket ${bucket}'s log before offset ${logStartOffset} was dropped after tiering, so lake snapshot ${snapshot!.snapshotId} (offset ${from}) cannot be continued from the hot log; read a newer snapshot`);
    }
    return { owner, range: { bucket, from, to: highWatermark } };
  });
}

/**
 * The lake's Tablets of a partitioned table that no owner is: partitions
 * dropped from the hot tier (or earlier incarnations of ones created
 * again), whose lake rows are read as they are, with no log after them.
 */
function lakeOnlyRanges(table: TableEntry, owners: readonly PhysicalTable[], snapshot: LakeSnapshot): OwnedRange[] {
  const held = new Set(owners.map((owner) => owner.partition?.partitionId));
  const gone = new Map<string, OwnedRange>();
  for (const file of snapshot.files) {
    if (file.partitionId === undefined || held.has(file.partitionId)) continue;
    const key = tabletOffsetKey(file.bucket, file.partitionId);
    if (gone.has(key)) continue;
    const spec = formatPartitionSpec(table.definition.partitionKeys, file.partitionValues);
    const partition = { partitionId: file.partitionId, spec, values: file.partitionValues, createdAtMs: 0 };
    gone.set(key, { owner: { ...table, partition }, range: { bucket: file.bucket, from: 0, to: 0 }, lakeOnly: true });
  }
  return [...gone.values()];
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
