/**
 * What a write request does to a table: which columns its rows carry and,
 * for a primary-key table, the operation (upsert, partial update, delete)
 * with the table's merge rules. Every rule that can refuse the request is
 * checked here, before a row is decoded.
 *
 * Partial updates follow Fluss: the rows carry the key and the named
 * columns; every other column must be nullable, so a key that does not exist
 * yet is inserted with nulls there. The first_row and versioned engines take
 * neither partial updates nor deletes (deletes are ignored, as in Fluss).
 */
import { FloeError } from "../errors.ts";
import type { Column, TableDefinition } from "../table/schema.ts";
import { isPrimaryKeyTable } from "../table/schema.ts";
import { formatType } from "../table/types.ts";
import { columnSpec } from "../table/schema.ts";
import type { PrimaryKeySpec, PrimaryKeyWrite } from "../tablet/contract.ts";

export interface WritePlan {
  /** The columns the request's rows carry, in table order. */
  columns: Column[];
  primaryKey?: PrimaryKeyWrite;
}

export function planWrite(definition: TableDefinition, op: string | undefined, partialColumns: string[] | undefined): WritePlan {
  if (!isPrimaryKeyTable(definition)) {
    if (op !== undefined || partialColumns !== undefined) {
      throw FloeError.badRequest("?op= and ?columns= apply to primary-key tables only; this is a log table");
    }
    return { columns: definition.columns };
  }
  const spec = primaryKeySpec(definition);
  const keys = new Set(definition.primaryKey);
  if (op === "delete") {
    if (partialColumns !== undefined) throw FloeError.badRequest("?columns= does not apply to ?op=delete");
    return { columns: definition.columns.filter((c) => keys.has(c.name)), primaryKey: { ...spec, op: "delete" } };
  }
  if (op !== undefined && op !== "upsert") throw FloeError.badRequest(`?op= must be upsert or delete, got '${op}'`);
  if (partialColumns === undefined) return { columns: definition.columns, primaryKey: { ...spec, op: "upsert" } };
  if (spec.mergeEngine !== "last_row") {
    throw FloeError.badRequest(`partial updates are not supported by the ${spec.mergeEngine} merge engine`);
  }
  const byName = new Map(definition.columns.map((c) => [c.name, c]));
  if (new Set(partialColumns).size !== partialColumns.length) throw FloeError.badRequest("?columns= names a column twice");
  for (const name of partialColumns) {
    if (!byName.has(name)) throw FloeError.badRequest(`?columns= names unknown column '${name}'`);
    if (keys.has(name)) throw FloeError.badRequest(`?columns= names key column '${name}'; key columns are always written`);
  }
  const written = new Set([...keys, ...partialColumns]);
  const untouchedNotNull = definition.columns.find((c) => !written.has(c.name) && !c.nullable);
  if (untouchedNotNull) {
    throw FloeError.badRequest(
      `a partial update must write every NOT NULL column: '${untouchedNotNull.name}' (${formatType(untouchedNotNull.type)} NOT NULL) is missing from ?columns=`,
    );
  }
  return { columns: definition.columns.filter((c) => written.has(c.name)), primaryKey: { ...spec, op: "upsert" } };
}

/** The Tablet's view of a primary-key table: its columns, key order and merge rules. */
export function primaryKeySpec(definition: TableDefinition): PrimaryKeySpec {
  const bucketKey = definition.bucket.key;
  const engine = definition.properties["table.merge-engine"]?.toLowerCase();
  const spec: PrimaryKeySpec = {
    columns: definition.columns.map(columnSpec),
    keyOrder: [...bucketKey, ...definition.primaryKey.filter((name) => !bucketKey.includes(name))],
    mergeEngine: engine === "first_row" || engine === "versioned" ? engine : "last_row",
    changelogImage: definition.properties["table.changelog.image"]?.toLowerCase() === "wal" ? "wal" : "full",
  };
  const versionColumn = definition.properties["table.merge-engine.versioned.ver-column"];
  if (versionColumn !== undefined) spec.versionColumn = versionColumn;
  return spec;
}
