/**
 * Where a table lives in the lake: its R2 prefix, its partition spec (one
 * lake partition per bucket) and the names of the files a round writes.
 *
 * Invariant: a bucket's files carry its bucket number as their partition
 * value, under either spec, so a lake partition is exactly one bucket.
 */
import type { TableEntry } from "../catalog/catalog.ts";
import type { TableDefinition } from "../table/schema.ts";
import type { PartitionField } from "../iceberg/manifest.ts";
import { firstPartitionFieldId } from "../iceberg/metadata.ts";
import { systemColumns } from "../iceberg/schema.ts";
import { lakeLayout } from "../vocabulary.ts";

export function tableKeyOf(table: Pick<TableEntry, "database" | "name" | "tableId">): string {
  return lakeLayout.tableKey(table.database, table.name, table.tableId);
}

/** The lake partition of a bucket: `bucket[N]` of a one-column bucket key (Floe's own bucket function), else the bucket itself. */
export function partitionSpec(definition: TableDefinition): PartitionField[] {
  const [key, ...more] = definition.bucket.key;
  if (key !== undefined && more.length === 0) {
    const column = definition.columns.find((c) => c.name === key)!;
    return [{ sourceId: column.id, fieldId: firstPartitionFieldId, name: `${key}_bucket`, transform: `bucket[${definition.bucket.num}]`, resultType: "int" }];
  }
  const bucketColumn = systemColumns.find((c) => c.name === "__bucket")!;
  return [{ sourceId: bucketColumn.id, fieldId: firstPartitionFieldId, name: "__bucket", transform: "identity", resultType: "int" }];
}

/** The kinds of file a round writes into a bucket's partition, by their name's suffix. */
export const fileKinds = { data: "", positionDeletes: "-deletes", equalityDeletes: "-eq-deletes" } as const;

/** The R2 key of a new file of `bucket`, for a round of sequence number `sequenceNumber`. */
export function bucketFileKey(table: TableEntry, bucket: number, sequenceNumber: number, kind: keyof typeof fileKinds): string {
  const partition = partitionSpec(table.definition)[0]!.name;
  return lakeLayout.dataKey(tableKeyOf(table), `${partition}=${bucket}`, `${sequenceNumber}-${crypto.randomUUID()}${fileKinds[kind]}`);
}
