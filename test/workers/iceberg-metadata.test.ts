import { describe, expect, it } from "vitest";
import { newSnapshotId, newTableMetadata, withSnapshot } from "../../src/iceberg/metadata.ts";
import { icebergSchema, systemColumns } from "../../src/iceberg/schema.ts";
import { parseTableDefinition } from "../../src/table/schema.ts";

const definition = parseTableDefinition({
  columns: [{ name: "user", type: "STRING" }, { name: "n", type: "INT" }],
  primaryKey: ["user"],
  bucket: { num: 4 },
});
const schema = icebergSchema(definition);
const offsetId = systemColumns.find((c) => c.name === "__offset")!.id;

describe("table metadata", () => {
  const created = newTableMetadata({
    tableUuid: "7b1f0c9e-0000-4000-8000-000000000001",
    location: "s3://lake/shop/users/",
    schema,
    partitionFields: [{ sourceId: 1, fieldId: 1000, name: "user_bucket", transform: "bucket[4]", resultType: "int" }],
    sortFieldId: offsetId,
    nowMs: 1_000,
  });

  it("starts with every field format v2 requires", () => {
    for (const key of ["format-version", "table-uuid", "location", "last-sequence-number", "last-updated-ms", "last-column-id",
      "schemas", "current-schema-id", "partition-specs", "default-spec-id", "last-partition-id", "sort-orders", "default-sort-order-id"]) {
      expect(created, key).toHaveProperty(key);
    }
    expect(created.location).toBe("s3://lake/shop/users");
    expect(created["last-column-id"]).toBe(Math.max(...schema.fields.map((f) => f.id)));
    expect(created["last-partition-id"]).toBe(1000);
    expect(created["sort-orders"][1]!.fields[0]!["source-id"]).toBe(offsetId);
    expect(created["current-snapshot-id"]).toBeUndefined();
    expect(JSON.parse(created.properties["schema.name-mapping.default"]!)[0]).toEqual({ "field-id": 1, names: ["user"] });
    expect(schema["identifier-field-ids"]).toEqual([1]);
  });

  it("adds snapshots with growing sequence numbers, parents, refs and logs", () => {
    const first = withSnapshot(created, "s3://lake/shop/users/metadata/00000.metadata.json", {
      "snapshot-id": 11, "manifest-list": "s3://lake/m1.avro", summary: { operation: "append" },
    }, 500);
    const second = withSnapshot(first, "s3://lake/shop/users/metadata/00001.metadata.json", {
      "snapshot-id": 22, "manifest-list": "s3://lake/m2.avro", summary: { operation: "overwrite" },
    }, 2_000);
    expect(second["last-sequence-number"]).toBe(2);
    expect(second.snapshots.map((s) => [s["snapshot-id"], s["sequence-number"], s["parent-snapshot-id"]])).toEqual([[11, 1, undefined], [22, 2, 11]]);
    expect(second["current-snapshot-id"]).toBe(22);
    expect(second.refs.main).toEqual({ "snapshot-id": 22, type: "branch" });
    // A clock that went backwards still gives increasing timestamps.
    expect(first["last-updated-ms"]).toBe(1_001);
    expect(second["snapshot-log"].map((l) => l["timestamp-ms"])).toEqual([1_001, 2_000]);
    expect(second["metadata-log"].map((l) => l["metadata-file"])).toEqual([
      "s3://lake/shop/users/metadata/00000.metadata.json",
      "s3://lake/shop/users/metadata/00001.metadata.json",
    ]);
    expect(created.snapshots).toEqual([]);
  });

  it("draws snapshot ids that JSON keeps exact", () => {
    for (let i = 0; i < 1000; i++) {
      const id = newSnapshotId();
      expect(Number.isSafeInteger(id) && id > 0).toBe(true);
      expect(JSON.parse(JSON.stringify(id))).toBe(id);
    }
  });
});
