/**
 * A commit's updates (the spec's `TableUpdate`s) applied to a table's
 * metadata: a pure function from the metadata before (or none, for a
 * create) and the updates to the metadata after, or a 400 naming the first
 * update that cannot apply. Unknown actions are refused, as the spec asks.
 *
 * Invariants: the table uuid never changes once assigned; Floe writes
 * format-version 2 (a commit that would need another is refused); the
 * result is complete metadata (a current schema, a default spec and sort
 * order, a location) with the previous file appended to `metadata-log`.
 */
import { IcebergError } from "./errors.ts";
import type { TableMetadata } from "./metadata.ts";
import * as layout from "./layout-updates.ts";
import * as snapshots from "./snapshot-updates.ts";
import * as wire from "./wire.ts";

/** The one format version Floe commits. */
export const writableFormatVersion = 2;

/** What applying updates needs from outside: the time, and where a new table may live. */
export interface UpdateContext {
  nowMs: number;
  /** Where a new table lives when its updates set no location. */
  defaultLocation: string;
  /** Throws a 400 when a table may not live at `location`. */
  checkLocation(location: string): void;
}

type Action = (m: TableMetadata, update: wire.JsonObject, state: BuildState) => void;

interface BuildState {
  created: boolean;
  last: layout.LastAdded;
  clock: snapshots.SnapshotClock;
  context: UpdateContext;
}

const actions: Record<string, Action> = {
  "assign-uuid": assignUuid,
  "upgrade-format-version": upgradeFormatVersion,
  "add-schema": (m, u, s) => layout.addSchema(m, u, s.last),
  "set-current-schema": (m, u, s) => layout.setCurrentSchema(m, u, s.last),
  "add-spec": (m, u, s) => layout.addSpec(m, u, s.last),
  "set-default-spec": (m, u, s) => layout.setDefaultSpec(m, u, s.last),
  "add-sort-order": (m, u, s) => layout.addSortOrder(m, u, s.last),
  "set-default-sort-order": (m, u, s) => layout.setDefaultSortOrder(m, u, s.last),
  "remove-schemas": (m, u) => layout.removeSchemas(m, u),
  "remove-partition-specs": (m, u) => layout.removePartitionSpecs(m, u),
  "add-snapshot": (m, u, s) => snapshots.addSnapshot(m, u, s.clock),
  "set-snapshot-ref": (m, u, s) => snapshots.setSnapshotRef(m, u, s.clock),
  "remove-snapshots": (m, u) => snapshots.removeSnapshots(m, u),
  "remove-snapshot-ref": (m, u) => snapshots.removeSnapshotRef(m, u),
  "set-statistics": (m, u) => snapshots.setStatistics(m, u, "statistics"),
  "remove-statistics": (m, u) => snapshots.removeStatistics(m, u, "statistics"),
  "set-partition-statistics": (m, u) => snapshots.setStatistics(m, u, "partition-statistics"),
  "remove-partition-statistics": (m, u) => snapshots.removeStatistics(m, u, "partition-statistics"),
  "set-location": setLocation,
  "set-properties": setProperties,
  "remove-properties": removeProperties,
};

/** Known to the spec, but not something Floe's catalog can do. */
const unsupported = new Set(["add-encryption-key", "remove-encryption-key", "add-view-version", "set-current-view-version"]);

/** Parses the updates of a commit body (each an object with a known `action`) without applying them. */
export function parseUpdates(input: unknown, what: string): wire.JsonObject[] {
  return wire.array(input, what).map((raw, i) => {
    const update = wire.object(raw, `${what}[${i}]`);
    const action = wire.string(update.action, `${what}[${i}].action`);
    if (unsupported.has(action)) throw IcebergError.badRequest(`${what}[${i}]: Floe's catalog does not support ${action}`);
    if (!(action in actions)) throw IcebergError.badRequest(`${what}[${i}]: unknown update action '${action}'`);
    return update;
  });
}

/**
 * The metadata after applying `updates` to `base` (null: a new table), stored at `baseLocation`.
 * Throws a 400 for an update that cannot apply, a 409 for a sequence number another commit took.
 */
