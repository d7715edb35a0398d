/**
 * A table's definition: columns with stable ids, primary key, bucket layout
 * and properties; parsed from the create request and validated as a whole.
 *
 * Invariants: column ids are assigned once (1..n in declaration order) and are
 * the Iceberg field ids forever; primary-key, bucket-key and partition-key
 * columns are NOT NULL; bucket-key columns have types Iceberg's bucket
 * transform accepts, and for a primary-key table they are part of the
 * primary key; partition keys are STRING columns, never in the bucket key,
 * and for a primary-key table part of the primary key with at least one
 * key column besides them (so a bucket key is left), as in Fluss.
 */
import { FloeError } from "../errors.ts";
import type { FloeType } from "./types.ts";
import { formatType, isBucketable, parseType } from "./types.ts";
import type { Properties } from "./properties.ts";
import { parseDurationMs, parseProperties, propertyDefaults } from "./properties.ts";
import { checkAutoPartitioning } from "./auto-partitioning.ts";

export interface Column {
  id: number;
  name: string;
  type: FloeType;
  nullable: boolean;
}

/** A column as requests and Durable Object calls carry it: its type spelled out, so it crosses any boundary as plain data. */
export interface ColumnSpec {
  id: number;
  name: string;
  type: string;
  nullable: boolean;
}

export function columnSpec(column: Column): ColumnSpec {
  return { id: column.id, name: column.name, type: formatType(column.type), nullable: column.nullable };
}

export function columnFromSpec(spec: ColumnSpec): Column {
  return { id: spec.id, name: spec.name, type: parseType(spec.type), nullable: spec.nullable };
}

export interface TableDefinition {
  columns: Column[];
  primaryKey: string[];
  partitionKeys: string[];
  bucket: { num: number; key: string[] };
  properties: Properties;
}

/** The JSON form of a definition, as clients send and see it. */
export interface TableDefinitionJson {
  columns: (Omit<ColumnSpec, "id"> & { id?: number })[];
  primaryKey: string[];
  partitionKeys: string[];
  bucket: { num: number; key: string[] };
  properties: Record<string, string>;
}

export const limits = {
  nameLengthMax: 128,
  columnCountMax: 256,
  bucketCountMax: 1024,
} as const;

/** Output rows carry these; the lake adds `__`-prefixed system columns. */
const reservedColumnNames = new Set(["_offset", "_timestamp", "_change", "_bucket"]);
const namePattern = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** Checks a database, table or column name. */
export function assertName(what: string, name: unknown): asserts name is string {
  if (typeof name !== "string" || !namePattern.test(name)) {
    throw FloeError.badRequest(`${what} name must match [A-Za-z_][A-Za-z0-9_]*, got ${JSON.stringify(name)}`);
  }
  if (name.length > limits.nameLengthMax) {
    throw FloeError.badRequest(`${what} name is longer than ${limits.nameLengthMax} characters`);
  }
}

const knownFields = new Set(["columns", "primaryKey", "partitionKeys", "bucket", "properties"]);

