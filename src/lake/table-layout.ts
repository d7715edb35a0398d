/**
 * Where a table lives in the lake: its R2 prefix, its partition spec and
 * the names of the files a round writes. A table's lake partition is one
 * Tablet: `identity` of each partition key (a partitioned table's), in key
 * order, then the bucket field: `bucket[N]` of a one-column bucket key
 * (Floe's own bucket function), else `identity(__bucket)`.
 *
 * Invariants: a Tablet's files carry its partition values and bucket as
 * their partition tuple and in their path (`<key>=<value>/…`, Hive's
 * convention, which Iceberg's writers follow), so a lake partition is
 * exactly one Tablet's rows; a partitioned table's file names also carry
 * the partition's id (`<seq>-p<id>-<uuid>`), which tells the files of a
 * partition dropped and created again apart; an unpartitioned table's
 * spec, tuples and paths are what they were before partitions existed.
 */
import type { TableEntry } from "../catalog/catalog.ts";
import type { TableDefinition } from "../table/schema.ts";
import type { DataFile, PartitionField } from "../iceberg/manifest.ts";
import type { ManifestEntry } from "../iceberg/manifest-read.ts";
import { firstPartitionFieldId } from "../iceberg/metadata.ts";
import { systemColumns } from "../iceberg/schema.ts";
import { lakeLayout } from "../vocabulary.ts";

/** A table, or one partition of a partitioned table: whose Tablets' rows a lake writer turns into files. */
export type LakeOwner = TableEntry & { partition?: { partitionId: number; values: readonly string[] } };

export function tableKeyOf(table: Pick<TableEntry, "database" | "name" | "tableId">): string {
  return lakeLayout.tableKey(table.database, table.name, table.tableId);
}

/** The table's partition spec: identity fields of the partition keys, then the bucket field. */
export function partitionSpec(definition: TableDefinition): PartitionField[] {
  const identity = definition.partitionKeys.map((name, i): PartitionField => {
    const column = definition.columns.find((c) => c.name === name)!;
    return { sourceId: column.id, fieldId: firstPartitionFieldId + i, name, transform: "identity", resultType: "string" };
  });
  const fieldId = firstPartitionFieldId + identity.length;
  const [key, ...more] = definition.bucket.key;
  if (key !== undefined && more.length === 0) {
    const column = definition.columns.find((c) => c.name === key)!;
    return [...identity, { sourceId: column.id, fieldId, name: bucketFieldName(definition, key), transform: `bucket[${definition.bucket.num}]`, resultType: "int" }];
  }
  const bucketColumn = systemColumns.find((c) => c.name === "__bucket")!;
  return [...identity, { sourceId: bucketColumn.id, fieldId, name: "__bucket", transform: "identity", resultType: "int" }];
}

/**
 * `<key>_bucket`, as Iceberg's writers name a bucket field, unless a column
 * (a partition key among them) has that name: Iceberg refuses a spec whose
 * fields share a name, or a non-identity field named like a column, and a
 * partition tuple keyed by name would lose one of the two values. Then
 * underscores are added until the name is free.
 */
function bucketFieldName(definition: TableDefinition, key: string): string {
  let name = `${key}_bucket`;
  while (definition.columns.some((c) => c.name === name)) name += "_";
  return name;
}

/** The partition tuple of the files of `bucket` of `owner`, in spec order. */
export function partitionTuple(owner: LakeOwner, bucket: number): DataFile["partition"] {
  const fields = partitionSpec(owner.definition);
  const values = owner.partition?.values ?? [];
  return Object.fromEntries(fields.map((field, i) => [field.name, i < values.length ? values[i]! : bucket]));
}

/** The partition values (one per partition key, in key order) of a file of a partitioned table; none otherwise. */
export function partitionValuesOf(definition: TableDefinition, entry: Pick<ManifestEntry, "partition">): string[] {
  return definition.partitionKeys.map((key) => String(entry.partition[key]));
}

/** The partition id a partitioned table's file name carries; undefined for an unpartitioned table's. */
export function partitionIdOf(path: string): number | undefined {
  const id = /\/\d+-p(\d+)-[^/]*$/.exec(path)?.[1];
  return id === undefined ? undefined : Number(id);
}

/** The kinds of file a round writes into a bucket's partition, by their name's suffix. */
export const fileKinds = { data: "", positionDeletes: "-deletes", equalityDeletes: "-eq-deletes" } as const;

/** The R2 key of a new file of `bucket` of `owner`, for a round of sequence number `sequenceNumber`. */
export function bucketFileKey(owner: LakeOwner, bucket: number, sequenceNumber: number, kind: keyof typeof fileKinds): string {
  const folder = Object.entries(partitionTuple(owner, bucket)).map(([name, value]) => `${name}=${value}`).join("/");
  const incarnation = owner.partition ? `p${owner.partition.partitionId}-` : "";
  return lakeLayout.dataKey(tableKeyOf(owner), folder, `${sequenceNumber}-${incarnation}${crypto.randomUUID()}${fileKinds[kind]}`);
}
