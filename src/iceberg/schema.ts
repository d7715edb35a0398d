/**
 * A table's Iceberg schema (format v2, JSON as the spec writes it): the
 * table's columns under their stable ids, then Floe's system columns that
 * keep every row's stream position.
 *
 * Invariants: a user column's field id is its Floe column id, forever; the
 * system columns have fixed ids far above any user column id and below
 * Iceberg's reserved range; primary-key columns are the identifier fields.
 */
import type { Column, TableDefinition } from "../table/schema.ts";
import { icebergType } from "../table/types.ts";

/** The system columns of every lake table: the row's bucket, offset and commit time. */
export const systemColumns: readonly Column[] = [
  { id: 1_000_000_001, name: "__bucket", type: { kind: "INT" }, nullable: false },
  { id: 1_000_000_002, name: "__offset", type: { kind: "BIGINT" }, nullable: false },
  { id: 1_000_000_003, name: "__timestamp", type: { kind: "TIMESTAMP_LTZ", precision: 6 }, nullable: false },
];

/**
 * The columns of a position-delete file, with the ids the spec reserves for
 * them: the data file a deleted row is in and its position there.
 */
export const positionDeleteColumns: readonly Column[] = [
  { id: 2147483546, name: "file_path", type: { kind: "STRING" }, nullable: false },
  { id: 2147483545, name: "pos", type: { kind: "BIGINT" }, nullable: false },
];

export interface IcebergField {
  id: number;
  name: string;
  required: boolean;
  type: string;
}

export interface IcebergSchema {
  type: "struct";
  "schema-id": number;
  fields: IcebergField[];
  "identifier-field-ids"?: number[];
}

/** Every column a lake data file holds: the table's, then the system columns. */
export function lakeColumns(definition: TableDefinition): Column[] {
  return [...definition.columns, ...systemColumns];
}

export function icebergSchema(definition: TableDefinition, schemaId = 0): IcebergSchema {
  const schema: IcebergSchema = {
    type: "struct",
    "schema-id": schemaId,
    fields: lakeColumns(definition).map((c) => ({ id: c.id, name: c.name, required: !c.nullable, type: icebergType(c.type) })),
  };
  if (definition.primaryKey.length > 0) {
    schema["identifier-field-ids"] = definition.primaryKey.map((name) => definition.columns.find((c) => c.name === name)!.id);
  }
  return schema;
}

/** The schema of a position-delete file. */
export function positionDeleteSchema(): IcebergSchema {
  return {
    type: "struct",
    "schema-id": 0,
    fields: positionDeleteColumns.map((c) => ({ id: c.id, name: c.name, required: true, type: icebergType(c.type) })),
  };
}

/** The largest field id a schema uses (the metadata's `last-column-id`). */
export function lastColumnId(schema: IcebergSchema): number {
  return Math.max(...schema.fields.map((f) => f.id));
}

