/**
 * Lake data files: Arrow columns written as Parquet the way Iceberg readers
 * expect them, by parquet-wasm (arrow-rs), fed one stored record batch at a
 * time so that nothing is concatenated in JavaScript.
 *
 * What a file holds: every column with its Iceberg field id (Arrow field
 * metadata `PARQUET:field_id`) and REQUIRED/OPTIONAL from its nullability;
 * the key/value metadata `iceberg.schema` (plus arrow-rs's `ARROW:schema`);
 * data pages v1 (so BOOLEAN values are PLAIN; v2 would make them RLE),
 * snappy, column-chunk statistics; row groups of at most `rowGroupRowsMax`
 * rows. Types follow Iceberg's Parquet mapping as arrow-rs derives it from
 * the Arrow type: TIME is TIME(MICROS, isAdjustedToUTC=false), TIMESTAMP
 * TIMESTAMP(MICROS, false), TIMESTAMP_LTZ TIMESTAMP(MICROS, true), DECIMAL
 * INT32 up to 9 digits, INT64 up to 18, else the fewest FIXED_LEN_BYTE_ARRAY
 * bytes, always with the DECIMAL logical type. Two deviations: TINYINT and
 * SMALLINT are widened to Int32 before writing (Iceberg's `int`; an INT(8)
 * or INT(16) annotation makes some engines see another type), and
 * DECIMAL(1, s) is INT64 because arrow-rs maps precision 1 so (readers
 * accept any integer width for a decimal).
 *
 * Invariants: the footer, read back after writing, names every column with
 * its field id and counts exactly the rows given (checked, since
 * parquet-wasm's stream writer drops its own errors); wasm memory holds one
 * record batch and the open row group, not the file.
 */
import * as arrow from "apache-arrow";
import { parquetMetadata } from "hyparquet";
import type { FileMetaData } from "hyparquet";
import type { Column } from "../table/schema.ts";
import { arrowType } from "../table/types.ts";
import { encodeStream } from "../arrow/ipc.ts";
import { makeColumn } from "../arrow/gather.ts";
import type { IcebergSchema } from "../iceberg/schema.ts";
import type { FileMetrics } from "../iceberg/manifest.ts";
import type { ColumnMetrics } from "../iceberg/metrics.ts";
import { columnMetrics, mergeMetrics } from "../iceberg/metrics.ts";
import { parquetWasmModule } from "./parquet-wasm.ts";
import { columnChunk, rowGroupStart } from "./parquet-footer.ts";

export interface DataFileColumn extends Column {
  /**
   * The column's values in row order, one chunk per stored record batch.
   * Chunk `i` of every column of a file has the same length.
   */
  chunks: readonly arrow.Data[];
}

/** A written data file and what its manifest entry needs. */
export interface WrittenDataFile {
  bytes: Uint8Array;
  recordCount: number;
  /** Per field id: value, null and NaN counts, bounds, and the column's compressed bytes in the file. */
  metrics: Map<number, FileMetrics>;
  /** Where each row group starts, ascending (Iceberg's `split_offsets`). */
  splitOffsets: number[];
}

/**
 * Rows per row group. Small by Parquet's standards on purpose: a reader in a
 * Worker (128 MB, wasm memory included and never returned) decodes a whole
 * row group of the asked columns at once, and the writer holds the open one,
 * so this bounds both; smaller groups also let statistics skip more of a
 * file. Measured under Node on the benchmark table (1M rows, 9 columns, 8
 * files, both directions): wasm memory peaked at 5.9 MiB with 10,000-row
 * groups, 20.6 MiB with 50,000 and 50.8 MiB with 125,000, while larger
 * groups saved at most 3% of the bytes and decoded at most ~1.5x faster.
 */
export const rowGroupRowsMax = 10_000;

/** One Parquet file of `columns`, with `metadata` added to its key/value metadata. */
export async function writeDataFile(
  columns: readonly DataFileColumn[],
  schema: IcebergSchema,
  metadata: Record<string, string> = {},
): Promise<WrittenDataFile> {
  const lengths = chunkLengths(columns);
  const parts: Uint8Array[] = [];
  const written = await streamDataFile(columns, chunkBatches(columns, lengths), schema, metadata, async (part) => void parts.push(part));
  const bytes = concatenate(parts);
  const footer = parquetMetadata(bytes.buffer as ArrayBuffer);
  const { metrics, splitOffsets } = describeWritten(footer, columns, written);
  return { bytes, recordCount: written.recordCount, metrics, splitOffsets };
}

