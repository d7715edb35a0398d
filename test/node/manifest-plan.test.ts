/**
 * Planning a snapshot's manifests: kept as they are, rewritten when a file
 * leaves (DELETED for it, EXISTING with explicit numbers for the rest), and
 * merged once a kind has more than the threshold; the entries written read
 * back by avsc with the numbers the spec wants, and by Floe's reader as
 * exactly the live files; a partitioned table's merged entries in tuple
 * order, summarised per partition field in the manifest list.
 */
import { describe, expect, it } from "vitest";
import { readAvro } from "./avro-reader.ts";
import { entryStatus, writeManifest, writeManifestList, type DataFile, type ManifestFile, type PartitionField } from "../../src/iceberg/manifest.ts";
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

  it("sort a partitioned table's merged entries by partition tuple, and summarise each field: strings as UTF-8, ints as 4 bytes LE", async () => {
    const fields: PartitionField[] = [
      { sourceId: 2, fieldId: 1000, name: "dt", transform: "identity", resultType: "string" },
      ...partitionFields.map((f) => ({ ...f, fieldId: 1001 })),
    ];
    const dayFile = (n: number, dt: string, bucket: number): DataFile => ({
      ...file(n, bucket), path: `s3://lake/t/data/dt=${dt}/id_bucket=${bucket}/${n}-p7-x.parquet`, partition: { dt, id_bucket: bucket },
    });
    const days = ["20261130", "20261128", "20261129"];
    const parent = Array.from({ length: manifestsMergeMinCount }, (_, i) => {
      const written = planManifests([], [dayFile(i, days[i % 3]!, 3 - (i % 4))], new Set(), 100 + i).written[0]!;
      const bytes = writeManifest({ schema, specId: 0, partitionFields: fields, content: "data", entries: written.entries });
      const manifest = describeManifest(written, `s3://lake/t/metadata/p${i}.avro`, bytes.byteLength, 100 + i, i + 1);
      return { manifest, entries: readManifest(bytes, manifest) };
    });
    const [merged] = planManifests(parent, [dayFile(99, "20261127", 2)], new Set(), 500).written;
    const tuples = merged!.entries.map((e) => e.data_file.partition as { dt: string; id_bucket: number });
    expect(tuples).toEqual([...tuples].sort((a, b) => (a.dt < b.dt ? -1 : a.dt > b.dt ? 1 : a.id_bucket - b.id_bucket)));
    const described = describeManifest(merged!, "s3://lake/t/metadata/m.avro", 1, 500, 40);
    const text = new TextDecoder();
    const int = (bytes: Uint8Array | undefined) => new DataView(bytes!.buffer, bytes!.byteOffset).getInt32(0, true);
    expect(described.partitions.map((p) => p.containsNull)).toEqual([false, false]);
    expect([text.decode(described.partitions[0]!.lowerBound), text.decode(described.partitions[0]!.upperBound)]).toEqual(["20261127", "20261130"]);
    expect([int(described.partitions[1]!.lowerBound), int(described.partitions[1]!.upperBound)]).toEqual([0, 3]);
    // The summaries survive the manifest list's Avro, as any reader decodes it.
    const { records } = await readAvro(writeManifestList({ snapshotId: 500, parentSnapshotId: null, sequenceNumber: 40, manifests: [described] }));
    expect(text.decode(records[0].partitions[0].lower_bound)).toBe("20261127");
    expect(int(records[0].partitions[1].upper_bound)).toBe(3);
  });
});
