/** Reads and writes Avro containers with avsc (an independent implementation), longs as exact BigInt. */
import avro from "avsc";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export const bigintLong = avro.types.LongType.__with({
  fromBuffer: (buffer: Buffer) => buffer.readBigInt64LE(),
  toBuffer: (value: bigint) => {
    const buffer = Buffer.alloc(8);
    buffer.writeBigInt64LE(value);
    return buffer;
  },
  fromJSON: BigInt,
  toJSON: Number,
  isValid: (value: unknown) => typeof value === "bigint",
  compare: (a: bigint, b: bigint) => (a < b ? -1 : a > b ? 1 : 0),
});

export async function readAvro(bytes: Uint8Array, options: { bigintLongs?: boolean } = {}): Promise<{ metadata: Record<string, string>; schema: any; records: any[] }> {
  const folder = mkdtempSync(join(tmpdir(), "floe-avro-"));
  const path = join(folder, "file.avro");
  writeFileSync(path, bytes);
  try {
    return await new Promise((resolve, reject) => {
      const records: any[] = [];
      let metadata: Record<string, string> = {};
      const parseHook = options.bigintLongs
        ? (s: unknown) => avro.Type.forSchema(s as never, { registry: { long: bigintLong } })
        : undefined;
      avro
        .createFileDecoder(path, parseHook ? { parseHook } : {})
        .on("metadata", (_type: unknown, _codec: string, header: { meta: Record<string, Buffer> }) => {
          metadata = Object.fromEntries(Object.entries(header.meta).map(([k, v]) => [k, v.toString("utf8")]));
        })
        .on("data", (record: unknown) => records.push(record))
        .on("error", reject)
        .on("end", () => resolve({ metadata, schema: JSON.parse(metadata["avro.schema"]!), records }));
    });
  } finally {
    rmSync(folder, { recursive: true, force: true });
  }
}

/** An Avro container written by avsc, in blocks of about `blockBytes`. */
export async function writeAvro(schema: unknown, records: unknown[], blockBytes: number): Promise<Uint8Array> {
  const type = avro.Type.forSchema(schema as never, { registry: { long: bigintLong } });
  const chunks: Buffer[] = [];
  await new Promise<void>((resolve, reject) => {
    const encoder = new avro.streams.BlockEncoder(type, { codec: "null", blockSize: blockBytes });
    encoder.on("data", (chunk: Buffer) => chunks.push(chunk)).on("error", reject).on("end", resolve);
    for (const record of records) encoder.write(withBuffers(record));
    encoder.end();
  });
  return new Uint8Array(Buffer.concat(chunks));
}

/** avsc takes bytes and fixed values as Buffers. */
const withBuffers = (value: unknown): unknown => {
  if (value instanceof Uint8Array) return Buffer.from(value);
  if (value === null || typeof value !== "object") return value;
  if (Array.isArray(value)) return value.map(withBuffers);
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, withBuffers(v)]));
};