/** Rows to write batch by batch: each batch one chunk per column, all of one length. */
export type BatchSource = AsyncIterable<arrow.Data[]>;

/** What writing a file learnt as its rows passed: their count and each column's metrics (but its size, which the footer has). */
export interface StreamedDataFile {
  recordCount: number;
  metrics: Map<number, ColumnMetrics>;
}

/**
 * Writes `batches` as one Parquet file of `columns`, handing its bytes to
 * `sink` as the encoder produces them, so neither the rows nor the file are
 * ever held whole: wasm holds one batch and the open row group.
 */
export async function streamDataFile(
  columns: readonly Column[],
  batches: BatchSource,
  schema: IcebergSchema,
  metadata: Record<string, string>,
  sink: (part: Uint8Array) => Promise<void>,
): Promise<StreamedDataFile> {
  const kv = new Map([["iceberg.schema", JSON.stringify(schema)], ...Object.entries(metadata)]);
  const written: StreamedDataFile = { recordCount: 0, metrics: new Map() };
  const counted = async function* () {
    for await (const batch of batches) {
      const length = batch[0]?.length ?? 0;
      if (length === 0) continue;
      written.recordCount += length;
      columns.forEach((column, c) => {
        const part = columnMetrics(column, [batch[c]!]);
        const sofar = written.metrics.get(column.id);
        written.metrics.set(column.id, sofar ? mergeMetrics(column.type, sofar, part) : part);
      });
      yield batch;
    }
  };
  await encode(columns, counted(), kv, sink);
  if (written.recordCount === 0) throw new Error(`parquet writer: no rows to write for ${columns.length} columns`);
  return written;
}

/** A written file's per-column metrics with their sizes, and its row groups' starts, from its footer (checked against what was written). */
export function describeWritten(footer: FileMetaData, columns: readonly Column[], written: StreamedDataFile): { metrics: Map<number, FileMetrics>; splitOffsets: number[] } {
  assertFooter(footer, columns, written.recordCount);
  const metrics = new Map<number, FileMetrics>(columns.map((column) => [column.id, { ...written.metrics.get(column.id)!, columnSize: columnSize(footer, column) }]));
  return { metrics, splitOffsets: footer.row_groups.map(rowGroupStart) };
}

/** The chunks of `columns` as batches, the i-th chunk of every column together. */
async function* chunkBatches(columns: readonly DataFileColumn[], lengths: readonly number[]): BatchSource {
  for (let i = 0; i < lengths.length; i++) yield columns.map((c) => c.chunks[i]!);
}

/** The chunk lengths every column shares; a column cut differently is a caller's bug. */
function chunkLengths(columns: readonly DataFileColumn[]): number[] {
  const first = columns[0];
  if (!first) throw new Error("parquet writer: a data file needs at least one column");
  const lengths = first.chunks.map((c) => c.length);
  for (const column of columns) {
    const mismatch = column.chunks.findIndex((c, i) => c.length !== lengths[i]);
    if (column.chunks.length !== lengths.length || mismatch >= 0) {
      throw new Error(
        `parquet writer: column '${column.name}' has chunks of [${column.chunks.map((c) => c.length)}] rows, ` +
          `column '${first.name}' of [${lengths}]`,
      );
    }
  }
  return lengths;
}

/** The Arrow schema the file is written from: lake types, nullability, field ids. */
function lakeSchema(columns: readonly Column[]): arrow.Schema {
  return new arrow.Schema(columns.map((c) => new arrow.Field(c.name, lakeArrowType(c), c.nullable, new Map([["PARQUET:field_id", String(c.id)]]))));
}

/** The system column holding each row's log offset (`iceberg/schema.ts`): unique within a file. */
const offsetColumn = "__offset";

const isNarrowInt = (column: Column) => column.type.kind === "TINYINT" || column.type.kind === "SMALLINT";

function lakeArrowType(column: Column): arrow.DataType {
  return isNarrowInt(column) ? new arrow.Int32() : arrowType(column.type);
}

/** A chunk as the lake stores it: TINYINT and SMALLINT widened to Int32 (a typed-array conversion of the whole vector). */
function lakeChunk(column: Column, data: arrow.Data): arrow.Data {
  if (!isNarrowInt(column)) return data;
  return makeColumn({
    type: new arrow.Int32(),
    offset: data.offset,
    length: data.length,
    nullCount: data.nullCount,
    nullBitmap: data.nullBitmap,
    data: new Int32Array(data.values as Int8Array | Int16Array),
  });
}

type ParquetWasm = ReturnType<typeof parquetWasmModule>;