export function applyUpdates(base: TableMetadata | null, baseLocation: string | null, updates: readonly wire.JsonObject[], context: UpdateContext): TableMetadata {
  if (base !== null && base["format-version"] !== writableFormatVersion) {
    throw IcebergError.badRequest(`Floe commits only format-version ${writableFormatVersion} tables; this one is format-version ${base["format-version"]}`);
  }
  const m: TableMetadata = base === null ? emptyMetadata(context.nowMs) : structuredClone(base);
  m.refs ??= {};
  m.snapshots ??= [];
  m["snapshot-log"] ??= [];
  m["metadata-log"] ??= [];
  m.properties ??= {};
  const state: BuildState = {
    created: base === null,
    last: { schemaId: null, specId: null, orderId: null },
    clock: { lastSnapshotMs: null, nowMs: context.nowMs },
    context,
  };
  for (const update of updates) actions[update.action as string]!(m, update, state);
  completeNewTable(m, state);
  if (base !== null && baseLocation !== null) {
    m["metadata-log"].push({ "timestamp-ms": base["last-updated-ms"], "metadata-file": baseLocation });
    const kept = Number(m.properties["write.metadata.previous-versions-max"] ?? 100);
    const log = m["metadata-log"];
    if (Number.isSafeInteger(kept) && kept >= 0 && log.length > kept) m["metadata-log"] = log.slice(log.length - kept);
  }
  m["last-updated-ms"] = Math.max(state.clock.lastSnapshotMs ?? context.nowMs, base?.["last-updated-ms"] ?? 0);
  return m;
}

function emptyMetadata(nowMs: number): TableMetadata {
  return {
    "format-version": writableFormatVersion,
    "table-uuid": "",
    location: "",
    "last-sequence-number": 0,
    "last-updated-ms": nowMs,
    "last-column-id": 0,
    schemas: [],
    "current-schema-id": -1,
    "partition-specs": [],
    "default-spec-id": -1,
    "last-partition-id": 999,
    "sort-orders": [],
    "default-sort-order-id": -1,
    properties: {},
    refs: {},
    snapshots: [],
    "snapshot-log": [],
    "metadata-log": [],
  };
}

/** A new table gets a uuid, a location, the unpartitioned spec and the unsorted order unless its updates gave them; it needs a schema. */
function completeNewTable(m: TableMetadata, state: BuildState): void {
  if (!state.created) return;
  if (m["table-uuid"] === "") m["table-uuid"] = crypto.randomUUID();
  if (m.location === "") m.location = state.context.defaultLocation;
  if (m["current-schema-id"] === -1) throw IcebergError.badRequest("a new table needs a schema (add-schema and set-current-schema)");
  if (m["partition-specs"].length === 0) m["partition-specs"].push({ "spec-id": 0, fields: [] });
  if (m["default-spec-id"] === -1) m["default-spec-id"] = m["partition-specs"][0]!["spec-id"];
  if (m["sort-orders"].length === 0) m["sort-orders"].push({ "order-id": 0, fields: [] });
  if (m["default-sort-order-id"] === -1) m["default-sort-order-id"] = m["sort-orders"][0]!["order-id"];
}

function assignUuid(m: TableMetadata, update: wire.JsonObject, state: BuildState): void {
  const uuid = wire.string(update.uuid, "assign-uuid.uuid");
  if (!/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(uuid)) {
    throw IcebergError.badRequest(`assign-uuid.uuid must be a UUID, got ${JSON.stringify(uuid.slice(0, 40))}`);
  }
  if (!state.created && uuid.toLowerCase() !== m["table-uuid"].toLowerCase()) {
    throw IcebergError.badRequest(`assign-uuid: the table's uuid is ${m["table-uuid"]} and cannot change`);
  }
  m["table-uuid"] = uuid;
}

function upgradeFormatVersion(m: TableMetadata, update: wire.JsonObject): void {
  const version = wire.int(update["format-version"], "upgrade-format-version.format-version");
  if (version < m["format-version"]) {
    throw IcebergError.badRequest(`upgrade-format-version: cannot downgrade from ${m["format-version"]} to ${version}`);
  }
  if (version > writableFormatVersion) {
    throw IcebergError.badRequest(`upgrade-format-version: Floe creates and commits format-version ${writableFormatVersion} tables, not ${version}`);
  }
}

function setLocation(m: TableMetadata, update: wire.JsonObject, state: BuildState): void {
  const location = wire.string(update.location, "set-location.location").replace(/\/+$/, "");
  state.context.checkLocation(location);
  m.location = location;
}

function setProperties(m: TableMetadata, update: wire.JsonObject): void {
  Object.assign(m.properties, wire.stringMap(update.updates, "set-properties.updates"));
}

function removeProperties(m: TableMetadata, update: wire.JsonObject): void {
  for (const key of wire.stringList(update.removals, "remove-properties.removals")) delete m.properties[key];
}
