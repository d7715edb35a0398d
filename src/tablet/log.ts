/**
 * The Tablet's log: appends Arrow record batches at dense offsets and reads
 * them back by offset.
 *
 * Invariants: offsets are dense and increasing per bucket; `logStartOffset <=
 * highWatermark`; an append is one SQLite transaction (batches, offsets and
 * writer sequence together), so an acknowledged offset is committed and a
 * retried writer sequence is answered from what was committed, never
 * written twice.
 */
import * as queries from "./queries.ts";
import type { TabletOffsets } from "./queries.ts";
import type { LogFrames } from "./frames.ts";

export interface WriterSeq {
  id: string;
  seq: number;
}

export type AppendResult =
  | { kind: "appended"; baseOffset: number; count: number }
  | { kind: "duplicate"; baseOffset: number; count: number }
  | { kind: "out_of_order"; lastSeq: number };

export interface ReadRequest {
  /** The first offset to read; `earliest` is the log start offset. */
  offset: number | "earliest";
  rowsMax: number;
  bytesMax: number;
}

export type ReadResult =
  | {
      kind: "batches";
      /** The first offset read (the request's, with `earliest` resolved). */
      offset: number;
      logStartOffset: number;
      highWatermark: number;
      schemas: Record<number, Uint8Array>;
      batches: queries.StoredBatch[];
    }
  | { kind: "offset_out_of_range"; logStartOffset: number; highWatermark: number };

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

export function readLog(sql: SqlStorage, offsets: TabletOffsets, request: ReadRequest): ReadResult {
  const { logStartOffset, highWatermark } = offsets;
  const offset = request.offset === "earliest" ? logStartOffset : request.offset;
  if (offset < logStartOffset || offset > highWatermark) {
    return { kind: "offset_out_of_range", logStartOffset, highWatermark };
  }
  const batches = offset === highWatermark ? [] : queries.readBatches(sql, offset, request.rowsMax, request.bytesMax);
  const schemas: Record<number, Uint8Array> = {};
  for (const batch of batches) schemas[batch.schemaId] ??= queries.readSchema(sql, batch.schemaId);
  return { kind: "batches", offset, logStartOffset, highWatermark, schemas, batches };
}
