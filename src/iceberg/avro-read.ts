/**
 * Reading Avro object container files: the reader half of `avro.ts`, so
 * Floe can follow its own manifest lists and manifests (union reads, time
 * travel) inside the Workers runtime, where code-generating Avro libraries
 * cannot run.
 *
 * Decodes with the writer's schema from the file header; covers the types
 * `avro.ts` writes plus named-type references, and the `null` codec (Floe's
 * own files). Longs come back as numbers when they are safe integers and as
 * BigInt otherwise, so no value is ever rounded.
 */
import type { AvroSchema } from "./avro.ts";
import { magic } from "./avro.ts";

const utf8 = new TextDecoder();


class Cursor {
  at = 0;
  readonly bytes: Uint8Array;

  constructor(bytes: Uint8Array) {
    this.bytes = bytes;
  }

  take(length: number): Uint8Array {
    if (length < 0) throw new Error(`avro: negative length ${length} at ${this.at}`);
    if (this.at + length > this.bytes.length) {
      throw new Error(`avro: reading ${length} bytes at ${this.at} runs past the end of ${this.bytes.length}`);
    }
    const out = this.bytes.subarray(this.at, this.at + length);
    this.at += length;
    return out;
  }

  long(): number | bigint {
    let value = 0n;
    let shift = 0n;
    for (;;) {
      const byte = this.take(1)[0]!;
      value |= BigInt(byte & 0x7f) << shift;
      if ((byte & 0x80) === 0) break;
      shift += 7n;
      if (shift > 63n) throw new Error(`avro: varint at ${this.at} is longer than 10 bytes`);
    }
    const decoded = (value >> 1n) ^ -(value & 1n);
    return decoded >= BigInt(Number.MIN_SAFE_INTEGER) && decoded <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(decoded) : decoded;
  }

  count(): number {
    const value = this.long();
    if (typeof value !== "number") throw new Error(`avro: count ${value} at ${this.at} is out of range`);
    return value;
  }
}

type Named = Map<string, AvroSchema>;

function decode(cursor: Cursor, schema: AvroSchema, named: Named): unknown {
  if (Array.isArray(schema)) {
    const branch = cursor.count();
    if (branch < 0 || branch >= schema.length) throw new Error(`avro: union branch ${branch} of ${schema.length}`);
    return decode(cursor, schema[branch]!, named);
  }
  const type = typeof schema === "string" ? schema : schema.type;
  const definition = typeof schema === "string" ? undefined : schema;
  switch (type) {
    case "null": return null;
    case "boolean": return cursor.take(1)[0] !== 0;
    case "int":
    case "long": return cursor.long();
    case "float": {
      const bytes = cursor.take(4);
      return new DataView(bytes.buffer, bytes.byteOffset, 4).getFloat32(0, true);
    }
    case "double": {
      const bytes = cursor.take(8);
      return new DataView(bytes.buffer, bytes.byteOffset, 8).getFloat64(0, true);
    }
    case "bytes": return cursor.take(cursor.count()).slice();
    case "string": return utf8.decode(cursor.take(cursor.count()));
    case "fixed": {
      return cursor.take((definition as { size: number }).size).slice();
    }
    case "record": {
      const record = definition as { fields: { name: string; type: AvroSchema }[] };
      const out: Record<string, unknown> = {};
      for (const field of record.fields) out[field.name] = decode(cursor, field.type, named);
      return out;
    }
    case "array": {
      const items: unknown[] = [];
      forEachBlockItem(cursor, () => items.push(decode(cursor, (definition as { items: AvroSchema }).items, named)));
      return items;
    }
    case "map": {
      const entries: Record<string, unknown> = {};
      forEachBlockItem(cursor, () => {
        const key = decode(cursor, "string", named) as string;
        entries[key] = decode(cursor, (definition as { values: AvroSchema }).values, named);
      });
      return entries;
    }
    default: {
      const reference = named.get(type);
      if (reference) return decode(cursor, reference, named);
      throw new Error(`avro: unsupported type ${JSON.stringify(schema)}`);
    }
  }
}

/** Every named type (records, fixed) of a schema, so later references by name resolve. */
function namedTypes(schema: AvroSchema, named: Named = new Map()): Named {
  if (Array.isArray(schema)) {
    for (const branch of schema) namedTypes(branch, named);
  } else if (typeof schema === "object") {
    if (typeof schema.name === "string" && (schema.type === "record" || schema.type === "fixed")) named.set(schema.name, schema);
    for (const field of (schema.fields as { type: AvroSchema }[] | undefined) ?? []) namedTypes(field.type, named);
    for (const inner of [schema.items, schema.values]) {
      if (inner !== undefined) namedTypes(inner as AvroSchema, named);
    }
  }
  return named;
}

/** Arrays and maps come in blocks; a negative count is followed by the block's byte size. */
function forEachBlockItem(cursor: Cursor, item: () => void): void {
  for (let count = cursor.count(); count !== 0; count = cursor.count()) {
    if (count < 0) {
      cursor.long();
      count = -count;
    }
    for (let i = 0; i < count; i++) item();
  }
}

export interface AvroContainer {
  /** Header metadata other than the schema and codec, as text. */
  metadata: Record<string, string>;
  schema: AvroSchema;
  records: unknown[];
}

export function readContainer(bytes: Uint8Array): AvroContainer {
  const cursor = new Cursor(bytes);
  if (!magic.every((b, i) => bytes[i] === b)) throw new Error("avro: not an object container file (bad magic)");
  cursor.at = magic.length;
  const header = decode(cursor, { type: "map", values: "bytes" }, new Map()) as Record<string, Uint8Array>;
  const text = Object.fromEntries(Object.entries(header).map(([key, value]) => [key, utf8.decode(value)]));
  const { "avro.schema": schemaText, "avro.codec": codec = "null", ...metadata } = text;
  if (schemaText === undefined) throw new Error("avro: container header has no avro.schema");
  if (codec !== "null") throw new Error(`avro: codec '${codec}' is not supported (Floe writes 'null')`);
  const schema = JSON.parse(schemaText) as AvroSchema;
  const sync = cursor.take(16);
  const named = namedTypes(schema);
  const records: unknown[] = [];
  while (cursor.at < bytes.length) {
    const count = cursor.count();
    const size = cursor.count();
    const end = cursor.at + size;
    for (let i = 0; i < count; i++) records.push(decode(cursor, schema, named));
    if (cursor.at !== end) throw new Error(`avro: block ends at ${cursor.at}, its header said ${end}`);
    if (!cursor.take(16).every((b, i) => b === sync[i])) throw new Error(`avro: sync marker mismatch at ${cursor.at - 16}`);
  }
  return { metadata, schema, records };
}
