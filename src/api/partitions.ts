/**
 * Routes for the partitions of a partitioned table: list them with their
 * buckets' offsets, create one by hand (idempotent), drop one with its data,
 * from the hot tier, and with `?lake=` from the lake too (the table's
 * coordinator commits that, between its rounds).
 *
 * The list asks a Tablet per bucket it shows, so one answer shows at most
 * `describeBucketsMax` buckets' offsets, partitions in spec order, a
 * partition with more buckets than fit continuing in the next answer
 * (`next`, passed back as `cursor`), as describe's buckets do.
 */
import { Hono } from "hono";
import { access, needs } from "../auth/access.ts";
import type { TableEntry } from "../catalog/catalog.ts";
import type { PartitionEntry } from "../catalog/partitions.ts";
import { canonicalSpec, createPartition, describePartition, dropPartition, listPartitions, resolvePartitions } from "../catalog/partitions.ts";
import { FloeError, TableDroppedError } from "../errors.ts";
import { mapLimited } from "../read-ahead.ts";
import { lakeSchedulerStub } from "../lake/scheduler.ts";
import { isLakeEnabled, isPartitioned } from "../table/schema.ts";
import { dropTablets, live, tabletStub } from "../tablet/stub.ts";
import type { FloeEnv } from "./env.ts";
import { enumParam, withTableParam } from "./params.ts";
import { describeBucketsMax, tabletCallsInFlightMax } from "./tablets.ts";

export const partitionRoutes = new Hono<FloeEnv>()
  .get("/:table/partitions", access(({ db, table }) => needs.read(db, table)), async (c) => {
    const cursor = c.req.query("cursor");
    return c.json(await withTableParam(c, (table) => listWithOffsets(c.env, partitionedTable(table), cursor)));
  })
  // A multi-key spec holds `/`: it is the rest of the path, sent as it is or with `/` as %2F.
  .put("/:table/partitions/:partition{.+}", access(({ db, table }) => needs.write(db, table)), async (c) => {
    const answer = await withTableParam(c, async (table) => {
      const spec = canonicalSpec(partitionedTable(table), c.req.param("partition"));
      const { created, partition } = await createPartition(c.env.CATALOG, table, spec);
      return { created, ...partitionSummary(table, partition) };
    });
    return c.json(answer, answer.created ? 201 : 200);
  })
  .delete("/:table/partitions/:partition{.+}", access(({ db, table }) => needs.write(db, table)), async (c) => {
    const lake = enumParam("lake", c.req.query("lake"), lakeDrops, "false");
    const answer = await withTableParam(c, async (table) => {
      const spec = canonicalSpec(partitionedTable(table), c.req.param("partition"));
      return lake === "false" ? { partition: spec, partitionId: await dropHot(c.env, table, spec), dropped: true } : dropWithLake(c.env, table, spec, lake);
    });
    return c.json(answer);
  });

/** What `?lake=` asks of a drop: the hot partition only (`false`), it and the lake rows of every incarnation (`true`), or those of the dropped incarnations only (`only`). */
const lakeDrops = ["false", "true", "only"] as const;

/** Drops the hot partition `spec` names (404 when the hot tier has none) and empties its Tablets; answers its id. */
async function dropHot(env: Env, table: TableEntry, spec: string): Promise<number> {
  const partitionId = await dropPartition(env.CATALOG, table, spec);
  await dropTablets(env, [{ ...table, partition: { partitionId } }], table.definition.bucket.num, describePartition(table, spec));
  return partitionId;
}

/**
 * A drop with `?lake=`: the hot partition first (`true`), then, through the
 * table's coordinator, the lake files of the spec's incarnations the hot
 * tier no longer holds. A 404 only when the spec names nothing: no hot
 * partition (dropped by this call, or left live by `only`) and no lake rows.
 */
