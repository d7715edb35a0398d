/**
 * `GET /v1/metrics[?database=]` (admin): per table, what its Tablets have
 * served (rows and bytes written, lookups, open subscribers), each bucket's
 * tiering lag, and the table's last tiering error.
 *
 * Counters live in each bucket's Tablet (`tablet/counters.ts`) and errors in
 * the catalog (`catalog/tiering-errors.ts`). At most `tabletCallsInFlightMax`
 * Tablets are asked at once, so a large catalog never fans out unbounded.
 */
import { mapLimited } from "../read-ahead.ts";
import { Hono } from "hono";
import * as catalog from "../catalog/catalog.ts";
import type { TableEntry } from "../catalog/catalog.ts";
import type { TieringError } from "../catalog/tiering-errors.ts";
import { listTieringErrors } from "../catalog/tiering-errors.ts";
import { isLakeEnabled } from "../table/schema.ts";
import { bucketsOf, tabletStub } from "../tablet/stub.ts";
import type { TabletMetrics } from "../tablet/contract.ts";
import type { FloeEnv } from "./env.ts";
import { access, needs } from "../auth/access.ts";
import { getLakeState } from "../catalog/lake.ts";
import type { LakeSummary } from "../lake/lake-summary.ts";
import { lakeSummary } from "../lake/lake-summary.ts";
import { nameParam } from "./params.ts";

const tabletCallsInFlightMax = 16;

// Metrics show every table's activity, so no data scope may ever open them.
export const metricsRoutes = new Hono<FloeEnv>().get("/", access(needs.admin), async (c) => {
  const database = c.req.query("database");
  const tables =
    database === undefined
      ? await catalog.listAllTables(c.env.CATALOG)
      : await catalog.listTables(c.env.CATALOG, nameParam("database", database));
  const [errors, tablets, lakes] = await Promise.all([listTieringErrors(c.env.CATALOG), askTablets(c.env, tables), lakesOf(c.env, tables)]);
  const nowMs = Date.now();
  return c.json({
    tables: tables.flatMap((table, t) => {
      const buckets = tablets[t];
      return buckets ? [tableMetrics(table, buckets, errors.get(table.tableId), lakes[t] ?? null, nowMs)] : [];
    }),
  });
});

function tableMetrics(table: TableEntry, tablets: readonly TabletMetrics[], error: TieringError | undefined, lake: LakeSummary | null, nowMs: number) {
  const total = (count: (m: TabletMetrics) => number) => tablets.reduce((sum, m) => sum + count(m), 0);
  // Without a lake nothing is ever tiered, so a lag would only repeat the high watermark.
  const tiered = isLakeEnabled(table.definition);
  return {
    database: table.database,
    table: table.name,
    tableId: table.tableId,
    rowsWritten: total((m) => m.rowsWritten),
    bytesWritten: total((m) => m.bytesWritten),
    lookupCalls: total((m) => m.lookupCalls),
    keysLookedUp: total((m) => m.keysLookedUp),
    subscribers: total((m) => m.subscribers),
    buckets: tablets.map((m, bucket) => ({
      bucket,
      subscribers: m.subscribers,
      logStartOffset: m.logStartOffset,
      highWatermark: m.highWatermark,
      tieredOffset: m.tieredOffset,
      tieringLagRows: tiered ? m.highWatermark - m.tieredOffset : null,
      oldestUntieredAgeMs: tiered && m.oldestUntieredCommitMs !== null ? Math.max(0, nowMs - m.oldestUntieredCommitMs) : null,
    })),
    lastTieringError: error ? { message: error.message, at: new Date(error.atMs).toISOString() } : null,
    lake,
    // The files compaction has yet to fold: all but one data file per bucket, and every delete file.
    maintenanceLagFiles: lake ? Math.max(0, lake.dataFiles - table.definition.bucket.num) + lake.deleteFiles : null,
  };
}

/**
 * Each lake table's lake summary, a bounded number at once: null for a
 * table with nothing tiered, or whose lake cannot be read now (its tiering
 * error says why), so one broken table never hides the others' metrics.
 */
async function lakesOf(env: Env, tables: readonly TableEntry[]): Promise<(LakeSummary | null)[]> {
  return mapLimited(tables, tabletCallsInFlightMax, async (table) => {
    if (!isLakeEnabled(table.definition)) return null;
    const state = await getLakeState(env.CATALOG, table.tableId);
    return state && lakeSummary(env, state).catch(() => null);
  });
}

/** Each table's Tablet metrics by bucket; null for a table dropped since it was listed. */
async function askTablets(env: Env, tables: readonly TableEntry[]): Promise<(TabletMetrics[] | null)[]> {
  const answers = tables.map((table) => new Array<TabletMetrics>(table.definition.bucket.num));
  const dropped = new Set<number>();
  const calls = tables.flatMap((table, t) => bucketsOf(table.definition.bucket.num).map((bucket) => ({ t, bucket })));
  await mapLimited(calls, tabletCallsInFlightMax, async ({ t, bucket }) => {
    if (dropped.has(t)) return;
    const answer = await tabletStub(env, tables[t]!.tableId, bucket).metrics();
    if (answer.kind === "dropped") dropped.add(t);
    else answers[t]![bucket] = answer;
  });
  return answers.map((buckets, t) => (dropped.has(t) ? null : buckets));
}
