/**
 * Commits to external Iceberg tables, as data: each table change is its
 * requirements and updates; the catalog checks the requirements against the
 * table's current metadata, applies the updates, writes the new metadata
 * JSON under the table's location, and swaps every changed table's pointer
 * in one D1 transaction.
 *
 * Invariants: Floe's own tables are never written here (403); a failed
 * requirement or a lost race is a 409 `CommitFailedException` and no
 * pointer moves (a metadata file already written stays unreferenced); a
 * failure while swapping is a 500 `CommitStateUnknownException`, the one
 * case where the client cannot know the outcome.
 */
import * as catalog from "../catalog/catalog.ts";
import * as iceberg from "../catalog/iceberg.ts";
import type { IcebergSwap, IcebergTableRow } from "../catalog/iceberg.ts";
import { IcebergError } from "./errors.ts";
import { readStoredMetadata, writeMetadata, type StoredMetadata } from "./metadata.ts";
import type { TableIdentifier } from "./params.ts";
import { failedRequirement, type Requirement } from "./requirements.ts";
import { checkTableLocation, defaultTableLocation } from "./storage.ts";
import { applyUpdates } from "./updates.ts";
import type { JsonObject } from "./wire.ts";

/** What a name in a namespace is: a Floe table, an external table (with its current metadata), or nothing. */
export type Target =
  | { kind: "floe"; id: TableIdentifier }
  | { kind: "external"; id: TableIdentifier; row: IcebergTableRow; stored: StoredMetadata }
  | { kind: "missing"; id: TableIdentifier };

export async function resolveTarget(env: Env, id: TableIdentifier): Promise<Target> {
  if (await catalog.findTable(env.CATALOG, id.namespace, id.name)) return { kind: "floe", id };
  const row = await iceberg.getIcebergTable(env.CATALOG, id.namespace, id.name);
  if (!row) return { kind: "missing", id };
  return { kind: "external", id, row, stored: await readStoredMetadata(env, row.metadataLocation) };
}

/** The refusal of any write through the REST catalog to a table Floe manages. */
export function floeManaged(id: TableIdentifier, what: string): IcebergError {
  return new IcebergError(
    403,
    "ForbiddenException",
    `table '${id.namespace}.${id.name}' is managed by Floe, which alone writes it, so it cannot ${what} through the Iceberg catalog; use Floe's API (/v1/databases/${id.namespace}/tables/${id.name})`,
  );
}

export interface TableChange {
  id: TableIdentifier;
  requirements: Requirement[];
  updates: JsonObject[];
}

/** How an existing table fails a create: the create route says AlreadyExists, a commit's assert-create CommitFailed. */
export type CreateConflict = "already-exists" | "commit-failed";

/** A change ready to swap in: its new metadata (already written, unless unchanged) and the swap, if any. */
export interface PreparedChange {
  id: TableIdentifier;
  stored: StoredMetadata;
  swap: IcebergSwap | null;
}

/** The metadata a change would commit, before anything is written (a staged create answers it). */
export async function plannedMetadata(env: Env, change: TableChange, onExists: CreateConflict): Promise<{ target: Target; metadata: StoredMetadata["metadata"] | null }> {
  const target = await resolveTarget(env, change.id);
  const { id } = change;
  const creates = change.requirements.some((r) => r.type === "assert-create");
  if (target.kind === "floe") {
    if (!creates) throw floeManaged(id, "be committed to");
    const message = `a Floe table '${id.namespace}.${id.name}' exists`;
    throw onExists === "already-exists" ? IcebergError.alreadyExists(message) : IcebergError.commitFailed(`requirement assert-create failed: ${message}`);
  }
  if (target.kind === "missing" && !(await iceberg.namespaceExists(env.CATALOG, id.namespace))) {
    throw IcebergError.noSuchNamespace(id.namespace);
  }
  if (target.kind === "missing" && !creates) throw IcebergError.noSuchTable(id.namespace, id.name);
  const base = target.kind === "external" ? target.stored.metadata : null;
  const failure = failedRequirement(change.requirements, base);
  if (failure !== null) {
    if (base !== null && creates && onExists === "already-exists") throw IcebergError.alreadyExists(`table '${id.namespace}.${id.name}' already exists`);
    throw IcebergError.commitFailed(`${id.namespace}.${id.name}: ${failure}`);
  }
  if (base !== null && change.updates.length === 0) return { target, metadata: null };
  const setsLocation = base === null || change.updates.some((u) => u.action === "set-location");
  const folders = setsLocation ? await floeTableFolders(env, id.namespace) : new Set<string>();
  const metadata = applyUpdates(base, target.kind === "external" ? target.row.metadataLocation : null, change.updates, {
    nowMs: Date.now(),
    defaultLocation: defaultTableLocation(env, id.namespace, id.name),
    checkLocation: (location) => checkTableLocation(env, id.namespace, location, folders),
  });
  return { target, metadata };
}