async function dropWithLake(env: Env, table: TableEntry, spec: string, lake: "true" | "only") {
  if (!isLakeEnabled(table.definition)) throw FloeError.badRequest(`table '${table.database}.${table.name}' has no lake (table.datalake.enabled), so lake= drops nothing`);
  const partitionId = lake === "true" ? await dropHot(env, table, spec).catch(unlessNotFound) : null;
  const dropped = await lakeSchedulerStub(env, table.tableId).dropPartition(table.tableId, spec);
  if (dropped === null) throw FloeError.notFound(`table '${table.database}.${table.name}' was dropped`);
  if (dropped.kind === "lost_race") throw new FloeError("unavailable", `the lake of ${describePartition(table, spec)} changed under each attempt to drop it; try again`);
  if (dropped.kind === "nothing" && partitionId === null && (lake === "true" || !(await resolvePartitions(env.CATALOG, table, [spec], false)).has(spec))) {
    throw FloeError.notFound(`${describePartition(table, spec)} has no rows in the lake nor a partition in the hot tier`);
  }
  const removed = dropped.kind === "dropped" ? dropped : null;
  return {
    partition: spec, partitionId, dropped: partitionId !== null,
    lake: {
      snapshotId: removed?.snapshotId ?? null, partitionIds: removed?.partitionIds ?? [],
      dataFiles: removed?.dataFiles ?? 0, deleteFiles: removed?.deleteFiles ?? 0, records: removed?.records ?? 0,
    },
  };
}

/** A hot partition that is not there: the lake may still hold its rows. */
function unlessNotFound(error: unknown): null {
  if (error instanceof FloeError && error.kind === "not_found" && !(error instanceof TableDroppedError)) return null;
  throw error;
}

/** A partition as answers show it. */
export function partitionSummary(table: TableEntry, partition: PartitionEntry) {
  const keys = table.definition.partitionKeys;
  return {
    partition: partition.spec,
    partitionId: partition.partitionId,
    values: Object.fromEntries(keys.map((key, i) => [key, partition.values[i]!])),
    createdAt: new Date(partition.createdAtMs).toISOString(),
  };
}

function partitionedTable(table: TableEntry): TableEntry {
  if (!isPartitioned(table.definition)) throw FloeError.badRequest(`table '${table.database}.${table.name}' is not partitioned`);
  return table;
}

/** `?cursor=<partition>:<bucket>`, as an answer's `next` gives it. */
function parseCursor(text: string | undefined): { spec: string; bucket: number } | null {
  if (text === undefined) return null;
  const match = /^([A-Za-z0-9_=/-]+):(\d{1,4})$/.exec(text);
  if (!match) throw FloeError.badRequest(`cursor must be the next of a previous answer (<partition>:<bucket>), got '${text.slice(0, 40)}'`);
  return { spec: match[1]!, bucket: Number(match[2]) };
}

/** One answer of the list: the partitions from the cursor on, with at most `describeBucketsMax` buckets' offsets. */
async function listWithOffsets(env: Env, table: TableEntry, cursorText: string | undefined) {
  const cursor = parseCursor(cursorText);
  const bucketCount = table.definition.bucket.num;
  // Every partition shows one bucket at least, so no more than the budget's count of them fit, and one more says whether any follow.
  const partitions = await listPartitions(env.CATALOG, table, cursor?.spec ?? null, describeBucketsMax + 1);
  const slices: { partition: PartitionEntry; from: number; to: number }[] = [];
  let left = describeBucketsMax;
  let next: string | null = null;
  for (const partition of partitions) {
    const from = cursor?.spec === partition.spec ? Math.min(cursor.bucket, bucketCount) : 0;
    if (from === bucketCount) continue;
    if (left === 0) {
      next = `${partition.spec}:${from}`;
      break;
    }
    const to = Math.min(bucketCount, from + left);
    slices.push({ partition, from, to });
    left -= to - from;
    if (to < bucketCount) {
      next = `${partition.spec}:${to}`;
      break;
    }
  }
  const calls = slices.flatMap((slice) => Array.from({ length: slice.to - slice.from }, (_, i) => ({ slice, bucket: slice.from + i })));
  const statuses = await mapLimited(calls, tabletCallsInFlightMax, async ({ slice, bucket }) =>
    live(await tabletStub(env, { ...table, partition: slice.partition }, bucket).status()),
  );
  let at = 0;
  return {
    partitions: slices.map((slice) => ({
      ...partitionSummary(table, slice.partition),
      buckets: Array.from({ length: slice.to - slice.from }, (_, i) => {
        const { logStartOffset, tieredOffset, highWatermark } = statuses[at++]!;
        return { bucket: slice.from + i, logStartOffset, tieredOffset, highWatermark };
      }),
    })),
    next,
  };
}
