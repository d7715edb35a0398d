/**
 * Drives a running Floe over HTTP through three tiering rounds of the lake
 * tables while keeping a model of what was written: every trade, each
 * account key's current row after upserts, partial updates and deletes
 * (some of them undone or redone within one round, some across rounds),
 * and each visit's in its day's partition; one more day of visits, with a
 * position delete, is then dropped from the hot tier and the lake.
 * Returns the rows the lake must hold, each with the stream position
 * (`__bucket`, `__offset`, `__timestamp`) that Floe's own log reports for
 * the row's last change.
 */
import { account, accountKeys, accounts, asStored, database, droppedVisitDay, floeJson, trade, trades, visit, visitDays, visits, type LakeTableSpec } from "./tables.ts";
import type { LakeRow } from "./lake-values.ts";

export const tieringRounds = 3;
/** The snapshots of `visits`: the rounds', and the drop of `droppedVisitDay` from the lake. */
export const visitsSnapshots = tieringRounds + 1;

export interface WrittenTable {
  /** The metadata location the catalog holds for the table (the describe route's `lakeSnapshot`). */
  metadataLocation: string;
  version: number;
  expectedRows: LakeRow[];
}

export async function runWorkload(baseUrl: string): Promise<{ trades: WrittenTable; accounts: WrittenTable; visits: WrittenTable }> {
  const floe = floeClient(`${baseUrl}/v1`);
  await floe("PUT", `/databases/${database}`);
  for (const spec of [trades, accounts, visits]) await floe("PUT", `/databases/${database}/tables/${spec.name}`, spec.definition);

  const written: LakeRow[] = [];
  const state = new Map<string, LakeRow>();
  const keyOf = (row: LakeRow) => JSON.stringify([row.region, row.id]);
  const write = (spec: LakeTableSpec, rows: LakeRow[], query = "") =>
    floe("POST", `/databases/${database}/tables/${spec.name}/rows${query}`, rows.map((r) => floeJson(spec, r)));
  const appendTrades = async (ids: number[]) => {
    const rows = ids.map(trade);
    await write(trades, rows);
    written.push(...rows.map((r) => asStored(trades, r)));
  };
  const upsert = async (keys: typeof accountKeys) => {
    const rows = keys.map(account);
    await write(accounts, rows);
    for (const row of rows) state.set(keyOf(row), asStored(accounts, row));
  };
  /** A partial update: the named columns change, the others stay (or are null for a new key). */
  const patch = async (keys: typeof accountKeys, columns: string[]) => {
    const rows = keys.map(account).map((row) => Object.fromEntries(["region", "id", ...columns].map((c) => [c, row[c] ?? null])));
    await write(accounts, rows, `?columns=${columns.join(",")}`);
    const nulls = Object.fromEntries(accounts.definition.columns.map((c) => [c.name, null]));
    for (const row of rows) state.set(keyOf(row), asStored(accounts, { ...nulls, ...state.get(keyOf(row)), ...row }));
  };
  const remove = async (keys: typeof accountKeys) => {
    await write(accounts, keys.map((k) => ({ region: k.region, id: k.id })), "?op=delete");
    for (const key of keys) state.delete(keyOf(key));
  };
  const visited = new Map<string, LakeRow>();
  /** Upserts into the partitions of `visits` (created as the rows need them), then deletes. */
  const visitRows = async (upserts: [day: number, id: number][], deletes: [day: number, id: number][] = []) => {
    const rows = upserts.map(([day, id]) => visit(visitDays[day]!, id));
    await write(visits, rows, "?dynamicPartitions=true");
    for (const row of rows) visited.set(JSON.stringify([row.dt, row.id]), row);
    if (deletes.length === 0) return;
    await write(visits, deletes.map(([day, id]) => ({ dt: visitDays[day]!, id: String(id) })), "?op=delete");
    for (const [day, id] of deletes) visited.delete(JSON.stringify([visitDays[day]!, String(id)]));
  };
  const tier = async (expected: "committed" | "up_to_date") => {
    const { tables } = await floe("POST", "/tiering/run");
    for (const spec of [trades, accounts, visits]) {
      const result = tables.find((t: { table: string }) => t.table === `${database}.${spec.name}`);
      if (result?.kind !== expected) throw new Error(`tiering ${spec.name}: expected ${expected}, got ${JSON.stringify(result)}`);
    }
  };
  const keys = (...indexes: number[]) => indexes.map((i) => accountKeys[i]!);

  // Round 1: inserts, then updates and deletes of keys inserted in the same round, and a key inserted and deleted.
  await appendTrades(range(1, 25));
  await appendTrades(range(25, 31));
  await upsert(keys(...range(0, 12)));
  await upsert(keys(1, 4, 7, 10));
  await remove(keys(4, 9));
  await upsert(keys(12));
  await remove(keys(12));
  await visitRows([[0, 1], [0, 2], [0, 3], [1, 1], [1, 2], [1, 7], [1, 9]]);
  // The day dropped at the end: not in the model.
  const droppedDay = (ids: number[]) => write(visits, ids.map((id) => visit(droppedVisitDay, id)), "?dynamicPartitions=true");
  await droppedDay([1, 2, 3]);
  await tier("committed");

  // Round 2: updates and deletes of lake rows, partial updates (one on a new key), a re-insert, new keys, and a
  // write of an unchanged row, which changes nothing.
  await appendTrades(range(31, 51));
  await upsert(keys(0, 2, 3, 5, 7));
  await patch(keys(1, 6, 8, 13), ["balance", "updated_at"]);
  await remove(keys(10, 11, 3));
  await upsert(keys(4, 14, 15, 16, 17));
  const unchanged = state.get(keyOf(accountKeys[15]!))!;
  await write(accounts, [unchanged]);
  // Updates and deletes of lake rows in two partitions, and a new partition; an id in every day, each its own row.
  await visitRows([[0, 2], [1, 7], [2, 1], [2, 5], [2, 9]], [[0, 3], [1, 1]]);
  await droppedDay([2]);
  await tier("committed");

  // Round 3: a key updated in every round, more deletes, and a partial update of a key deleted in round 1.
  await appendTrades(range(51, 61));
  await upsert(keys(0, 16));
  await remove(keys(2, 14));
  await patch(keys(7, 9), ["owner", "visits"]);
  await visitRows([[2, 5], [0, 4]], [[1, 9]]);
  await tier("committed");
  const dropped = await floe("DELETE", `/databases/${database}/tables/${visits.name}/partitions/dt=${droppedVisitDay}?lake=true`);
  if (!dropped.dropped || dropped.lake.deleteFiles === 0) throw new Error(`dropping ${droppedVisitDay} from the lake: ${JSON.stringify(dropped)}`);
  await tier("up_to_date");

  return {
    trades: await tiered(floe, trades, written),
    accounts: await tiered(floe, accounts, [...state.values()]),
    visits: await tiered(floe, visits, [...visited.values()]),
  };
}

