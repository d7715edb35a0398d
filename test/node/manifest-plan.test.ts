/**
 * Planning a snapshot's manifests: kept as they are, rewritten when a file
 * leaves (DELETED for it, EXISTING with explicit numbers for the rest), and
 * merged once a kind has more than the threshold; the entries written read
 * back by avsc with the numbers the spec wants, and by Floe's reader as
 * exactly the live files.
 */
import { describe, expect, it } from "vitest";
import { readAvro } from "./avro-reader.ts";
import { entryStatus, writeManifest, type DataFile, type ManifestFile, type PartitionField } from "../../src/iceberg/manifest.ts";
import { readManifest } from "../../src/iceberg/manifest-read.ts";
import type { ManifestEntry } from "../../src/iceberg/manifest-read.ts";
import type { IcebergSchema } from "../../src/iceberg/schema.ts";
import { describeManifest, manifestsMergeMinCount, planManifests } from "../../src/lake/manifest-plan.ts";

const schema: IcebergSchema = { type: "struct", "schema-id": 0, fields: [{ id: 1, name: "id", required: true, type: "long" }] };
const partitionFields: PartitionField[] = [{ sourceId: 1, fieldId: 1000, name: "id_bucket", transform: "bucket[4]", resultType: "int" }];

const file = (n: number, bucket = n % 4): DataFile => ({
  content: 0, path: `s3://lake/t/data/id_bucket=${bucket}/${n}.parquet`, recordCount: 10 + n, fileSizeInBytes: 1000 + n,
  partition: { id_bucket: bucket }, metrics: new Map(), splitOffsets: [4], sortOrderId: 1,
});

/** A manifest written by snapshot `snapshotId` at `sequenceNumber` holding `files` as ADDED, as a reader gets it back. */
function committed(files: DataFile[], snapshotId: number, sequenceNumber: number): { manifest: ManifestFile; entries: ManifestEntry[] } {
  const written = { content: 0 as const, entries: files.map((f) => planManifests([], [f], new Set(), snapshotId).written[0]!.entries[0]!) };
  const bytes = writeManifest({ schema, specId: 0, partitionFields, content: "data", entries: written.entries });
  const manifest = describeManifest(written, `s3://lake/t/metadata/m${snapshotId}.avro`, bytes.byteLength, snapshotId, sequenceNumber);
  return { manifest, entries: readManifest(bytes, manifest) };
}

describe("manifest plans", () => {
  it("keep untouched manifests, and rewrite the one a removed file leaves: DELETED for it, EXISTING with its numbers for the rest", async () => {
    const first = committed([file(1), file(2)], 11, 1);
    const second = committed([file(3)], 12, 2);
    const plan = planManifests([first, second], [file(4)], new Set([file(1).path]), 13);
    expect(plan.kept).toEqual([second.manifest]);
    const rewritten = plan.written.find((m) => m.entries.some((e) => e.status === entryStatus.deleted))!;
    const bytes = writeManifest({ schema, specId: 0, partitionFields, content: "data", entries: rewritten.entries });
    const { records } = await readAvro(bytes, { bigintLongs: true });
    expect(records.map((r) => [r.status, r.data_file.file_path, r.snapshot_id, r.sequence_number, r.file_sequence_number])).toEqual([
      [2, file(1).path, 13n, 1n, 1n],
      [0, file(2).path, 11n, 1n, 1n],
    ]);
    const described = describeManifest(rewritten, "s3://lake/t/metadata/r.avro", bytes.byteLength, 13, 3);
    expect(described).toMatchObject({ addedFiles: 0, existingFiles: 1, deletedFiles: 1, existingRows: 12, deletedRows: 11, minSequenceNumber: 1, sequenceNumber: 3 });
    expect(readManifest(bytes, described).map((e) => [e.path, e.dataSequenceNumber])).toEqual([[file(2).path, 1]]);
  });

  it(`merge a kind's manifests once it has more than ${manifestsMergeMinCount}, keeping every live file and its numbers`, () => {
    const parent = Array.from({ length: manifestsMergeMinCount }, (_, i) => committed([file(i)], 100 + i, i + 1));
    const plan = planManifests(parent, [file(99)], new Set(), 500);
    expect(plan.kept).toEqual([]);
    expect(plan.written).toHaveLength(1);
    const [merged] = plan.written;
    expect(merged!.entries.map((e) => e.status).sort()).toEqual([...new Array(manifestsMergeMinCount).fill(entryStatus.existing), entryStatus.added]);
    const bytes = writeManifest({ schema, specId: 0, partitionFields, content: "data", entries: merged!.entries });
    const entries = readManifest(bytes, describeManifest(merged!, "s3://lake/t/metadata/merged.avro", bytes.byteLength, 500, 40));
    const sequenceOf = new Map(entries.map((e) => [e.path, e.dataSequenceNumber]));
    for (let i = 0; i < manifestsMergeMinCount; i++) expect(sequenceOf.get(file(i).path)).toBe(i + 1);
    expect(sequenceOf.get(file(99).path)).toBe(40);
  });
});
