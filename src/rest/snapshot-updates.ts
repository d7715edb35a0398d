/**
 * The updates that change a table's snapshots and refs: add-snapshot,
 * set-snapshot-ref, remove-snapshots, remove-snapshot-ref, and the
 * statistics files kept per snapshot.
 *
 * Invariants: snapshot ids are unique; a v2 snapshot's sequence number is
 * above every earlier one (unless it has no parent); every ref names an
 * existing snapshot; `current-snapshot-id` is the `main` branch's snapshot
 * (absent without one); the snapshot log never names a removed snapshot
 * (history before a removed one is dropped, as Java does, so it has no gaps).
 */
import { IcebergError } from "./errors.ts";
import type { Long } from "./json.ts";
import type { Snapshot, SnapshotRef, StatisticsEntry, TableMetadata } from "./metadata.ts";
import * as wire from "./wire.ts";

const operations = new Set(["append", "replace", "overwrite", "delete"]);

/** When the commit's snapshots happened: the last added snapshot's time becomes the metadata's `last-updated-ms`. */
export interface SnapshotClock {
  lastSnapshotMs: number | null;
  nowMs: number;
}

export function addSnapshot(m: TableMetadata, update: wire.JsonObject, clock: SnapshotClock): void {
  const what = "add-snapshot.snapshot";
  const body = wire.object(update.snapshot, what);
  const id = wire.long(body["snapshot-id"], `${what}.snapshot-id`);
  const parent = body["parent-snapshot-id"] === undefined || body["parent-snapshot-id"] === null
    ? null : wire.long(body["parent-snapshot-id"], `${what}.parent-snapshot-id`);
  const timestampMs = wire.millis(body["timestamp-ms"], `${what}.timestamp-ms`);
  wire.string(body["manifest-list"], `${what}.manifest-list`);
  const summary = wire.stringMap(body.summary, `${what}.summary`);
  if (!operations.has(summary.operation ?? "")) {
    throw IcebergError.badRequest(`${what}.summary.operation must be append, replace, overwrite or delete`);
  }
  if (body["schema-id"] !== undefined) wire.int(body["schema-id"], `${what}.schema-id`);
  if (m.snapshots.some((s) => s["snapshot-id"] === id)) throw IcebergError.badRequest(`add-snapshot: snapshot ${id} already exists`);
  if (parent !== null && !m.snapshots.some((s) => s["snapshot-id"] === parent)) {
    throw IcebergError.badRequest(`add-snapshot: parent snapshot ${parent} does not exist`);
  }
  const sequenceNumber = wire.long(body["sequence-number"], `${what}.sequence-number`);
  if (parent !== null && sequenceNumber <= m["last-sequence-number"]) {
    throw IcebergError.commitFailed(
      `add-snapshot: sequence number ${sequenceNumber} is not above the table's last sequence number ${m["last-sequence-number"]}; another commit took it, retry`,
    );
  }
  m.snapshots.push(body as Snapshot);
  if (sequenceNumber > m["last-sequence-number"]) m["last-sequence-number"] = sequenceNumber;
  clock.lastSnapshotMs = timestampMs;
}

export function setSnapshotRef(m: TableMetadata, update: wire.JsonObject, clock: SnapshotClock): void {
  const name = wire.string(update["ref-name"], "set-snapshot-ref.ref-name");
  const type = wire.string(update.type, "set-snapshot-ref.type");
  if (type !== "branch" && type !== "tag") throw IcebergError.badRequest("set-snapshot-ref.type must be branch or tag");
  if (name === "main" && type !== "branch") throw IcebergError.badRequest("set-snapshot-ref: main must be a branch");
  const id = wire.long(update["snapshot-id"], "set-snapshot-ref.snapshot-id");
  if (!m.snapshots.some((s) => s["snapshot-id"] === id)) throw IcebergError.badRequest(`set-snapshot-ref: snapshot ${id} does not exist`);
  const ref: SnapshotRef = { "snapshot-id": id, type };
  for (const key of ["max-ref-age-ms", "max-snapshot-age-ms", "min-snapshots-to-keep"] as const) {
    if (update[key] !== undefined && update[key] !== null) ref[key] = wire.millis(update[key], `set-snapshot-ref.${key}`);
  }
  m.refs[name] = ref;
  if (name === "main") {
    m["current-snapshot-id"] = id;
    m["snapshot-log"].push({ "timestamp-ms": clock.lastSnapshotMs ?? clock.nowMs, "snapshot-id": id });
  }
}

export function removeSnapshots(m: TableMetadata, update: wire.JsonObject): void {
  const ids = new Set<Long>(
    wire.array(update["snapshot-ids"], "remove-snapshots.snapshot-ids").map((v, i) => wire.long(v, `remove-snapshots.snapshot-ids[${i}]`)),
  );
  m.snapshots = m.snapshots.filter((s) => !ids.has(s["snapshot-id"]));
  for (const [name, ref] of Object.entries(m.refs)) if (ids.has(ref["snapshot-id"])) removeRef(m, name);
  const log: TableMetadata["snapshot-log"] = [];
  for (const entry of m["snapshot-log"]) {
    if (ids.has(entry["snapshot-id"])) log.length = 0;
    else log.push(entry);
  }
  m["snapshot-log"] = log;
  if (m.statistics) m.statistics = m.statistics.filter((s) => !ids.has(s["snapshot-id"]));
  if (m["partition-statistics"]) m["partition-statistics"] = m["partition-statistics"].filter((s) => !ids.has(s["snapshot-id"]));
}

export function removeSnapshotRef(m: TableMetadata, update: wire.JsonObject): void {
  removeRef(m, wire.string(update["ref-name"], "remove-snapshot-ref.ref-name"));
}

function removeRef(m: TableMetadata, name: string): void {
  delete m.refs[name];
  if (name === "main") delete m["current-snapshot-id"];
}

/** set-statistics and set-partition-statistics: one file per snapshot, replaced. */
export function setStatistics(m: TableMetadata, update: wire.JsonObject, key: "statistics" | "partition-statistics"): void {
  const what = update.action === "set-statistics" ? "set-statistics.statistics" : "set-partition-statistics.partition-statistics";
  const entry = wire.object(update[key], what) as StatisticsEntry;
  const id = wire.long(entry["snapshot-id"], `${what}.snapshot-id`);
  wire.string(entry["statistics-path"], `${what}.statistics-path`);
  m[key] = [...(m[key] ?? []).filter((s) => s["snapshot-id"] !== id), entry];
}

/** remove-statistics and remove-partition-statistics. */
export function removeStatistics(m: TableMetadata, update: wire.JsonObject, key: "statistics" | "partition-statistics"): void {
  const id = wire.long(update["snapshot-id"], `${String(update.action)}.snapshot-id`);
  if (m[key]) m[key] = m[key].filter((s) => s["snapshot-id"] !== id);
}
