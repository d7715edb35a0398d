/**
 * Manifests and manifest lists read back by avsc: the header keys Iceberg
 * requires, the field ids, and entries that inherit their snapshot and
 * sequence numbers. And by Floe's own reader, which must resolve the
 * inherited sequence numbers the way the spec does.
 */
import { readAvro } from "./avro-reader.ts";
import { describe, expect, it } from "vitest";
import { addedEntry, writeManifest, writeManifestList, type DataFile, type ManifestFile, type PartitionField } from "../../src/iceberg/manifest.ts";
import { readManifest, readManifestList } from "../../src/iceberg/manifest-read.ts";
import type { IcebergSchema } from "../../src/iceberg/schema.ts";

const schema: IcebergSchema = {
  type: "struct",
  "schema-id": 0,
  fields: [{ id: 1, name: "user", required: true, type: "string" }],
  "identifier-field-ids": [1],
};
const partitionFields: PartitionField[] = [{ sourceId: 1, fieldId: 1000, name: "user_bucket", transform: "bucket[4]", resultType: "int" }];

const deleteFile: DataFile = {
  content: 2,
  path: "s3://lake/t/data/user_bucket=3/a.parquet",
  recordCount: 2,
  fileSizeInBytes: 1234,
  partition: { user_bucket: 3 },
  metrics: new Map([[1, { valueCount: 2, nullCount: 0, lowerBound: new Uint8Array([0x61]), upperBound: new Uint8Array([0x62]), columnSize: 40 }]]),
  equalityIds: [1],
  splitOffsets: [4, 81_920],
  sortOrderId: 1,
};
const manifest: ManifestFile = {
  path: "s3://lake/t/metadata/m0.avro", length: 4321, specId: 0, content: 1, sequenceNumber: 3, minSequenceNumber: 3,
  addedSnapshotId: 8_368_180_061_799_521, addedFiles: 1, existingFiles: 0, deletedFiles: 0, addedRows: 2, existingRows: 0, deletedRows: 0,
  partitions: [{ containsNull: false, lowerBound: new Uint8Array([3, 0, 0, 0]), upperBound: new Uint8Array([3, 0, 0, 0]) }],
};

describe("manifests", () => {
  it("carry the spec's header keys, field ids and inherited numbers", async () => {
    const file = writeManifest({ schema, specId: 0, partitionFields, content: "deletes", entries: [addedEntry(deleteFile)] });
    const { metadata, schema: avroSchema, records } = await readAvro(file);
    expect(metadata).toMatchObject({ "format-version": "2", content: "deletes", "partition-spec-id": "0", "schema-id": "0" });
    expect(JSON.parse(metadata.schema!)).toEqual(schema);
    expect(JSON.parse(metadata["partition-spec"]!)).toEqual([{ name: "user_bucket", transform: "bucket[4]", "source-id": 1, "field-id": 1000 }]);
    const dataFile = avroSchema.fields.find((f: { name: string }) => f.name === "data_file");
    expect(dataFile["field-id"]).toBe(2);
    expect(dataFile.type.fields.map((f: { "field-id": number }) => f["field-id"])).toEqual([134, 100, 101, 102, 103, 104, 108, 109, 110, 137, 125, 128, 131, 132, 135, 140]);
    expect(records).toHaveLength(1);
    const [entry] = records;
    expect(entry).toMatchObject({ status: 1, snapshot_id: null, sequence_number: null, file_sequence_number: null });
    expect(entry.data_file).toMatchObject({
      content: 2,
      file_path: "s3://lake/t/data/user_bucket=3/a.parquet",
      file_format: "PARQUET",
      partition: { user_bucket: 3 },
      record_count: 2,
      file_size_in_bytes: 1234,
      column_sizes: [{ key: 1, value: 40 }],
      value_counts: [{ key: 1, value: 2 }],
      null_value_counts: [{ key: 1, value: 0 }],
      nan_value_counts: [],
      equality_ids: [1],
      split_offsets: [4, 81_920],
      sort_order_id: 1,
    });
    expect([...entry.data_file.lower_bounds[0].value]).toEqual([0x61]);
  });

  it("give position delete files no sort order, as the spec requires", async () => {
    const positionDeletes: DataFile = { ...deleteFile, content: 1, equalityIds: undefined, sortOrderId: undefined };
    const { records } = await readAvro(writeManifest({ schema, specId: 0, partitionFields, content: "deletes", entries: [addedEntry(positionDeletes)] }));
    expect(records[0].data_file.sort_order_id).toBeNull();
    expect(() => writeManifest({ schema, specId: 0, partitionFields, content: "deletes", entries: [addedEntry({ ...positionDeletes, sortOrderId: 1 })] }))
      .toThrow(/position delete file .* has sort order 1; it must have none/);
  });

  it("list their manifests under the snapshot's header", async () => {
    const file = writeManifestList({ snapshotId: 8_368_180_061_799_521, parentSnapshotId: null, sequenceNumber: 3, manifests: [manifest] });
    const { metadata, records } = await readAvro(file);
    expect(metadata).toMatchObject({ "snapshot-id": "8368180061799521", "parent-snapshot-id": "null", "sequence-number": "3", "format-version": "2" });
    expect(records[0]).toMatchObject({
      manifest_path: "s3://lake/t/metadata/m0.avro", manifest_length: 4321, content: 1, sequence_number: 3,
      added_snapshot_id: 8_368_180_061_799_521, added_files_count: 1, added_rows_count: 2,
    });
    expect(records[0].partitions[0].contains_null).toBe(false);
    expect([...records[0].partitions[0].lower_bound]).toEqual([3, 0, 0, 0]);
  });

  it("read back by Floe's reader, entries inheriting the sequence number of the manifest that added them", () => {
    const list = writeManifestList({ snapshotId: 1, parentSnapshotId: null, sequenceNumber: 3, manifests: [manifest] });
    const [read] = readManifestList(list);
    expect({ ...read, partitions: [] }).toEqual({ ...manifest, partitions: [] });
    expect([...read!.partitions[0]!.lowerBound!]).toEqual([3, 0, 0, 0]);
    const [entry] = readManifest(writeManifest({ schema, specId: 0, partitionFields, content: "deletes", entries: [addedEntry(deleteFile)] }), manifest);
    expect(entry).toMatchObject({ content: 2, path: deleteFile.path, recordCount: 2, fileSizeInBytes: 1234, partition: { user_bucket: 3 }, dataSequenceNumber: 3, equalityIds: [1] });
    expect(entry!.valueCounts).toEqual(new Map([[1, 2]]));
    expect([...entry!.upperBounds.get(1)!]).toEqual([0x62]);
  });
});