export function parseTableDefinition(input: unknown): TableDefinition {
  if (typeof input !== "object" || input === null || Array.isArray(input)) {
    throw FloeError.badRequest("a table definition must be a JSON object");
  }
  const body = input as Record<string, unknown>;
  for (const field of Object.keys(body)) {
    if (!knownFields.has(field)) throw FloeError.badRequest(`unknown field '${field}' in table definition`);
  }
  const primaryKey = parseColumnList("primaryKey", body.primaryKey ?? []);
  const partitionKeys = parseColumnList("partitionKeys", body.partitionKeys ?? []);
  const bucketInput = parseBucket(body.bucket);
  // As in Fluss, the bucket key defaults to the primary key without the partition keys.
  const bucketKey = bucketInput.key ?? primaryKey.filter((name) => !partitionKeys.includes(name));
  const notNull = new Set([...primaryKey, ...bucketKey, ...partitionKeys]);
  const columns = parseColumns(body.columns, notNull);
  const byName = new Map(columns.map((c) => [c.name, c]));
  for (const [list, names] of [["primaryKey", primaryKey], ["bucket.key", bucketKey], ["partitionKeys", partitionKeys]] as const) {
    for (const name of names) {
      if (!byName.has(name)) throw FloeError.badRequest(`${list} names unknown column '${name}'`);
    }
  }
  for (const name of primaryKey) {
    const kind = byName.get(name)!.type.kind;
    if (kind === "FLOAT" || kind === "DOUBLE") {
      throw FloeError.badRequest(`primary key column '${name}' cannot be ${kind}: floating-point values make poor keys`);
    }
  }
  for (const name of bucketKey) {
    const column = byName.get(name)!;
    if (!isBucketable(column.type)) {
      throw FloeError.badRequest(`bucket key column '${name}' cannot be ${formatType(column.type)}`);
    }
    if (primaryKey.length > 0 && !primaryKey.includes(name)) {
      throw FloeError.badRequest(`bucket key column '${name}' must be part of the primary key`);
    }
  }
  checkPartitionKeys(partitionKeys, primaryKey, bucketKey, byName);
  const properties = parseProperties(body.properties, { primaryKey: primaryKey.length > 0, partitioned: partitionKeys.length > 0 });
  checkAutoPartitioning(properties, partitionKeys);
  const versionColumn = properties["table.merge-engine.versioned.ver-column"];
  if ((properties["table.merge-engine"]?.toLowerCase() === "versioned") !== (versionColumn !== undefined)) {
    throw FloeError.badRequest(
      "table.merge-engine=versioned and table.merge-engine.versioned.ver-column must be set together",
    );
  }
  if (versionColumn !== undefined) {
    const kind = byName.get(versionColumn)?.type.kind;
    if (kind === undefined) {
      throw FloeError.badRequest(`table.merge-engine.versioned.ver-column names unknown column '${versionColumn}'`);
    }
    if (!["INT", "BIGINT", "TIMESTAMP", "TIMESTAMP_LTZ"].includes(kind)) {
      throw FloeError.badRequest(`the version column '${versionColumn}' must be INT, BIGINT, TIMESTAMP or TIMESTAMP_LTZ, not ${kind}`);
    }
  }
  return { columns, primaryKey, partitionKeys, bucket: { num: bucketInput.num, key: bucketKey }, properties };
}

function checkPartitionKeys(partitionKeys: readonly string[], primaryKey: readonly string[], bucketKey: readonly string[], byName: ReadonlyMap<string, Column>): void {
  for (const name of partitionKeys) {
    const type = byName.get(name)!.type;
    if (type.kind !== "STRING") throw FloeError.badRequest(`partition key column '${name}' must be STRING, not ${formatType(type)}`);
    if (bucketKey.includes(name)) throw FloeError.badRequest(`partition key column '${name}' cannot be part of the bucket key`);
    if (primaryKey.length > 0 && !primaryKey.includes(name)) {
      throw FloeError.badRequest(`partition key column '${name}' must be part of the primary key`);
    }
  }
  if (partitionKeys.length > 0 && primaryKey.length > 0 && primaryKey.every((name) => partitionKeys.includes(name))) {
    throw FloeError.badRequest("the primary key of a partitioned table needs a column besides the partition keys (its bucket key)");
  }
}

