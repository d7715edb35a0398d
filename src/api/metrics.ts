/**
 * `GET /v1/metrics[?database=][&cursor=]` (admin): per table, what its
 * Tablets have served (rows and bytes written, lookups, open subscribers),
 * each bucket's tiering lag, and the table's last tiering error.
 *
 * Counters live in each bucket's Tablet (`tablet/counters.ts`) and errors in
 * the catalog (`catalog/tiering-errors.ts`). An answer costs at most
 * `metricsSubrequestsMax` subrequests (Tablet calls, and a lake table's
 * state and metadata), within the 50 a request may make on the Workers free
 * plan whatever the catalog holds: it covers tables in database and name
 * order, a table with more buckets than fit continuing in the next answer,
 * and says where the next begins (`next`, passed back as `cursor`). At most
 * `tabletCallsInFlightMax` Tablets are asked at once. A partitioned table's
 * Tablets (per partition) are not asked yet: it is listed with null
 * counters and no buckets.
 */
import { mapLimited } from "../read-ahead.ts";
import { Hono } from "hono";
import * as catalog from "../catalog/catalog.ts";
import type { TableEntry } from "../catalog/catalog.ts";
import type { TieringError } from "../catalog/tiering-errors.ts";
import { tieringErrorsOf } from "../catalog/tiering-errors.ts";
import { FloeError } from "../errors.ts";
import { isLakeEnabled, isPartitioned } from "../table/schema.ts";
import { tabletStub } from "../tablet/stub.ts";
import type { TabletMetrics } from "../tablet/contract.ts";
import type { FloeEnv } from "./env.ts";
import { access, needs } from "../auth/access.ts";
import { getLakeState } from "../catalog/lake.ts";
import type { LakeSummary } from "../lake/lake-summary.ts";
import { lakeSummary } from "../lake/lake-summary.ts";
import { nameParam } from "./params.ts";

/** Subrequests one answer makes at most (the free plan allows 50 per request). */
export const metricsSubrequestsMax = 40;
/** What a lake table's summary costs: its state in D1, its metadata in R2. */
const lakeSubrequests = 2;
const tabletCallsInFlightMax = 16;

/** Where an answer begins: a table, and the first of its buckets to show. */
interface Position {
  database: string;
  table: string;
  bucket: number;
}

/** Buckets `[from, to)` of a table, as one answer shows them. */
interface Slice {
  table: TableEntry;
  from: number;
  to: number;
}

// Metrics show every table's activity, so no data scope may ever open them.
export const metricsRoutes = new Hono<FloeEnv>().get("/", access(needs.admin), async (c) => {
  const databaseText = c.req.query("database");
  const database = databaseText === undefined ? null : nameParam("database", databaseText);
  const cursor = parseCursor(c.req.query("cursor"));
  // The catalog reads: the database checked, the page of tables, their errors.
  const budget = metricsSubrequestsMax - (database === null ? 2 : 3);
  const tables = await catalog.listTablesFrom(c.env.CATALOG, database, cursor, budget);
  const { slices, next } = planPage(tables, cursor, budget);
  const [errors, tablets, lakes] = await Promise.all([
    tieringErrorsOf(c.env.CATALOG, slices.map((s) => s.table.tableId)),
    askTablets(c.env, slices),
    lakesOf(c.env, slices.map((s) => s.table)),
  ]);
  const nowMs = Date.now();
  return c.json({
    tables: slices.flatMap((slice, i) => {
      const buckets = tablets[i];
      return buckets ? [tableMetrics(slice, buckets, errors.get(slice.table.tableId), lakes[i] ?? null, nowMs)] : [];
    }),
    next,
  });
});

