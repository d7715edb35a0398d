/**
 * Compacting one bucket's lake files, as its lake writer runs it: the live
 * rows of the chosen data files (their rows minus what the bucket's
 * position and equality deletes remove) are streamed, row group by row
 * group, into new files of about the target size, which replace the
 * chosen files and every delete file of the bucket in one snapshot.
 *
 * Invariants: every live row of the inputs is in exactly one output, in
 * the inputs' order (so `__offset` stays ascending); no row a delete
 * removes is; memory holds one input row group, the encoder's open row
 * group and one upload part, whatever the files' sizes. For a primary-key
 * table each output row's key gets its new position, prepared for the
 * index as the rows pass.
 */
import type * as arrow from "apache-arrow";
import type { TableEntry } from "../catalog/catalog.ts";
import { encodeKey, keyId } from "../table/keys.ts";
import { isPrimaryKeyTable } from "../table/schema.ts";
import { readScalar } from "../table/columns.ts";
import type { DataFile } from "../iceberg/manifest.ts";
import { defaultSortOrderId } from "../iceberg/metadata.ts";
import type { ManifestEntry } from "../iceberg/manifest-read.ts";
import { fileContent } from "../iceberg/manifest-read.ts";
import { icebergSchema, lakeColumns, positionDeleteColumns } from "../iceberg/schema.ts";
import { gather } from "../arrow/gather.ts";
import { lakeKey, lakeUri } from "./objects.ts";
import { ObjectWriter } from "./object-writer.ts";
import { openDataFile, readRows, rowGroupRanges } from "./parquet-read.ts";
import { describeWritten, streamDataFile } from "./parquet.ts";
import type { LakeOwner } from "./table-layout.ts";
import { bucketFileKey, partitionTuple } from "./table-layout.ts";

export interface CompactionInput {
  /** The data files to rewrite, in the order their rows go (`inOffsetOrder`). */
  inputs: ManifestEntry[];
  /** The bucket's delete files; each applies to the inputs by Iceberg's rules, and all leave with them. */
  deletes: ManifestEntry[];
  targetFileBytes: number;
}

/** A key's position in a new file (an index into the outputs, a row there). */
export interface NewPosition {
  key: Uint8Array;
  file: number;
  pos: number;
}

export async function compactBucket(
  env: Env,
  table: LakeOwner,
  bucket: number,
  sequenceNumber: number,
  input: CompactionInput,
  /** Told each output's R2 key before it is written. */
  journal: (key: string) => void,
  /** Told the new positions of keys as their rows are written (primary-key tables). */
  positioned: (positions: NewPosition[]) => void,
): Promise<DataFile[]> {
  const { definition } = table;
  const columns = lakeColumns(definition);
  const schema = icebergSchema(definition);
  const deleted = await deletedPositions(env, input.deletes);
  const keyed = isPrimaryKeyTable(definition);
  const keyIndexes = definition.primaryKey.map((name) => columns.findIndex((c) => c.name === name));
  const equality = await equalityDeleted(env, input.deletes, table, keyIndexes);
  const batches = liveBatches(env, table, input.inputs, deleted, equality, keyIndexes)[Symbol.asyncIterator]();
  let pending = await batches.next();
  const outputs: DataFile[] = [];
  while (!pending.done) {
    const key = bucketFileKey(table, bucket, sequenceNumber, "data");
    journal(key);
    const file = outputs.length;
    let pos = 0;
    let estimated = 0;
    // One output file: batches until its estimated size reaches the target.
    const take = async function* (): AsyncGenerator<arrow.Data[]> {
      while (!pending.done && (estimated < input.targetFileBytes || pos === 0)) {
        const batch = pending.value;
        if (keyed) {
          const keyColumns = keyIndexes.map((index) => ({ type: columns[index]!.type, data: batch.data[index]! }));
          positioned(Array.from({ length: batch.rowCount }, (_, r) => ({ key: encodeKey(keyColumns, r), file, pos: pos + r })));
        }
        pos += batch.rowCount;
        estimated += batch.estimatedBytes;
        yield batch.data;
        pending = await batches.next();
      }
    };
    const writer = new ObjectWriter(env.LAKE, key);
    let written;
    try {
      written = await streamDataFile(columns, take(), schema, {}, (part) => writer.write(part));
      await writer.close();
    } catch (error) {
      await writer.abort();
      throw error;
    }
    const { metadata: footer } = await openDataFile(env.LAKE, key, writer.size);
    const { metrics, splitOffsets } = describeWritten(footer, columns, written);
    outputs.push({
      content: 0,
      path: lakeUri(env, key),
      recordCount: written.recordCount,
      fileSizeInBytes: writer.size,
      partition: partitionTuple(table, bucket),
      metrics,
      splitOffsets,
      sortOrderId: defaultSortOrderId,
    });
  }
  return outputs;
}

