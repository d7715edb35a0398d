/**
 * The Tablet's log: appends Arrow record batches at dense offsets and reads
 * them back by offset as log pages.
 *
 * Invariants: offsets are dense and increasing per bucket; `logStartOffset <=
 * highWatermark`; an append is one SQLite transaction (batches, offsets and
 * writer sequence together), so an acknowledged offset is committed and a
 * retried writer sequence is answered from what was committed, never
 * written twice.
 */
import type * as arrow from "apache-arrow";
import { decodeStream, joinStream } from "../arrow/ipc.ts";
import { takeRows } from "../arrow/take.ts";
import type { ColumnBatch } from "../arrow/batch.ts";
import { changeColumnName } from "../table/change-type.ts";
import type { Column } from "../table/schema.ts";
import type { Predicate } from "../table/predicate.ts";
import { selectRows } from "../table/predicate.ts";
import type { LogFrames } from "../log/frames.ts";
import type { LogPage } from "../log/page.ts";
import { pageColumns, systemColumnData } from "../log/page.ts";
import type { AppendResult, WriterSeq } from "./contract.ts";
import * as queries from "./queries.ts";
import type { TabletOffsets } from "./queries.ts";

/** How many recent sequences per writer are remembered for retries. */
export const writerSeqWindow = 8;
/** A writer silent this long is forgotten; its next sequence starts afresh. */
export const writerIdleMs = 7 * 86_400_000;

/** The answer for a writer sequence this Tablet has already seen, if it has. */
export function previousAnswer(sql: SqlStorage, writer: WriterSeq | undefined): AppendResult | undefined {
  if (!writer) return undefined;
  const previous = queries.findWriterBatch(sql, writer.id, writer.seq);
  if (previous) return { kind: "duplicate", baseOffset: previous.baseOffset, count: previous.recordCount };
  const lastSeq = queries.lastWriterSeq(sql, writer.id);
  if (lastSeq !== undefined && writer.seq < lastSeq) return { kind: "out_of_order", lastSeq };
  return undefined;
}

/**
 * Appends frames at the high watermark and records the writer sequence,
 * inside the caller's transaction; returns the offsets to adopt once it commits.
 */
export function appendFrames(
  sql: SqlStorage,
  offsets: TabletOffsets,
  frames: LogFrames,
  writer: WriterSeq | undefined,
  nowMs: number,
): { result: AppendResult; offsets: TabletOffsets } {
  const commitMs = Math.max(nowMs, offsets.lastCommitMs);
  const baseOffset = offsets.highWatermark;
  let next = baseOffset;
  if (frames.batches.length > 0) {
    const schemaId = queries.findSchemaId(sql, frames.schema) ?? queries.insertSchema(sql, frames.schema);
    for (const batch of frames.batches) {
      queries.insertBatch(sql, { baseOffset: next, recordCount: batch.recordCount, commitMs, schemaId, ipcBatch: batch.ipcBatch });
      next += batch.recordCount;
    }
  }
  const count = next - baseOffset;
  const updated = { ...offsets, highWatermark: next, lastCommitMs: commitMs };
  queries.writeOffsets(sql, updated);
  if (writer) {
    queries.insertWriterBatch(sql, writer.id, { seq: writer.seq, baseOffset, recordCount: count }, commitMs);
    queries.pruneWriterBatches(sql, writer.id, writerSeqWindow, commitMs - writerIdleMs);
  }
  return { result: { kind: "appended", baseOffset, count }, offsets: updated };
}

export interface PageRequest {
  /** The first offset to read; `earliest` is the log start offset. */
  offset: number | "earliest";
  rowsMax: number;
  bytesMax: number;
  columns: readonly Column[];
  /** Only rows satisfying every predicate (on any of the table's columns); every row when absent. */
  filter?: readonly Predicate[];
}

/**
 * The rows of at most `rowsMax` offsets from `offset`, and about `bytesMax`
 * bytes of stored Arrow (a batch that would pass it is cut in proportion,
 * keeping at least one offset per page), that satisfy the filter,
 * projected to the asked columns; null when `offset` is outside the log.
 * The page covers those offsets whether or not a row matched (its
 * `nextOffset`). Stored batches that lie whole inside the range and match
 * whole pass through without copying.
 */
export function readPage(sql: SqlStorage, offsets: TabletOffsets, bucket: number, request: PageRequest): LogPage | null {
  const { logStartOffset, highWatermark } = offsets;
  const from = request.offset === "earliest" ? logStartOffset : request.offset;
  if (from < logStartOffset || from > highWatermark) return null;
  const stored = from === highWatermark ? [] : queries.readBatches(sql, from, request.rowsMax, request.bytesMax);
  const schemas = new Map<number, Uint8Array>();
  const end = Math.min(highWatermark, from + request.rowsMax);
  const batches: ColumnBatch[] = [];
  let covered = 0;
  let rowCount = 0;
  let bytes = 0;
  for (const batch of stored) {
    const first = Math.max(from, batch.baseOffset);
    const size = batch.ipcBatch.byteLength;
    const affordable = bytes + size <= request.bytesMax ? batch.recordCount : Math.floor((batch.recordCount * (request.bytesMax - bytes)) / size);
    const last = Math.min(end, batch.baseOffset + batch.recordCount, first + Math.max(affordable, covered === 0 ? 1 : 0));
    if (last <= first) break;
    bytes += size;
    if (!schemas.has(batch.schemaId)) schemas.set(batch.schemaId, queries.readSchema(sql, batch.schemaId));
    const decoded = decodeStream(joinStream(schemas.get(batch.schemaId)!, [batch.ipcBatch]));
    const column = (name: string) => {
      const child = decoded.getChild(name);
      if (!child) throw new Error(`stored batch at offset ${batch.baseOffset} has no column '${name}'`);
      return child.data[0]!;
    };
    covered += last - first;
    const rows = batchRows(first - batch.baseOffset, last - batch.baseOffset, batch.recordCount, request.filter, (c) => column(c.name));
    const count = rows ? rows.length : batch.recordCount;
    if (count === 0) continue;
    const pick = (data: arrow.Data) => (rows ? takeRows(data, rows) : data);
    const columns = request.columns.map((c) => pick(column(c.name)));
    const changeCodes = decoded.getChild(changeColumnName)?.data[0];
    const codes = changeCodes && (pick(changeCodes).values as Int8Array);
    columns.push(...systemColumnData(batch.baseOffset, count, batch.commitMs, codes, rows));
    batches.push({ rowCount: count, columns });
    rowCount += count;
  }
  return { bucket, logStartOffset, highWatermark, nextOffset: from + covered, columns: pageColumns(request.columns), rowCount, batches };
}

/**
 * The rows of a stored batch of `recordCount` rows within `[begin, end)`
 * that satisfy `filter`, as indexes; undefined when that is every row.
 */
function batchRows(begin: number, end: number, recordCount: number, filter: readonly Predicate[] | undefined, column: (c: Column) => arrow.Data): Int32Array | undefined {
  const selected = filter && filter.length > 0 ? selectRows(filter, column, recordCount) : undefined;
  if (begin === 0 && end === recordCount) return selected;
  if (!selected) return Int32Array.from({ length: end - begin }, (_, i) => begin + i);
  return selected.filter((row) => row >= begin && row < end);
}