/** The buckets of `tables` (from `cursor` on) one answer of `budget` subrequests shows, and where the next answer begins. */
function planPage(tables: readonly TableEntry[], cursor: Position | null, budget: number): { slices: Slice[]; next: string | null } {
  const slices: Slice[] = [];
  let left = budget;
  for (const table of tables) {
    const count = table.definition.bucket.num;
    const from = cursor && cursor.database === table.database && cursor.table === table.name ? cursor.bucket : 0;
    if (isPartitioned(table.definition)) {
      if (from > 0) continue;
      // No Tablet is asked, but a lake table's state and metadata still are.
      const cost = isLakeEnabled(table.definition) ? lakeSubrequests : 0;
      if (left < cost) return { slices, next: formatCursor(table, 0) };
      slices.push({ table, from: 0, to: 0 });
      left -= cost;
      continue;
    }
    if (from >= count) continue;
    const room = left - (isLakeEnabled(table.definition) ? lakeSubrequests : 0);
    if (room < 1) return { slices, next: formatCursor(table, from) };
    const to = Math.min(count, from + room);
    slices.push({ table, from, to });
    left = room - (to - from);
    if (to < count) return { slices, next: formatCursor(table, to) };
  }
  // Every table read fit: the next answer begins after the last one, unless the catalog had no more.
  const last = tables.at(-1);
  return { slices, next: last && tables.length === budget ? formatCursor(last, last.definition.bucket.num) : null };
}

function formatCursor(table: TableEntry, bucket: number): string {
  return `${table.database}.${table.name}.${bucket}`;
}

/** `?cursor=<database>.<table>.<bucket>`, as an answer's `next` gives it. */
function parseCursor(text: string | undefined): Position | null {
  if (text === undefined) return null;
  const match = /^([A-Za-z_][A-Za-z0-9_]{0,127})\.([A-Za-z_][A-Za-z0-9_]{0,127})\.(\d{1,4})$/.exec(text);
  if (!match) throw FloeError.badRequest(`cursor must be the next of a previous answer (<database>.<table>.<bucket>), got '${text.slice(0, 40)}'`);
  return { database: match[1]!, table: match[2]!, bucket: Number(match[3]) };
}

function tableMetrics({ table, from }: Slice, tablets: readonly TabletMetrics[], error: TieringError | undefined, lake: LakeSummary | null, nowMs: number) {
  const partitioned = isPartitioned(table.definition);
  const total = (count: (m: TabletMetrics) => number) => (partitioned ? null : tablets.reduce((sum, m) => sum + count(m), 0));
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
    bucketCount: table.definition.bucket.num,
    buckets: tablets.map((m, i) => ({
      bucket: from + i,
      subscribers: m.subscribers,
      logStartOffset: m.logStartOffset,
      highWatermark: m.highWatermark,
      tieredOffset: m.tieredOffset,
      tieringLagRows: tiered ? m.highWatermark - m.tieredOffset : null,
      oldestUntieredAgeMs: tiered && m.oldestUntieredCommitMs !== null ? Math.max(0, nowMs - m.oldestUntieredCommitMs) : null,
    })),
    lastTieringError: error ? { message: error.message, at: new Date(error.atMs).toISOString() } : null,
    lake,
    // The files compaction has yet to fold: all but one data file per bucket, and every delete file
    // (not counted for a partitioned table, whose buckets per partition are not listed here).
    maintenanceLagFiles: lake && !partitioned ? Math.max(0, lake.dataFiles - table.definition.bucket.num) + lake.deleteFiles : null,
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

/** Each slice's Tablet metrics by bucket; null for a table dropped since it was listed. */
async function askTablets(env: Env, slices: readonly Slice[]): Promise<(TabletMetrics[] | null)[]> {
  const answers = slices.map((slice) => new Array<TabletMetrics>(slice.to - slice.from));
  const dropped = new Set<number>();
  const calls = slices.flatMap((slice, s) => Array.from({ length: slice.to - slice.from }, (_, i) => ({ s, i })));
  await mapLimited(calls, tabletCallsInFlightMax, async ({ s, i }) => {
    if (dropped.has(s)) return;
    const slice = slices[s]!;
    const answer = await tabletStub(env, slice.table, slice.from + i).metrics();
    if (answer.kind === "dropped") dropped.add(s);
    else answers[s]![i] = answer;
  });
  return answers.map((buckets, s) => (dropped.has(s) ? null : buckets));
}
