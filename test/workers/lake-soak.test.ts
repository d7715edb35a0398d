/**
 * A short soak of the lake's lifecycle: a primary-key table of 50 keys
 * tiered round after round with compaction and snapshot expiry on (and
 * their thresholds low), against a model. Every size that used to grow
 * with the number of rounds (the catalog row, the metadata JSON, the
 * current snapshot's manifests, the objects in R2) must stay under a bound
 * after warm-up, and every read must equal the model throughout.
 * (`npm run bench -- soak` runs the long one and times it.)
 */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { selectLake } from "../../src/catalog/queries.ts";
import { readManifestList } from "../../src/iceberg/manifest-read.ts";
import { manifestsMergeMinCount } from "../../src/lake/manifest-plan.ts";
import { createTable, ok } from "./helpers.ts";
import { currentMetadata, keyOf } from "./lake-files.ts";
import { random } from "../fixtures.ts";

const rounds = 150;
const retentionMs = 1_000;
const previousVersionsMax = 5;
const every = 25;

describe("the lake over many rounds", () => {
  it("keeps every size bounded and every read equal to the model", async () => {
    await createTable("soak", "pk", {
      columns: [{ name: "id", type: "INT" }, { name: "value", type: "BIGINT" }],
      primaryKey: ["id"],
      bucket: { num: 4 },
      properties: {
        "table.datalake.enabled": "true",
        "table.datalake.auto-maintenance": "true",
        "table.datalake.snapshot.retention": `${retentionMs / 1000}s`,
        "table.datalake.compaction.min-input-files": "4",
        "write.metadata.previous-versions-max": String(previousVersionsMax),
      },
    });
    const { tableId } = await ok("GET", "/databases/soak/tables/pk");
    const next = random(99);
    const model = new Map<number, number>();
    const samples: { catalogRow: number; metadata: number; snapshots: number; manifests: number; objects: number }[] = [];
    for (let round = 1; round <= rounds; round++) {
      const rows = Array.from({ length: 2 }, () => ({ id: Math.floor(next() * 50), value: round }));
      for (const row of rows) model.set(row.id, row.value);
      await ok("POST", "/databases/soak/tables/pk/rows", rows);
      const tiered = (await ok("POST", "/tiering/run")).tables.find((t: { table: string }) => t.table === "soak.pk");
      expect(tiered.kind).not.toBe("failed");
      if (round % every !== 0) continue;
      const scan = await ok("GET", "/databases/soak/tables/pk/scan");
      expect(new Map(scan.rows.map((r: { id: number; value: number }) => [r.id, r.value]))).toEqual(model);
      const lake = await ok("GET", "/databases/soak/tables/pk/scan?source=lake");
      expect(lake.rows.length).toBe(model.size);
      const metadata = await currentMetadata(tableId);
      // Expiry ran at the last commit: every snapshot is within the retention of it but the current one and its
      // parent (current when expiry ran, so kept however old: a slow round under load leaves it older). Expiry
      // measures from the round's clock, which a second commit of the round (a compaction) passes by 1 ms, as
      // snapshot timestamps only increase.
      const committedMs = metadata["last-updated-ms"] - 1;
      const current = metadata.snapshots.find((s) => s["snapshot-id"] === metadata["current-snapshot-id"])!;
      for (const snapshot of metadata.snapshots) {
        if (snapshot !== current && snapshot["snapshot-id"] !== current["parent-snapshot-id"]) expect(snapshot["timestamp-ms"]).toBeGreaterThanOrEqual(committedMs - retentionMs);
      }
      expect(metadata["snapshot-log"].length).toBe(metadata.snapshots.length);
      expect(metadata["metadata-log"].length).toBeLessThanOrEqual(previousVersionsMax);
      const list = await env.LAKE.get(keyOf(current["manifest-list"]));
      samples.push({
        catalogRow: JSON.stringify(await selectLake(env.CATALOG, tableId)).length,
        metadata: JSON.stringify(metadata).length,
        snapshots: metadata.snapshots.length,
        manifests: readManifestList(new Uint8Array(await list!.arrayBuffer())).length,
        objects: (await env.LAKE.list({ prefix: `soak/pk-${tableId}/` })).objects.length,
      });
    }
    // After warm-up (the first sample) nothing grows with the rounds. How many snapshots the retention keeps
    // depends on how fast rounds run, so the metadata and the objects are bounded per kept snapshot: about
    // 1 KiB of JSON each, and each snapshot's own manifest list, manifests, data and delete files (at most two
    // files per bucket and a manifest per kind). The catalog row grows only by the digits of its offsets;
    // manifests stay under the merge threshold of each kind.
    const [warm, ...rest] = samples;
    const show = (size: keyof (typeof samples)[number]) => `${size}: ${samples.map((s) => s[size]).join(", ")}`;
    for (const sample of rest) {
      expect(sample.catalogRow, show("catalogRow")).toBeLessThanOrEqual(warm!.catalogRow + 16);
      expect(sample.metadata, show("metadata")).toBeLessThanOrEqual(8_192 + 2_048 * sample.snapshots);
      expect(sample.objects, show("objects")).toBeLessThanOrEqual(warm!.objects + 16 * sample.snapshots);
      expect(sample.manifests, show("manifests")).toBeLessThanOrEqual(2 * (manifestsMergeMinCount + 1));
    }
  }, 300_000);
});
