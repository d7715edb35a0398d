/** Routes for the lake: run a tiering pass now, and list a table's lake snapshots. */
import { Hono } from "hono";
import { getLakeState } from "../catalog/lake.ts";
import { runTieringPass } from "../lake/pass.ts";
import { metadataAt } from "../lake/snapshots.ts";
import { lakeSummary } from "../lake/lake-summary.ts";
import { bucketOffsetsOf } from "../iceberg/metadata.ts";
import type { FloeEnv } from "./env.ts";
import { access, needs } from "../auth/access.ts";
import { withTableParam } from "./params.ts";

export const tieringRoutes = new Hono<FloeEnv>().post("/run", access(needs.admin), async (c) =>
  c.json({ tables: await runTieringPass(c.env) }),
);

export const snapshotRoutes = new Hono<FloeEnv>().get("/:table/snapshots", access(({ db, table }) => needs.read(db, table)), async (c) => {
  const answer = await withTableParam(c, async (table) => {
    const state = await getLakeState(c.env.CATALOG, table.tableId);
    if (!state) return { lake: null, snapshots: [] };
    const metadata = await metadataAt(c.env, state.metadataLocation);
    const snapshots = metadata.snapshots.map((s) => ({
      snapshotId: s["snapshot-id"],
      sequenceNumber: s["sequence-number"],
      timestamp: new Date(s["timestamp-ms"]).toISOString(),
      operation: s.summary.operation,
      bucketOffsets: bucketOffsetsOf(s),
      addedDataFiles: Number(s.summary["added-data-files"] ?? 0),
      addedRecords: Number(s.summary["added-records"] ?? 0),
      totalDataFiles: Number(s.summary["total-data-files"] ?? 0),
      totalDeleteFiles: Number(s.summary["total-delete-files"] ?? 0),
      totalRecords: Number(s.summary["total-records"] ?? 0),
      totalBytes: Number(s.summary["total-files-size"] ?? 0),
    }));
    return { lake: await lakeSummary(c.env, state), snapshots };
  });
  return c.json(answer);
});
