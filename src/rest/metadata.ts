/**
 * Table metadata as the REST catalog handles it: the spec's JSON of any
 * table (Floe's or an engine's), read from R2 exactly, with ids as `Long`s
 * and every field the catalog does not know kept as it was.
 *
 * Invariant: a metadata file is immutable once written, so its text is
 * cached by location; what a load answers for `snapshots=all` is that text
 * unchanged.
 */
import { lakeKey } from "../lake/objects.ts";
import { IcebergError } from "./errors.ts";
import { parseJson, stringifyJson, type Long } from "./json.ts";

export interface SchemaField {
  id: number;
  name: string;
  type: unknown;
  required: boolean;
  [extra: string]: unknown;
}

export interface Schema {
  type: "struct";
  "schema-id": number;
  fields: SchemaField[];
  "identifier-field-ids"?: number[];
}

export interface PartitionField {
  "source-id": number;
  "field-id": number;
  name: string;
  transform: string;
}

export interface PartitionSpec {
  "spec-id": number;
  fields: PartitionField[];
}

export interface SortField {
  transform: string;
  "source-id": number;
  direction: "asc" | "desc";
  "null-order": "nulls-first" | "nulls-last";
}

export interface SortOrder {
  "order-id": number;
  fields: SortField[];
}

export interface Snapshot {
  "snapshot-id": Long;
  "parent-snapshot-id"?: Long | null;
  "sequence-number"?: Long;
  "timestamp-ms": number;
  "manifest-list": string;
  summary: { operation: string; [key: string]: string };
  "schema-id"?: number;
  [extra: string]: unknown;
}

export interface SnapshotRef {
  "snapshot-id": Long;
  type: "branch" | "tag";
  "max-ref-age-ms"?: number;
  "max-snapshot-age-ms"?: number;
  "min-snapshots-to-keep"?: number;
}

/** A statistics or partition-statistics file entry; only its snapshot id matters to the catalog. */
export interface StatisticsEntry {
  "snapshot-id": Long;
  [extra: string]: unknown;
}

export interface TableMetadata {
  "format-version": number;
  "table-uuid": string;
  location: string;
  "last-sequence-number": Long;
  "last-updated-ms": number;
  "last-column-id": number;
  schemas: Schema[];
  "current-schema-id": number;
  "partition-specs": PartitionSpec[];
  "default-spec-id": number;
  "last-partition-id": number;
  "sort-orders": SortOrder[];
  "default-sort-order-id": number;
  properties: Record<string, string>;
  "current-snapshot-id"?: Long | null;
  refs: Record<string, SnapshotRef>;
  snapshots: Snapshot[];
  "snapshot-log": { "timestamp-ms": number; "snapshot-id": Long }[];
  "metadata-log": { "timestamp-ms": number; "metadata-file": string }[];
  statistics?: StatisticsEntry[];
  "partition-statistics"?: StatisticsEntry[];
  [extra: string]: unknown;
}

/** A metadata file as read: its exact text, and that text parsed. */
export interface StoredMetadata {
  location: string;
  text: string;
  metadata: TableMetadata;
}

const cachedFilesMax = 16;
const cachedFiles = new Map<string, StoredMetadata>();

/** The metadata file at `location` (a lake URI); a 400 naming why when it is not a table's metadata. */
export async function readStoredMetadata(env: Env, location: string): Promise<StoredMetadata> {
  const hit = cachedFiles.get(location);
  if (hit) return hit;
  let key: string;
  try {
    key = lakeKey(env, location);
  } catch {
    throw IcebergError.badRequest(`metadata location ${location} is not in Floe's lake bucket (${env.LAKE_URI_PREFIX}/...)`);
  }
  const object = await env.LAKE.get(key);
  if (!object) throw IcebergError.badRequest(`no metadata file at ${location}`);
  const text = await object.text();
  const stored = { location, text, metadata: parseMetadata(text, location) };
  cachedFiles.set(location, stored);
  if (cachedFiles.size > cachedFilesMax) cachedFiles.delete(cachedFiles.keys().next().value!);
  return stored;
}

function parseMetadata(text: string, location: string): TableMetadata {
  let parsed: unknown;
  try {
    parsed = parseJson(text);
  } catch {
    throw IcebergError.badRequest(`${location} is not JSON`);
  }
  const m = parsed as Partial<TableMetadata> | null;
  const version = m?.["format-version"];
  if (typeof m !== "object" || m === null || Array.isArray(m) || (version !== 1 && version !== 2 && version !== 3)
    || typeof m["table-uuid"] !== "string" || typeof m.location !== "string") {
    throw IcebergError.badRequest(`${location} is not Iceberg table metadata (format-version 1..3, table-uuid and location)`);
  }
  return parsed as TableMetadata;
}

/** Writes new metadata under the table's location and answers where; names never repeat. */
export async function writeMetadata(env: Env, metadata: TableMetadata, previous: string | null): Promise<StoredMetadata> {
  const version = previous === null ? 0 : Number(/\/(\d+)-[^/]*\.metadata\.json$/.exec(previous)?.[1] ?? 0);
  const name = `${String(version + 1).padStart(5, "0")}-${crypto.randomUUID()}.metadata.json`;
  const location = `${metadata.location}/metadata/${name}`;
  const text = stringifyJson(metadata);
  await env.LAKE.put(lakeKey(env, location), text, { httpMetadata: { contentType: "application/json" } });
  return { location, text, metadata };
}

/** The metadata with only the snapshots a branch or tag names (`snapshots=refs`). */
export function onlyReferencedSnapshots(metadata: TableMetadata): TableMetadata {
  const referenced = new Set<Long>(Object.values(metadata.refs ?? {}).map((ref) => ref["snapshot-id"]));
  return { ...metadata, snapshots: (metadata.snapshots ?? []).filter((s) => referenced.has(s["snapshot-id"])) };
}

/** Which snapshots a load answers. */
export type SnapshotsMode = "all" | "refs";

/** The metadata text a load answers: the file itself, or with only the referenced snapshots. */
export function metadataText(stored: StoredMetadata, mode: SnapshotsMode): string {
  return mode === "all" ? stored.text : stringifyJson(onlyReferencedSnapshots(stored.metadata));
}

/** The ETag of a load's answer: one per metadata file and snapshots mode (the spec wants them distinct). */
export async function etagOf(location: string, mode: SnapshotsMode): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(`${mode}\n${location}`));
  const hex = [...new Uint8Array(digest).slice(0, 16)].map((b) => b.toString(16).padStart(2, "0")).join("");
  return `"${hex}"`;
}

/** Whether an `If-None-Match` header names `etag` (or `*`); weak tags compare by their value. */
export function etagMatches(ifNoneMatch: string | undefined, etag: string): boolean {
  if (ifNoneMatch === undefined) return false;
  return ifNoneMatch.split(",").map((tag) => tag.trim().replace(/^W\//, "")).some((tag) => tag === "*" || tag === etag);
}
