/**
 * What a table's lake holds and how it is kept, as describe, the snapshots
 * route and metrics show it: from the current snapshot's summary (Iceberg's
 * running totals, and Floe's maintenance times) and the metadata's kept
 * snapshots; no manifest is read.
 */
import type { LakeState } from "../catalog/lake.ts";
import type { Snapshot } from "../iceberg/metadata.ts";
import { maintenanceSummaryKeys } from "../iceberg/metadata.ts";
import { metadataAt } from "./snapshots.ts";

export interface LakeSummary {
  snapshotId: number | null;
  version: number;
  metadataLocation: string;
  /** Snapshots the metadata keeps (time travel reaches these). */
  snapshots: number;
  dataFiles: number;
  deleteFiles: number;
  records: number;
  bytes: number;
  lastCompaction: string | null;
  lastExpiry: string | null;
}

export async function lakeSummary(env: Env, state: LakeState): Promise<LakeSummary> {
  const metadata = await metadataAt(env, state.metadataLocation);
  const current = metadata.snapshots.find((s) => s["snapshot-id"] === metadata["current-snapshot-id"]);
  const summary: Snapshot["summary"] | Record<string, string> = current?.summary ?? {};
  const count = (key: string) => Number(summary[key] ?? 0);
  const time = (key: string) => (summary[key] === undefined ? null : new Date(Number(summary[key])).toISOString());
  return {
    snapshotId: current?.["snapshot-id"] ?? null,
    version: state.version,
    metadataLocation: state.metadataLocation,
    snapshots: metadata.snapshots.length,
    dataFiles: count("total-data-files"),
    deleteFiles: count("total-delete-files"),
    records: count("total-records"),
    bytes: count("total-files-size"),
    lastCompaction: time(maintenanceSummaryKeys.lastCompactionMs),
    lastExpiry: time(maintenanceSummaryKeys.lastExpiryMs),
  };
}
