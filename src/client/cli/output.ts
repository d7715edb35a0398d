/**
 * Where `floe scan --out` writes: an Arrow IPC file (`.arrow`), a Parquet
 * file (`.parquet`, by parquet-wasm, snappy-compressed, row groups as the
 * scan's batches come), or NDJSON. Batches are written as they arrive, so
 * a scan never has to fit in memory.
 */
import { createWriteStream } from "node:fs";
import type { WriteStream } from "node:fs";
import * as arrow from "apache-arrow";

export type OutputFormat = "ndjson" | "arrow" | "parquet";

export function outputFormatOf(path: string): OutputFormat {
  if (/\.parquet$/i.test(path)) return "parquet";
  if (/\.(arrow|ipc|feather)$/i.test(path)) return "arrow";
  if (/\.(ndjson|jsonl|json)$/i.test(path)) return "ndjson";
  throw new Error(`cannot tell the format of '${path}' from its name: use .parquet, .arrow or .ndjson`);
}

/** Writes the batches to an Arrow IPC file; answers the rows written. */
export async function writeArrowFile(path: string, batches: AsyncIterable<arrow.RecordBatch>): Promise<number> {
  const out = createWriteStream(path);
  const writer = new arrow.RecordBatchFileWriter();
  const pump = (async () => {
    for await (const chunk of writer) await write(out, chunk);
  })();
  let rows = 0;
  for await (const batch of batches) {
    writer.write(batch);
    rows += batch.numRows;
  }
  writer.finish();
  await pump;
  await close(out);
  return rows;
}

/** Writes the batches to a Parquet file through parquet-wasm's stream writer; answers the rows written. */
export async function writeParquetFile(path: string, batches: AsyncIterable<arrow.RecordBatch>): Promise<number> {
  // The Node build of parquet-wasm (CommonJS) loads its wasm from beside it.
  const loaded = (await import("parquet-wasm")) as unknown as { default?: ParquetWasm } & ParquetWasm;
  const wasm: ParquetWasm = loaded.default ?? loaded;
  const iterator = batches[Symbol.asyncIterator]();
  let rows = 0;
  let failure: unknown;
  const input = new ReadableStream<unknown>({
    async pull(controller) {
      try {
        const next = await iterator.next();
        if (next.done) return controller.close();
        rows += next.value.numRows;
        const table = wasm.Table.fromIPCStream(arrow.tableToIPC(new arrow.Table([next.value]), "stream"));
        try {
          for (const batch of table.recordBatches()) controller.enqueue(batch);
        } finally {
          table.free();
        }
      } catch (error) {
        failure = error;
        throw error;
      }
    },
  }, { highWaterMark: 0 });
  const properties = new wasm.WriterPropertiesBuilder().setCompression(wasm.Compression.SNAPPY).setCreatedBy("floe cli").build();
  const output = (await wasm.transformParquetStream(input, properties)) as ReadableStream<Uint8Array>;
  const out = createWriteStream(path);
  const reader = output.getReader();
  for (let part = await reader.read(); !part.done; part = await reader.read()) await write(out, part.value);
  await close(out);
  // The writer drops errors of its input stream: a failed scan must not leave a file that looks whole.
  if (failure !== undefined) throw failure;
  return rows;
}

type ParquetWasm = typeof import("parquet-wasm");

function write(out: WriteStream, chunk: Uint8Array): Promise<void> {
  return new Promise((resolve, reject) => out.write(chunk, (error) => (error ? reject(error) : resolve())));
}

function close(out: WriteStream): Promise<void> {
  return new Promise((resolve, reject) => out.end((error?: Error | null) => (error ? reject(error) : resolve())));
}