/** Checks and applies a change and writes its new metadata file; nothing is visible until `swapChanges`. */
export async function prepareChange(env: Env, change: TableChange, onExists: CreateConflict): Promise<PreparedChange> {
  const { target, metadata } = await plannedMetadata(env, change, onExists);
  if (metadata === null) return { id: change.id, stored: (target as Extract<Target, { kind: "external" }>).stored, swap: null };
  const previous = target.kind === "external" ? target.row.metadataLocation : null;
  const stored = await writeMetadata(env, metadata, previous);
  const { namespace: databaseName, name: tableName } = change.id;
  const swap: IcebergSwap = target.kind === "external"
    ? { kind: "update", databaseName, tableName, metadataLocation: stored.location, expectedVersion: target.row.version }
    : { kind: "create", databaseName, tableName, metadataLocation: stored.location };
  return { id: change.id, stored, swap };
}

/** Swaps every prepared change in, all or none; a 409 or 404 naming the first that could not. */
export async function swapChanges(env: Env, changes: readonly PreparedChange[], onExists: CreateConflict): Promise<void> {
  await swapAll(env, changes.flatMap((c) => (c.swap ? [c.swap] : [])), onExists);
}

/** Runs swaps in one transaction; when they do not take, finds out why for the answer. */
export async function swapAll(env: Env, swaps: readonly IcebergSwap[], onExists: CreateConflict): Promise<void> {
  if (swaps.length === 0) return;
  let swapped: boolean;
  try {
    swapped = await iceberg.swapIcebergTables(env.CATALOG, swaps);
  } catch (error) {
    console.error(JSON.stringify({ event: "iceberg_swap_failed", message: String(error) }));
    throw new IcebergError(500, "CommitStateUnknownException", "the catalog failed while swapping table pointers; reload the tables to learn whether the commit took");
  }
  if (swapped) return;
  for (const swap of swaps) {
    const why = await whyNotSwapped(env, swap, onExists);
    if (why) throw why;
  }
  throw IcebergError.commitFailed("a table changed concurrently; reload and retry");
}

async function whyNotSwapped(env: Env, swap: IcebergSwap, onExists: CreateConflict): Promise<IcebergError | null> {
  const db = env.CATALOG;
  const { databaseName: ns, tableName: name } = swap;
  const row = await iceberg.getIcebergTable(db, ns, name);
  if (swap.kind !== "create") {
    if (!row) return IcebergError.noSuchTable(ns, name);
    if (row.version !== swap.expectedVersion) return IcebergError.commitFailed(`table '${ns}.${name}' changed concurrently; reload and retry`);
  }
  const [toNs, toName] = swap.kind === "rename" ? [swap.toDatabase, swap.toTable] : swap.kind === "create" ? [ns, name] : [null, null];
  if (toNs === null || toName === null) return null;
  if (!(await iceberg.namespaceExists(db, toNs))) return IcebergError.noSuchNamespace(toNs);
  const taken = (await catalog.findTable(db, toNs, toName)) !== null || (await iceberg.getIcebergTable(db, toNs, toName)) !== null;
  if (!taken) return null;
  const message = `table '${toNs}.${toName}' already exists`;
  return swap.kind === "create" && onExists === "commit-failed" ? IcebergError.commitFailed(message) : IcebergError.alreadyExists(message);
}

/** The `<table>-<tableId>` folders of a namespace's Floe tables, where no external table may live. */
async function floeTableFolders(env: Env, namespace: string): Promise<Set<string>> {
  const tables = await catalog.listTables(env.CATALOG, namespace).catch(() => []);
  return new Set(tables.map((t) => `${t.name}-${t.tableId}`));
}
