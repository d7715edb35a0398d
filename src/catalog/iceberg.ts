/**
 * What the Iceberg REST catalog keeps in D1 beyond Floe's databases and
 * tables (migration 0007): namespace properties, and external Iceberg tables
 * (a name, where its current metadata JSON is, and a version).
 *
 * Invariants: a name is never both a Floe table and an external table when
 * taken here; an external table's pointer only moves by a compare-and-swap
 * on its version, and the swaps of one commit all take or none does; rows
 * belong to one incarnation of their database, so a database dropped through
 * `/v1` forgets them, and one re-created under its name starts with none;
 * dropping a namespace or a table (or renaming one away) ends the token
 * grants on it, as `/v1`'s drops do.
 */
import * as queries from "./queries.ts";
import { forgetKnownTokens } from "../auth/tokens.ts";

export type { IcebergSwap, IcebergTableRow } from "./queries.ts";

export async function databaseNamesPage(db: D1Database, afterName: string, limit: number): Promise<string[]> {
  return queries.selectDatabaseNamesPage(db, afterName, limit);
}

export async function namespaceExists(db: D1Database, name: string): Promise<boolean> {
  return (await queries.selectDatabase(db, name)) !== null;
}

export async function namespaceProperties(db: D1Database, name: string): Promise<Record<string, string>> {
  return queries.selectNamespaceProperties(db, name);
}

export async function updateNamespaceProperties(
  db: D1Database,
  name: string,
  updates: Record<string, string>,
  removals: readonly string[],
): Promise<void> {
  await queries.updateNamespaceProperties(db, name, updates, removals);
}

/** Drops a namespace with no tables of either kind: `dropped`, `not_empty` or `missing`. */
export async function dropNamespace(db: D1Database, name: string): Promise<"dropped" | "not_empty" | "missing"> {
  if (await queries.deleteEmptyNamespace(db, name)) {
    forgetKnownTokens();
    return "dropped";
  }
  return (await namespaceExists(db, name)) ? "not_empty" : "missing";
}

export async function getIcebergTable(db: D1Database, database: string, name: string): Promise<queries.IcebergTableRow | null> {
  return queries.selectIcebergTable(db, database, name);
}

/** One page of the table names the REST catalog lists in a database (tiered Floe tables and external tables). */
export async function icebergTableNamesPage(db: D1Database, database: string, afterName: string, limit: number): Promise<string[]> {
  return queries.selectIcebergTableNamesPage(db, database, afterName, limit);
}

/**
 * Applies every swap in one transaction; false (and nothing changed) when any of them did not take. A
 * drop or rename ends the grants on the name it leaves.
 */
export async function swapIcebergTables(db: D1Database, swaps: readonly queries.IcebergSwap[]): Promise<boolean> {
  const swapped = await queries.runIcebergSwaps(db, swaps, Date.now());
  if (swapped && swaps.some((swap) => swap.kind === "drop" || swap.kind === "rename")) forgetKnownTokens();
  return swapped;
}
