/**
 * Orphan cleanup: lake objects under a table's folder that nothing kept
 * references: no kept snapshot (its manifest list, manifests, data and
 * delete files) and no kept metadata file (the current one, those its
 * metadata log names, their `v<N>` copies, the version hint). Rounds
 * delete what they abandon themselves; this sweep catches what nothing
 * recorded (an older Floe's failed rounds, objects put by hand).
 *
 * Invariants: an object is deleted only when it is older than
 * `orphanGraceMs` (longer than any round takes, so nothing still being
 * written) and referenced by nothing the current metadata keeps; the sweep
 * runs between rounds of its coordinator, never during one.
 */
import type { TableEntry } from "../catalog/catalog.ts";
import type { LakeState } from "../catalog/lake.ts";
import { lakeLayout } from "../vocabulary.ts";
import { lakeKey } from "./objects.ts";
import { entriesOf, manifestsOf, metadataAt } from "./snapshots.ts";
import { tableKeyOf } from "./table-layout.ts";

export const orphanGraceMs = 3_600_000;
/** Kept snapshots beyond which a sweep is skipped: reading them all would cost too much (expiry keeps them fewer). */
const sweepSnapshotsMax = 10_000;

/** Deletes the table's orphaned objects; answers how many. */
export async function sweepOrphans(env: Env, table: TableEntry, state: LakeState, nowMs: number): Promise<number> {
  const metadata = await metadataAt(env, state.metadataLocation);
  if (metadata.snapshots.length > sweepSnapshotsMax) return 0;
  const tableKey = tableKeyOf(table);
  const kept = new Set<string>([lakeLayout.versionHintKey(tableKey)]);
  const keepMetadata = (uri: string) => {
    const key = lakeKey(env, uri);
    kept.add(key);
    const version = /\/(\d+)-[^/]*\.metadata\.json$/.exec(key)?.[1];
    if (version !== undefined) kept.add(lakeLayout.hadoopMetadataKey(tableKey, Number(version)));
  };
  keepMetadata(state.metadataLocation);
  for (const entry of metadata["metadata-log"]) keepMetadata(entry["metadata-file"]);
  for (const snapshot of metadata.snapshots) {
    const manifests = await manifestsOf(env, snapshot);
    kept.add(lakeKey(env, snapshot["manifest-list"]));
    for (const manifest of manifests) kept.add(lakeKey(env, manifest.path));
    for (const entries of await entriesOf(env, manifests)) for (const entry of entries) kept.add(lakeKey(env, entry.path));
  }
  let deleted = 0;
  let cursor: string | undefined;
  do {
    const listed = await env.LAKE.list({ prefix: `${tableKey}/`, cursor });
    const orphans = listed.objects.filter((o) => !kept.has(o.key) && o.uploaded.getTime() < nowMs - orphanGraceMs).map((o) => o.key);
    if (orphans.length > 0) await env.LAKE.delete(orphans);
    deleted += orphans.length;
    cursor = listed.truncated ? listed.cursor : undefined;
  } while (cursor !== undefined);
  return deleted;
}
