/**
 * Snapshot expiry: which snapshots a commit drops from the metadata, and
 * which lake objects only they reference (so they can be deleted once that
 * commit is in).
 *
 * Floe's history is linear: a file leaves a snapshot only by being removed
 * and is never added again, and a manifest, once no longer listed, is never
 * listed again. So an object of an expired snapshot that the oldest kept
 * snapshot does not reference is referenced by no kept snapshot at all.
 */
import type { Snapshot, TableMetadata } from "../iceberg/metadata.ts";
import type { ExpiryPolicy } from "./policy.ts";
import { entriesOf, manifestsOf } from "./snapshots.ts";

/**
 * The snapshots to expire when committing on top of `metadata`: older than
 * the retention, beyond the newest `minKeep`; never the current one.
 */
export function snapshotsToExpire(metadata: TableMetadata, policy: ExpiryPolicy, nowMs: number): Snapshot[] {
  if (!policy.enabled) return [];
  const snapshots = metadata.snapshots;
  // The commit adds one snapshot, which counts towards the ones kept.
  const keepNewest = Math.max(0, policy.minKeep - 1);
  const candidates = snapshots.slice(0, Math.max(0, snapshots.length - keepNewest));
  return candidates.filter((s) => s["snapshot-id"] !== metadata["current-snapshot-id"] && s["timestamp-ms"] < nowMs - policy.retentionMs);
}

/** The URIs of the objects (data and delete files, manifests, manifest lists) only the expired snapshots reference. */
export async function objectsOnlyIn(env: Env, expired: readonly Snapshot[], oldestKept: Snapshot): Promise<string[]> {
  const kept = await referencedBy(env, oldestKept);
  const only = new Set<string>();
  for (const snapshot of expired) {
    for (const uri of await referencedBy(env, snapshot)) if (!kept.has(uri)) only.add(uri);
  }
  return [...only];
}

async function referencedBy(env: Env, snapshot: Snapshot): Promise<Set<string>> {
  const manifests = await manifestsOf(env, snapshot);
  const entries = await entriesOf(env, manifests);
  return new Set([snapshot["manifest-list"], ...manifests.map((m) => m.path), ...entries.flat().map((e) => e.path)]);
}