interface LiveBatch {
  rowCount: number;
  data: arrow.Data[];
  /** The share of its row group's compressed bytes its rows had. */
  estimatedBytes: number;
}

/** The inputs' live rows, one row group at a time. */
async function* liveBatches(
  env: Env,
  table: TableEntry,
  inputs: readonly ManifestEntry[],
  deleted: Map<string, { sequenceNumber: number; positions: Set<number> }[]>,
  equality: Map<string, number>,
  keyIndexes: readonly number[],
): AsyncGenerator<LiveBatch> {
  const columns = lakeColumns(table.definition);
  for (const file of inputs) {
    const positions = (deleted.get(file.path) ?? []).filter((d) => d.sequenceNumber >= file.dataSequenceNumber).map((d) => d.positions);
    const parquet = await openDataFile(env.LAKE, lakeKey(env, file.path), file.fileSizeInBytes);
    for (const { rowGroup, rowStart, rowEnd } of rowGroupRanges(parquet)) {
      const data = await readRows(parquet, columns, rowStart, rowEnd);
      const keyColumns = keyIndexes.map((index) => ({ type: columns[index]!.type, data: data[index]! }));
      const live: number[] = [];
      for (let r = 0; r < rowEnd - rowStart; r++) {
        if (positions.some((p) => p.has(rowStart + r))) continue;
        if (equality.size > 0 && (equality.get(keyId(encodeKey(keyColumns, r))) ?? -1) > file.dataSequenceNumber) continue;
        live.push(r);
      }
      if (live.length === 0) continue;
      const rowCount = rowEnd - rowStart;
      yield {
        rowCount: live.length,
        data: live.length === rowCount ? data : data.map((column) => gather([column], live)),
        estimatedBytes: (Number(rowGroup.total_compressed_size ?? rowGroup.total_byte_size) * live.length) / rowCount,
      };
    }
  }
}

/** Per data file, the positions each position-delete file (with its sequence number) removes from it. */
async function deletedPositions(env: Env, deletes: readonly ManifestEntry[]): Promise<Map<string, { sequenceNumber: number; positions: Set<number> }[]>> {
  const byPath = new Map<string, { sequenceNumber: number; positions: Set<number> }[]>();
  for (const file of deletes.filter((f) => f.content === fileContent.positionDeletes)) {
    const parquet = await openDataFile(env.LAKE, lakeKey(env, file.path), file.fileSizeInBytes);
    for (const { rowStart, rowEnd } of rowGroupRanges(parquet)) {
      const [paths, positions] = await readRows(parquet, positionDeleteColumns, rowStart, rowEnd);
      for (let r = 0; r < rowEnd - rowStart; r++) {
        const path = readScalar({ kind: "STRING" }, paths!, r) as string;
        const list = byPath.get(path) ?? byPath.set(path, []).get(path)!;
        let entry = list.find((e) => e.sequenceNumber === file.dataSequenceNumber);
        if (!entry) list.push((entry = { sequenceNumber: file.dataSequenceNumber, positions: new Set() }));
        entry.positions.add(Number(readScalar({ kind: "BIGINT" }, positions!, r)));
      }
    }
  }
  return byPath;
}

/** Per key an equality delete names, the highest sequence number naming it (equality deletes remove rows of lower ones). */
async function equalityDeleted(env: Env, deletes: readonly ManifestEntry[], table: TableEntry, keyIndexes: readonly number[]): Promise<Map<string, number>> {
  const deletedAt = new Map<string, number>();
  const columns = lakeColumns(table.definition);
  const keyColumns = keyIndexes.map((index) => columns[index]!);
  for (const file of deletes.filter((f) => f.content === fileContent.equalityDeletes)) {
    const parquet = await openDataFile(env.LAKE, lakeKey(env, file.path), file.fileSizeInBytes);
    for (const { rowStart, rowEnd } of rowGroupRanges(parquet)) {
      const data = await readRows(parquet, keyColumns, rowStart, rowEnd);
      const key = keyColumns.map((column, i) => ({ type: column.type, data: data[i]! }));
      for (let r = 0; r < rowEnd - rowStart; r++) {
        const id = keyId(encodeKey(key, r));
        deletedAt.set(id, Math.max(deletedAt.get(id) ?? -1, file.dataSequenceNumber));
      }
    }
  }
  return deletedAt;
}
