/**
 * DuckDB over a table's live Parquet files, reading columns by Iceberg field
 * id (`read_parquet`'s `schema` map), never by name: a file whose field ids
 * were wrong would read as nulls or as another column's values. Results come
 * back in the canonical form (`lake-values.ts`), converted in SQL so no
 * value passes through a JS number on the way.
 */
import { DuckDBInstance, type DuckDBConnection } from "@duckdb/node-api";
import { icebergKind, type LakeRow } from "./lake-values.ts";
import type { IcebergField, LiveFile } from "./snapshot-files.ts";

/** An in-memory database and its one connection. */
export async function openDuckDb(): Promise<{ connection: DuckDBConnection; close(): void }> {
  const instance = await DuckDBInstance.create(":memory:");
  const connection = await instance.connect();
  return {
    connection,
    close() {
      connection.closeSync();
      instance.closeSync();
    },
  };
}

export async function queryRows(connection: DuckDBConnection, sql: string): Promise<LakeRow[]> {
  const reader = await connection.runAndReadAll(sql);
  return reader.getRowObjectsJS().map((row) =>
    Object.fromEntries(Object.entries(row).map(([name, value]) => [name, canonicalScalar(value)])),
  );
}

/** What SQL cannot give in canonical form itself: non-finite doubles by name, counts (BIGINT) as numbers. */
function canonicalScalar(value: unknown): LakeRow[string] {
  if (typeof value === "number" && !Number.isFinite(value)) return String(value);
  if (typeof value === "bigint") return Number(value);
  return value as LakeRow[string];
}

export const quoted = (name: string) => `"${name.replaceAll('"', '""')}"`;
export const literal = (text: string) => `'${text.replaceAll("'", "''")}'`;

/**
 * `read_parquet` of the given files, columns named and typed by the Iceberg
 * fields they hold, plus `filename` (and `file_row_number`, a row's position
 * in its file, when asked).
 */
export function readParquet(files: readonly LiveFile[], fields: readonly IcebergField[], options: { rowNumbers?: boolean } = {}): string {
  const paths = files.map((f) => literal(f.localPath)).join(", ");
  const schema = fields.map((f) => `${f.id}: {name: ${literal(f.name)}, type: ${literal(duckDbType(f.type))}, default_value: NULL}`);
  return `read_parquet([${paths}], schema = MAP {${schema.join(", ")}}, filename = true${options.rowNumbers ? ", file_row_number = true" : ""})`;
}

function duckDbType(type: string): string {
  const kind = icebergKind(type);
  const types = { int: "INTEGER", long: "BIGINT", double: "DOUBLE", boolean: "BOOLEAN", string: "VARCHAR", date: "DATE", timestamp: "TIMESTAMP", timestamptz: "TIMESTAMPTZ" };
  return kind === "decimal" ? type.replace("decimal", "DECIMAL").replace(" ", "") : types[kind];
}

/** A select list giving each field in canonical form, read from the relation `from`. */
export function canonicalColumns(fields: readonly IcebergField[], from: string): string {
  return fields
    .map(({ name, type }) => {
      const column = `${from}.${quoted(name)}`;
      switch (icebergKind(type)) {
        case "long":
        case "decimal":
        case "date": return `CAST(${column} AS VARCHAR) AS ${quoted(name)}`;
        case "timestamp":
        case "timestamptz": return `CAST(epoch_us(${column}) AS VARCHAR) AS ${quoted(name)}`;
        default: return `${column} AS ${quoted(name)}`;
      }
    })
    .join(", ");
}

/** The live files as a table `lake_files(path, uri, content, sequence_number, partition)` to join rows to their file. */
export async function registerFiles(connection: DuckDBConnection, files: readonly LiveFile[]): Promise<void> {
  await connection.run("CREATE OR REPLACE TEMP TABLE lake_files (path VARCHAR, uri VARCHAR, content INTEGER, sequence_number BIGINT, partition VARCHAR)");
  const values = files.map((f) => `(${literal(f.localPath)}, ${literal(f.uri)}, ${f.content}, ${f.sequenceNumber}, ${literal(JSON.stringify(f.partition))})`);
  await connection.run(`INSERT INTO lake_files VALUES ${values.join(", ")}`);
}
