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

/** The errors on record of the given tables, by table id. */
export async function tieringErrorsOf(db: D1Database, tableIds: readonly string[]): Promise<Map<string, TieringError>> {
  const rows = tableIds.length === 0 ? [] : await queries.selectTieringErrorsOf(db, tableIds);
  return new Map(rows.map((row) => [row.tableId, { message: row.message, atMs: row.failedAtMs }]));
}

export async function recordTieringError(db: D1Database, tableId: string, error: TieringError): Promise<void> {
  await queries.upsertTieringError(db, { tableId, message: error.message.slice(0, messageLengthMax), failedAtMs: error.atMs });
}

export async function clearTieringError(db: D1Database, tableId: string): Promise<void> {
  await queries.deleteTieringError(db, tableId);
}
