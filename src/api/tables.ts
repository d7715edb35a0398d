/**
 * Routes for tables: create (idempotent), list (the tables the caller's
 * scopes reach), describe with per-bucket offsets, drop.
 *
 * Describe asks a Tablet per bucket it shows, so it shows at most
 * `describeBucketsMax` buckets per answer (`?buckets=from-to`, and
 * `nextBuckets` to continue), `tabletCallsInFlightMax` at a time: an
 * answer stays within a request's 50 subrequests on the Workers free plan
 * whatever the table's bucket count. A partitioned table has no Tablets of
 * its own: describe lists its first `describePartitionsMax` partitions
 * (their offsets are on `GET .../partitions`).
 */
import { Hono } from "hono";
import * as catalog from "../catalog/catalog.ts";
import { access, needs, principalOf } from "../auth/access.ts";
import { visibleTables } from "../auth/scopes.ts";
import type { TableEntry } from "../catalog/catalog.ts";
import { definitionToJson, parseTableDefinition } from "../table/schema.ts";
import { bucketsOf, dropTablets, live, tabletStub } from "../tablet/stub.ts";
import type { FloeEnv } from "./env.ts";
import { readJsonBody } from "./body.ts";
import { nameParam, withTableParam } from "./params.ts";
import { forgetTable } from "../catalog/cache.ts";
import { getLakeState } from "../catalog/lake.ts";
import { isLakeEnabled, isPartitioned } from "../table/schema.ts";
import { countPartitions, listPartitions } from "../catalog/partitions.ts";
import { partitionSummary } from "./partitions.ts";
import { lakeSchedulerStub } from "../lake/scheduler.ts";
import { partitionSchedulerStub } from "../auto-partition/scheduler.ts";
import { autoPartitioningOf } from "../table/auto-partitioning.ts";
import { lakeSummary } from "../lake/lake-summary.ts";
import { mapLimited } from "../read-ahead.ts";
import { describeBucketsMax, tabletCallsInFlightMax } from "./tablets.ts";
import { FloeError } from "../errors.ts";

export const tableRoutes = new Hono<FloeEnv>()
  // Any scope on the database or on a table in it lets a client list what it may read there.
  .get("/", access(({ db }) => needs.see(db)), async (c) => {
    const database = nameParam("database", c.req.param("db"));
    const visible = visibleTables(principalOf(c).scopes, database);
    const tables = (await catalog.listTables(c.env.CATALOG, database)).filter((t) => visible === "all" || visible.has(t.name));
    return c.json({ tables: tables.map(tableSummary) });
  })
  // A table's writer may create it (so "make sure the table exists" at start-up works), but dropping a
  // table and all its data takes write on the whole database.
  .put("/:table", access(({ db, table }) => needs.write(db, table)), async (c) => {
    const database = nameParam("database", c.req.param("db"));
    const name = nameParam("table", c.req.param("table"));
    const definition = parseTableDefinition(await readJsonBody(c.req.raw));
    const { created, table } = await catalog.createTable(c.env.CATALOG, database, name, definition);
    if (isLakeEnabled(table.definition)) await lakeSchedulerStub(c.env, table.tableId).start(table.tableId);
    if (autoPartitioningOf(table.definition)) await partitionSchedulerStub(c.env, table.tableId).start(table.tableId);
    return c.json({ ...tableSummary(table), created }, created ? 201 : 200);
  })
  .get("/:table", access(({ db, table }) => needs.read(db, table)), async (c) => {
    const described = await withTableParam(c, async (table) => {
      if (isPartitioned(table.definition)) return describePartitioned(c.env, table, c.req.query("buckets"));
      const count = table.definition.bucket.num;
      const { from, to } = bucketRange(c.req.query("buckets"), count);
      const lake = await getLakeState(c.env.CATALOG, table.tableId);
      const shown = bucketsOf(count).slice(from, to);
      return {
        ...tableSummary(table),
        buckets: await mapLimited(shown, tabletCallsInFlightMax, async (bucket) => {
          const status = live(await tabletStub(c.env, table, bucket).status());
          const tieredOffset = lake?.bucketOffsets[String(bucket)] ?? 0;
          return { bucket, logStartOffset: status.logStartOffset, tieredOffset, highWatermark: status.highWatermark };
        }),
        nextBuckets: to < count ? `${to}-${Math.min(count, to + describeBucketsMax) - 1}` : null,
        lakeSnapshot: lake ? await lakeSummary(c.env, lake) : null,
      };
    });
    return c.json(described);
  })
  .delete("/:table", access(({ db }) => needs.write(db)), async (c) => {
    const database = nameParam("database", c.req.param("db"));
    const name = nameParam("table", c.req.param("table"));
    const { table, partitionIds } = await catalog.dropTable(c.env.CATALOG, database, name);
    forgetTable(database, name);
    if (autoPartitioningOf(table.definition)) await partitionSchedulerStub(c.env, table.tableId).stop();
    const owners = isPartitioned(table.definition) ? partitionIds.map((partitionId) => ({ ...table, partition: { partitionId } })) : [table];
    await dropTablets(c.env, owners, table.definition.bucket.num, `table ${database}.${name}`);
    return c.json({ database: table.database, name: table.name, dropped: true });
  });

/** A partitioned table: its definition and its first partitions (their Tablets' offsets are listed by `GET .../partitions`). */
async function describePartitioned(env: Env, table: TableEntry, buckets: string | undefined) {
  if (buckets !== undefined) {
    throw FloeError.badRequest(`table '${table.database}.${table.name}' is partitioned: each partition has its buckets, listed with their offsets by GET .../partitions`);
  }
  const [partitionCount, partitions, lake] = await Promise.all([
    countPartitions(env.CATALOG, table),
    listPartitions(env.CATALOG, table, null, describePartitionsMax),
    getLakeState(env.CATALOG, table.tableId),
  ]);
  return {
    ...tableSummary(table), buckets: [], nextBuckets: null, lakeSnapshot: lake ? await lakeSummary(env, lake) : null,
    partitionCount, partitions: partitions.map((partition) => partitionSummary(table, partition)),
  };
}

/** Partitions one describe lists at most. */
export const describePartitionsMax = 100;

/** `?buckets=from-to` (inclusive) as `[from, to)`; the first `describeBucketsMax` buckets by default. */
function bucketRange(text: string | undefined, count: number): { from: number; to: number } {
  if (text === undefined) return { from: 0, to: Math.min(count, describeBucketsMax) };
  const match = /^(\d{1,4})-(\d{1,4})$/.exec(text);
  const [from, last] = match ? [Number(match[1]), Number(match[2])] : [NaN, NaN];
  if (!(from <= last && last < count && last - from < describeBucketsMax)) {
    throw FloeError.badRequest(
      `buckets must be from-to within 0-${count - 1}, at most ${describeBucketsMax} of them (one Tablet call each), got '${text.slice(0, 40)}'`,
    );
  }
  return { from, to: last + 1 };
}

function tableSummary(table: TableEntry) {
  return {
    database: table.database,
    name: table.name,
    tableId: table.tableId,
    createdAt: new Date(table.createdAtMs).toISOString(),
    ...definitionToJson(table.definition),
  };
}
