/**
 * The last tiering error of each table, kept in the catalog for
 * `GET /v1/metrics`.
 *
 * Invariant: a table has at most one error on record, its latest, and none
 * once a later round commits or finds the lake up to date. A message is cut
 * to `messageLengthMax` characters, so a row stays small whatever was thrown.
 */
import * as queries from "./queries.ts";

export interface TieringError {
  message: string;
  atMs: number;
}

const messageLengthMax = 1_000;

/** Every table's error on record, by table id. */
export async function listTieringErrors(db: D1Database): Promise<Map<string, TieringError>> {
  const rows = await queries.selectTieringErrors(db);
  return new Map(rows.map((row) => [row.tableId, { message: row.message, atMs: row.failedAtMs }]));
}

export async function recordTieringError(db: D1Database, tableId: string, error: TieringError): Promise<void> {
  await queries.upsertTieringError(db, { tableId, message: error.message.slice(0, messageLengthMax), failedAtMs: error.atMs });
}

export async function clearTieringError(db: D1Database, tableId: string): Promise<void> {
  await queries.deleteTieringError(db, tableId);
}