/**
 * Record batches streamed into parquet-wasm's writer, one batch per pull,
 * its output handed to `sink` as it comes. The writer ignores its own
 * errors, so a failure on our side is kept and thrown once it has stopped.
 */
async function encode(columns: readonly Column[], batches: BatchSource, kv: Map<string, string>, sink: (part: Uint8Array) => Promise<void>): Promise<void> {
  const wasm = parquetWasmModule();
  const input = recordBatches(wasm, columns, batches);
  let failure: unknown;
  try {
    const output = (await wasm.transformParquetStream(input.stream, writerProperties(wasm, columns, kv))) as ReadableStream<Uint8Array>;
    const reader = output.getReader();
    try {
      for (let part = await reader.read(); !part.done; part = await reader.read()) await sink(part.value);
    } catch (error) {
      failure = error;
      input.stop();
      await reader.cancel().catch(() => {});
    }
  } catch (error) {
    failure = error;
  }
  if (input.failure !== undefined || failure !== undefined) throw input.failure ?? failure;
}

/** The batches as a stream of wasm record batches (consumed by the writer), one batch per pull. */
function recordBatches(wasm: ParquetWasm, columns: readonly Column[], batches: BatchSource) {
  const schema = lakeSchema(columns);
  const iterator = batches[Symbol.asyncIterator]();
  let stopped = false;
  const state: { stream: ReadableStream<unknown>; failure?: unknown; stop(): void } = {
    stream: new ReadableStream<unknown>({
      async pull(controller) {
        try {
          const next = stopped ? { done: true as const, value: undefined } : await iterator.next();
          if (next.done) return controller.close();
          const batch = next.value;
          const ipc = encodeStream(schema, columns.map((c, i) => lakeChunk(c, batch[i]!)), batch[0]!.length);
          const table = wasm.Table.fromIPCStream(ipc);
          try {
            for (const recordBatch of table.recordBatches()) controller.enqueue(recordBatch);
          } finally {
            table.free(); // the batches share its buffers and stay alive
          }
        } catch (error) {
          state.failure = error;
          throw error;
        }
      },
    }, { highWaterMark: 0 }),
    stop: () => {
      stopped = true;
      void iterator.return?.();
    },
  };
  return state;
}

function writerProperties(wasm: ParquetWasm, columns: readonly Column[], kv: Map<string, string>) {
  const builder = new wasm.WriterPropertiesBuilder()
    .setWriterVersion(wasm.WriterVersion.V1)
    .setCompression(wasm.Compression.SNAPPY)
    .setMaxRowGroupSize(rowGroupRowsMax)
    .setStatisticsEnabled(wasm.EnabledStatistics.Chunk)
    .setCreatedBy("floe")
    .setKeyValueMetadata(kv);
  // A dictionary of values that never repeat in a file only adds its indices (+40% for 8-byte values): offsets are
  // unique per bucket, so `__offset` is written PLAIN. Other columns keep arrow-rs's default (dictionary first).
  if (!columns.some((c) => c.name === offsetColumn)) return builder.build();
  return builder.setColumnDictionaryEnabled(offsetColumn, false).build();
}

function concatenate(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.byteLength, 0));
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.byteLength;
  }
  return out;
}

/** The written footer against what was asked: paired with the reader's checks, this is where a bad write stops. */
function assertFooter(footer: FileMetaData, columns: readonly Column[], recordCount: number): void {
  if (Number(footer.num_rows) !== recordCount) {
    throw new Error(`parquet writer: the footer counts ${footer.num_rows} rows, ${recordCount} were written`);
  }
  const elements = footer.schema.slice(1);
  columns.forEach((column, i) => {
    const element = elements[i];
    if (element?.name !== column.name || element.field_id !== column.id) {
      throw new Error(`parquet writer: column ${i} is '${element?.name}' (field id ${element?.field_id}), expected '${column.name}' (${column.id})`);
    }
  });
  if (elements.length !== columns.length) throw new Error(`parquet writer: the footer has ${elements.length} columns, expected ${columns.length}`);
}

/** A column's compressed bytes over all row groups (Iceberg's `column_sizes`). */
function columnSize(footer: FileMetaData, column: Column): number {
  return footer.row_groups.reduce((n, rowGroup) => {
    const chunk = columnChunk(rowGroup, column.name);
    if (!chunk) throw new Error(`parquet writer: row group of ${rowGroup.num_rows} rows lacks column '${column.name}'`);
    return n + Number(chunk.total_compressed_size);
  }, 0);
}
