/** Routes for the lake: run a tiering pass now, and list a table's lake snapshots. */
import { Hono } from "hono";
import { getLakeState } from "../catalog/lake.ts";
import { runTieringPass } from "../lake/pass.ts";
import { readMetadata } from "../lake/objects.ts";
import { bucketOffsetsOf } from "../iceberg/metadata.ts";
import type { FloeEnv } from "./env.ts";
import { access, needs } from "../auth/access.ts";
import { withTableParam } from "./params.ts";

export const tieringRoutes = new Hono<FloeEnv>().post("/run", access(needs.admin), async (c) =>
  c.json({ tables: await runTieringPass(c.env) }),
);

export const snapshotRoutes = new Hono<FloeEnv>().get("/:table/snapshots", access(({ db, table }) => needs.read(db, table)), async (c) => {
  const snapshots = await withTableParam(c, async (table) => {
    const state = await getLakeState(c.env.CATALOG, table.tableId);
    if (!state) return [];
    const metadata = await readMetadata(c.env, state.metadataLocation);
    return metadata.snapshots.map((s) => ({
      snapshotId: s["snapshot-id"],
      sequenceNumber: s["sequence-number"],
      timestamp: new Date(s["timestamp-ms"]).toISOString(),
      operation: s.summary.operation,
      bucketOffsets: bucketOffsetsOf(s),
      addedDataFiles: Number(s.summary["added-data-files"] ?? 0),
      addedRecords: Number(s.summary["added-records"] ?? 0),
      totalDataFiles: Number(s.summary["total-data-files"] ?? 0),
      totalRecords: Number(s.summary["total-records"] ?? 0),
    }));
  });
  return c.json({ snapshots });
});
