/**
 * Lake data files: Arrow columns written as Parquet the way Iceberg readers
 * expect them. Every column carries its Iceberg field id, the file's
 * key/value metadata holds the `iceberg.schema`, temporal values are INT64
 * microseconds, decimals use the smallest physical type their precision
 * allows, pages are snappy-compressed and carry column statistics, and row
 * groups stay small enough for a Worker to decode one at a time.
 */
import type * as arrow from "apache-arrow";
import { ByteWriter, parquetWrite } from "hyparquet-writer";
import type { Column } from "../table/schema.ts";
import type { FloeType } from "../table/types.ts";
import { readScalar } from "../table/columns.ts";
import type { Scalar } from "../table/values.ts";
import type { IcebergSchema } from "../iceberg/schema.ts";

export interface DataFileColumn extends Column {
  data: arrow.Data;
}

type SchemaElement = NonNullable<Parameters<typeof parquetWrite>[0]["schema"]>[number];

/**
 * Rows per row group. Small by Parquet's standards on purpose: a reader in a
 * Worker (128 MB) decodes a whole row group at once, and smaller groups let
 * statistics skip more of a file.
 */
export const rowGroupRowsMax = 10_000;

/** One Parquet file holding `rowCount` rows of the given columns. */
export function writeDataFile(
  columns: readonly DataFileColumn[],
  rowCount: number,
  schema: IcebergSchema,
  metadata: Record<string, string> = {},
): Uint8Array {
  const writer = new ByteWriter();
  parquetWrite({
    writer,
    schema: [{ name: "table", num_children: columns.length }, ...columns.map(schemaElement)],
    columnData: columns.map((column) => ({ name: column.name, data: values(column, rowCount), nullable: column.nullable })),
    kvMetadata: [{ key: "iceberg.schema", value: JSON.stringify(schema) }, ...Object.entries(metadata).map(([key, value]) => ({ key, value }))],
    createdBy: "floe",
    rowGroupSize: rowGroupRowsMax,
  });
  return new Uint8Array(writer.getBuffer());
}

function values(column: DataFileColumn, rowCount: number): (Scalar | null)[] {
  const out = new Array<Scalar | null>(rowCount);
  for (let row = 0; row < rowCount; row++) out[row] = readScalar(column.type, column.data, row);
  return out;
}

/** The Parquet schema element of a column, per Iceberg's Parquet type mapping. */
function schemaElement(column: Column): SchemaElement {
  const base = { name: column.name, field_id: column.id, repetition_type: column.nullable ? "OPTIONAL" : "REQUIRED" } as const;
  return { ...base, ...physical(column.type) } as SchemaElement;
}

function physical(type: FloeType): Partial<SchemaElement> {
  switch (type.kind) {
    case "BOOLEAN": return { type: "BOOLEAN" };
    case "TINYINT":
    case "SMALLINT":
    case "INT": return { type: "INT32" };
    case "BIGINT": return { type: "INT64" };
    case "FLOAT": return { type: "FLOAT" };
    case "DOUBLE": return { type: "DOUBLE" };
    case "DECIMAL": {
      const decimal = { converted_type: "DECIMAL", precision: type.precision, scale: type.scale } as const;
      if (type.precision <= 9) return { type: "INT32", ...decimal };
      if (type.precision <= 18) return { type: "INT64", ...decimal };
      return { type: "FIXED_LEN_BYTE_ARRAY", type_length: decimalBytes(type.precision), ...decimal };
    }
    case "STRING": return { type: "BYTE_ARRAY", converted_type: "UTF8" };
    case "BYTES": return { type: "BYTE_ARRAY" };
    case "DATE": return { type: "INT32", converted_type: "DATE" };
    case "TIME": return { type: "INT64", converted_type: "TIME_MICROS" };
    case "TIMESTAMP":
    case "TIMESTAMP_LTZ":
      return { type: "INT64", logical_type: { type: "TIMESTAMP", isAdjustedToUTC: type.kind === "TIMESTAMP_LTZ", unit: "MICROS" } };
  }
}

/** The fewest bytes whose two's complement holds every unscaled value of `precision` digits. */
export function decimalBytes(precision: number): number {
  let bytes = 1;
  while (2n ** BigInt(8 * bytes - 1) <= 10n ** BigInt(precision)) bytes++;
  return bytes;
}