function parseColumns(input: unknown, notNull: ReadonlySet<string>): Column[] {
  if (!Array.isArray(input) || input.length === 0) {
    throw FloeError.badRequest("columns must be a non-empty array of {name, type, nullable?}");
  }
  if (input.length > limits.columnCountMax) {
    throw FloeError.badRequest(`a table has at most ${limits.columnCountMax} columns, got ${input.length}`);
  }
  const seen = new Set<string>();
  return input.map((raw: unknown, index) => {
    if (typeof raw !== "object" || raw === null) throw FloeError.badRequest(`columns[${index}] must be an object`);
    const { name, type, nullable, ...rest } = raw as Record<string, unknown>;
    const extra = Object.keys(rest).filter((k) => k !== "id");
    if (extra.length > 0) throw FloeError.badRequest(`columns[${index}] has unknown field '${extra[0]}'`);
    assertName("column", name);
    if (reservedColumnNames.has(name.toLowerCase()) || name.startsWith("__")) {
      throw FloeError.badRequest(`column name '${name}' is reserved for Floe's system columns`);
    }
    if (seen.has(name.toLowerCase())) throw FloeError.badRequest(`column '${name}' is declared twice`);
    seen.add(name.toLowerCase());
    if (typeof type !== "string") throw FloeError.badRequest(`column '${name}' needs a type string`);
    if (nullable !== undefined && typeof nullable !== "boolean") {
      throw FloeError.badRequest(`column '${name}': nullable must be true or false`);
    }
    if (nullable === true && notNull.has(name)) {
      throw FloeError.badRequest(`column '${name}' is a key or partition column and cannot be nullable`);
    }
    let parsed: FloeType;
    try {
      parsed = parseType(type);
    } catch (error) {
      throw FloeError.badRequest(`column '${name}': ${(error as Error).message}`);
    }
    return { id: index + 1, name, type: parsed, nullable: notNull.has(name) ? false : nullable ?? true };
  });
}

function parseColumnList(what: string, input: unknown): string[] {
  if (!Array.isArray(input) || input.some((n) => typeof n !== "string")) {
    throw FloeError.badRequest(`${what} must be an array of column names`);
  }
  if (new Set(input).size !== input.length) throw FloeError.badRequest(`${what} names a column twice`);
  return input as string[];
}

function parseBucket(input: unknown): { num: number; key?: string[] } {
  if (typeof input !== "object" || input === null) {
    throw FloeError.badRequest("bucket must be an object {num, key?}");
  }
  const { num, key, ...rest } = input as Record<string, unknown>;
  if (Object.keys(rest).length > 0) throw FloeError.badRequest(`bucket has unknown field '${Object.keys(rest)[0]}'`);
  if (typeof num !== "number" || !Number.isInteger(num) || num < 1 || num > limits.bucketCountMax) {
    throw FloeError.badRequest(`bucket.num must be an integer 1..${limits.bucketCountMax}`);
  }
  return key === undefined ? { num } : { num, key: parseColumnList("bucket.key", key) };
}

export function definitionToJson(definition: TableDefinition): TableDefinitionJson {
  return {
    columns: definition.columns.map(columnSpec),
    primaryKey: definition.primaryKey,
    partitionKeys: definition.partitionKeys,
    bucket: definition.bucket,
    properties: { ...definition.properties },
  };
}

/** Whether two definitions describe the same table (the idempotent-create check). */
export function sameDefinition(a: TableDefinition, b: TableDefinition): boolean {
  const canonical = (d: TableDefinition) => {
    const json = definitionToJson(d);
    return JSON.stringify({ ...json, properties: Object.entries(json.properties).sort() });
  };
  return canonical(a) === canonical(b);
}

export function isPartitioned(definition: TableDefinition): boolean {
  return definition.partitionKeys.length > 0;
}

export function isPrimaryKeyTable(definition: TableDefinition): boolean {
  return definition.primaryKey.length > 0;
}

/** Whether a table tiers into the lake (`table.datalake.enabled`). */
export function isLakeEnabled(definition: TableDefinition): boolean {
  return definition.properties["table.datalake.enabled"] === "true";
}

/** How long a table's buckets keep their log (`table.log.ttl`), and whether the lake must hold it first. */
export function retentionOf(definition: TableDefinition): { ttlMs: number; keepUntiered: boolean } {
  return {
    ttlMs: parseDurationMs(definition.properties["table.log.ttl"] ?? propertyDefaults["table.log.ttl"]!),
    keepUntiered: isLakeEnabled(definition),
  };
}

/** Loads a definition the catalog stored with `definitionToJson` (already validated). */
export function definitionFromJson(json: TableDefinitionJson): TableDefinition {
  return {
    columns: json.columns.map((c, index) => columnFromSpec({ ...c, id: c.id ?? index + 1 })),
    primaryKey: json.primaryKey,
    partitionKeys: json.partitionKeys,
    bucket: json.bucket,
    properties: json.properties,
  };
}
