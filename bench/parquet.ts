/**
 * Parquet encoding and decoding alone, under Node: `FLOE_BENCH_ROWS` rows
 * (default 1M) of the lake table's 6 columns plus the 3 system columns, in
 * 8 files as a tiering round writes them. Encode: Floe's writer
 * (parquet-wasm) from the Arrow chunks. Decode, every column of every row
 * group: Floe's reader (R2 range reads from memory, parquet-wasm, Arrow IPC,
 * Floe's Arrow types) against hyparquet decoding the same files to column
 * arrays, the reference. Medians of `FLOE_BENCH_RUNS` runs (default 3).
 */
import { parquetRead } from "hyparquet";
import { writeDataFile } from "../src/lake/parquet.ts";
import { openDataFile, readRows, rowGroupRanges } from "../src/lake/parquet-read.ts";
import { parquetWasmMemoryBytes } from "../src/lake/parquet-wasm.ts";
import { icebergSchema, lakeColumns } from "../src/iceberg/schema.ts";
import { parseTableDefinition } from "../src/table/schema.ts";
import { lakeFiles, lakeTableDefinition } from "./lake-table.ts";
import { formatRate, median, printTable, seconds } from "./measure.ts";

const rowCount = Number(process.env.FLOE_BENCH_ROWS ?? 1_000_000);
const runs = Number(process.env.FLOE_BENCH_RUNS ?? 3);

/** An R2 bucket over files in memory: range gets only, as the reader makes them. */
function memoryBucket(files: Map<string, Uint8Array>): R2Bucket {
  return {
    get: async (key: string, options: { range: { offset: number; length: number } }) => {
      const bytes = files.get(key)!;
      const { offset, length } = options.range;
      return { arrayBuffer: async () => bytes.slice(offset, offset + length).buffer };
    },
  } as unknown as R2Bucket;
}

export async function run(): Promise<void> {
  const definition = parseTableDefinition(lakeTableDefinition);
  const schema = icebergSchema(definition);
  const columns = lakeColumns(definition);
  const inputs = lakeFiles(rowCount);
  let written: Uint8Array[] = [];
  const encode = await timesOf(async () => {
    written = [];
    for (const file of inputs) written.push((await writeDataFile(file, schema)).bytes);
  });
  const wasmAfterEncode = parquetWasmMemoryBytes();
  const files = new Map(written.map((bytes, i) => [`f${i}`, bytes]));
  const bucket = memoryBucket(files);
  const floeDecode = await timesOf(async () => {
    let rows = 0;
    for (const [key, bytes] of files) {
      const file = await openDataFile(bucket, key, bytes.byteLength);
      for (const { rowStart, rowEnd } of rowGroupRanges(file)) rows += (await readRows(file, columns, rowStart, rowEnd))[0]!.length;
    }
    if (rows !== rowCount) throw new Error(`decoded ${rows} rows, expected ${rowCount}`);
  });
  const hyparquetDecode = await timesOf(async () => {
    let rows = 0;
    for (const bytes of files.values()) {
      const file = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
      await parquetRead({ file, utf8: false, onChunk: ({ columnName, columnData }) => { if (columnName === "id") rows += columnData.length; } });
    }
    if (rows !== rowCount) throw new Error(`hyparquet decoded ${rows} rows, expected ${rowCount}`);
  });
  const bytes = written.reduce((n, b) => n + b.byteLength, 0);
  console.log(`parquet: ${rowCount} rows, 6 + 3 columns, 8 files, ${(bytes / 2 ** 20).toFixed(1)} MiB; wasm memory ${(parquetWasmMemoryBytes() / 2 ** 20).toFixed(1)} MiB (${(wasmAfterEncode / 2 ** 20).toFixed(1)} after encoding)`);
  const rate = (s: number) => rowCount / s;
  printTable([
    { what: "encode: Floe's writer (parquet-wasm)", seconds: encode.toFixed(2), "rows/s": formatRate(rate(encode)), ratio: "—" },
    { what: "decode: hyparquet (reference)", seconds: hyparquetDecode.toFixed(2), "rows/s": formatRate(rate(hyparquetDecode)), ratio: "1.00" },
    { what: "decode: Floe's reader (parquet-wasm)", seconds: floeDecode.toFixed(2), "rows/s": formatRate(rate(floeDecode)), ratio: (hyparquetDecode / floeDecode).toFixed(2) },
  ]);
}

async function timesOf(work: () => Promise<void>): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < runs; i++) times.push(await seconds(work));
  return median(times);
}