type FloeCall = (method: string, path: string, body?: unknown) => Promise<any>;

function floeClient(base: string): FloeCall {
  return async (method, path, body) => {
    const response = await fetch(`${base}${path}`, {
      method,
      ...(body === undefined ? {} : { body: JSON.stringify(body), headers: { "content-type": "application/json" } }),
    });
    if (!response.ok) throw new Error(`${method} ${path}: ${response.status} ${await response.text()}`);
    return response.json();
  };
}

const range = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => from + i);

/** The table's lake pointer, and the model's rows with the position of their last change in Floe's log. */
async function tiered(floe: FloeCall, spec: LakeTableSpec, rows: LakeRow[]): Promise<WrittenTable> {
  const described = await floe("GET", `/databases/${database}/tables/${spec.name}`);
  const positions = new Map<string, { bucket: number; offset: number; timestamp: string }>();
  const keyTypes = spec.key.map((name) => spec.definition.columns.find((c) => c.name === name)!.type);
  // JSON answers a BIGINT as a number when safe; the canonical form is a string.
  const keyOf = (row: Record<string, unknown>) => JSON.stringify(spec.key.map((name, i) => (keyTypes[i] === "BIGINT" ? String(row[name]) : row[name])));
  // A partitioned table's buckets are its partitions'; the key names the partition, so each row's log is found.
  const tablets: { partition?: string; bucket: number; highWatermark: number }[] = described.partitions
    ? (await floe("GET", `/databases/${database}/tables/${spec.name}/partitions`)).partitions.flatMap(
      (p: { partition: string; buckets: { bucket: number; highWatermark: number }[] }) => p.buckets.map((b) => ({ partition: p.partition, ...b })))
    : described.buckets;
  for (const { partition, bucket, highWatermark } of tablets) {
    if (highWatermark === 0) continue;
    const where = `${partition === undefined ? "" : `partition=${partition}&`}bucket=${bucket}`;
    const page = await floe("GET", `/databases/${database}/tables/${spec.name}/log?${where}&offset=0&limit=10000&columns=${spec.key.join(",")}`);
    if (page.rows.length !== highWatermark) throw new Error(`${spec.name} ${where}: read ${page.rows.length} of ${highWatermark} log rows`);
    for (const row of page.rows) positions.set(keyOf(row), { bucket, offset: row._offset, timestamp: row._timestamp });
  }
  const expectedRows = rows.map((row) => {
    const position = positions.get(keyOf(row));
    if (!position) throw new Error(`${spec.name}: no log row for ${keyOf(row)}`);
    return {
      ...row,
      __bucket: position.bucket,
      __offset: String(position.offset),
      __timestamp: String(BigInt(Date.parse(position.timestamp)) * 1000n),
    };
  });
  return { metadataLocation: described.lakeSnapshot.metadataLocation, version: described.lakeSnapshot.version, expectedRows };
}
