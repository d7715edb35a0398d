/**
 * Avro object container files, written by hand: Iceberg's manifests and
 * manifest lists are Avro, and the Workers runtime forbids the code
 * generation (`new Function`) that general Avro libraries use for records.
 *
 * Covers the schema features Iceberg metadata needs: null, boolean, int,
 * long (numbers or BigInt, exact to 64 bits), float, double, bytes, string,
 * fixed, records, arrays, maps and unions. Values of a union pick the first
 * branch they fit (Iceberg's unions are all `["null", T]`). The container
 * has one block (none when there are no records), codec `null`.
 */
export type AvroSchema =
  | string
  | AvroSchema[]
  | { type: "record"; name: string; fields: { name: string; type: AvroSchema; [key: string]: unknown }[]; [key: string]: unknown }
  | { type: "array"; items: AvroSchema; [key: string]: unknown }
  | { type: "map"; values: AvroSchema; [key: string]: unknown }
  | { type: "fixed"; name: string; size: number; [key: string]: unknown }
  | { type: string; logicalType?: string; [key: string]: unknown };

const utf8 = new TextEncoder();

/** A growing byte buffer. */
class Bytes {
  private buffer = new Uint8Array(1024);
  length = 0;

  private reserve(extra: number): void {
    if (this.length + extra <= this.buffer.length) return;
    const grown = new Uint8Array(Math.max(this.buffer.length * 2, this.length + extra));
    grown.set(this.buffer.subarray(0, this.length));
    this.buffer = grown;
  }

  byte(value: number): void {
    this.reserve(1);
    this.buffer[this.length++] = value;
  }

  bytes(value: Uint8Array): void {
    this.reserve(value.length);
    this.buffer.set(value, this.length);
    this.length += value.length;
  }

  /** Avro's zig-zag varint, exact for every 64-bit value. */
  long(value: number | bigint): void {
    let zigzag = BigInt.asUintN(64, (BigInt(value) << 1n) ^ (BigInt(value) >> 63n));
    while (zigzag >= 0x80n) {
      this.byte(Number(zigzag & 0x7fn) | 0x80);
      zigzag >>= 7n;
    }
    this.byte(Number(zigzag));
  }

  result(): Uint8Array {
    return this.buffer.slice(0, this.length);
  }
}

function encode(out: Bytes, schema: AvroSchema, value: unknown): void {
  if (Array.isArray(schema)) {
    const branch = schema.findIndex((s) => fits(s, value));
    if (branch < 0) throw new Error(`avro: ${JSON.stringify(value)} fits no branch of ${JSON.stringify(schema)}`);
    out.long(branch);
    return encode(out, schema[branch]!, value);
  }
  const type = typeof schema === "string" ? schema : schema.type;
  switch (type) {
    case "null": return;
    case "boolean": return out.byte(value ? 1 : 0);
    case "int":
    case "long": return out.long(value as number | bigint);
    case "float": {
      const view = new DataView(new ArrayBuffer(4));
      view.setFloat32(0, value as number, true);
      return out.bytes(new Uint8Array(view.buffer));
    }
    case "double": {
      const view = new DataView(new ArrayBuffer(8));
      view.setFloat64(0, value as number, true);
      return out.bytes(new Uint8Array(view.buffer));
    }
    case "string":
    case "bytes": {
      const bytes = typeof value === "string" ? utf8.encode(value) : (value as Uint8Array);
      out.long(bytes.length);
      return out.bytes(bytes);
    }
    case "fixed": return out.bytes(value as Uint8Array);
    case "record":
      for (const field of (schema as { fields: { name: string; type: AvroSchema }[] }).fields) {
        encode(out, field.type, (value as Record<string, unknown>)[field.name]);
      }
      return;
    case "array": {
      const items = value as unknown[];
      if (items.length > 0) {
        out.long(items.length);
        for (const item of items) encode(out, (schema as { items: AvroSchema }).items, item);
      }
      return out.long(0);
    }
    case "map": {
      const entries = Object.entries(value as Record<string, unknown>);
      if (entries.length > 0) {
        out.long(entries.length);
        for (const [key, item] of entries) {
          encode(out, "string", key);
          encode(out, (schema as { values: AvroSchema }).values, item);
        }
      }
      return out.long(0);
    }
    default:
      throw new Error(`avro: unsupported type ${JSON.stringify(schema)}`);
  }
}

function fits(schema: AvroSchema, value: unknown): boolean {
  const type = Array.isArray(schema) ? "union" : typeof schema === "string" ? schema : schema.type;
  if (value === null || value === undefined) return type === "null";
  return type !== "null";
}

/** The first bytes of every Avro object container file. */
export const magic = new Uint8Array([0x4f, 0x62, 0x6a, 0x01]);

/** An Avro object container file holding `records`, with `metadata` in its header. */
export function writeContainer(schema: AvroSchema, records: readonly unknown[], metadata: Record<string, string>): Uint8Array {
  const out = new Bytes();
  out.bytes(magic);
  const header: Record<string, Uint8Array> = { "avro.schema": utf8.encode(JSON.stringify(schema)), "avro.codec": utf8.encode("null") };
  for (const [key, value] of Object.entries(metadata)) header[key] = utf8.encode(value);
  encode(out, { type: "map", values: "bytes" }, header);
  const sync = crypto.getRandomValues(new Uint8Array(16));
  out.bytes(sync);
  if (records.length > 0) {
    const block = new Bytes();
    for (const record of records) encode(block, schema, record);
    out.long(records.length);
    out.long(block.length);
    out.bytes(block.result());
    out.bytes(sync);
  }
  return out.result();
}
