/**
 * Streamed answers: a scan's rows (NDJSON, one object per line) or record
 * batches (an Arrow IPC stream), read as they arrive, so a table never has
 * to fit in memory. A `Scan` is an async iterable; breaking out of the loop
 * (or `cancel()`) cancels the body. Its read point (`snapshotId`, and each
 * bucket's end `offsets`, where a subscription continues) comes with the
 * answer's headers, before the first row.
 */
import * as arrow from "apache-arrow";
import { headers } from "../vocabulary.ts";
import type { Offsets } from "../protocol/subscription.ts";
import type { Row } from "./types.ts";

export interface ScanOptions {
  /** `union` (default): the lake and the Tablets as one table; `lake` or `hot` alone. */
  source?: "union" | "lake" | "hot";
  columns?: string[];
  /** Predicates joined with AND, e.g. `user = 'ann' AND id >= 2` (docs/scans.md#filters). */
  filter?: string;
  limit?: number;
  /** A lake snapshot id (from `snapshots()`): time travel. */
  snapshot?: number;
  /** Only this partition of a partitioned table (its spec, e.g. `dt=20261130`). */
  partition?: string;
}

export class Scan<T> implements AsyncIterable<T> {
  /** The lake snapshot read, or null when none was. */
  readonly snapshotId: number | null;
  /**
   * Each bucket's exclusive end offset (a partitioned table's: per partition, then per bucket):
   * subscribe `from: { offsets }` to continue with no gap.
   */
  readonly offsets: Offsets;
  private readonly items: AsyncIterable<T>;
  private readonly body: ReadableStream<Uint8Array> | null;

  constructor(response: Response, items: (body: ReadableStream<Uint8Array>) => AsyncIterable<T>) {
    const snapshot = response.headers.get(headers.lakeSnapshot);
    this.snapshotId = snapshot === null ? null : Number(snapshot);
    this.offsets = JSON.parse(response.headers.get(headers.scanOffsets) ?? "{}") as Offsets;
    this.body = response.body;
    this.items = this.body === null ? empty<T>() : items(this.body);
  }

  [Symbol.asyncIterator](): AsyncIterator<T> {
    return this.items[Symbol.asyncIterator]();
  }

  /** Every item, collected (for answers that fit in memory). */
  async toArray(): Promise<T[]> {
    const out: T[] = [];
    for await (const item of this) out.push(item);
    return out;
  }

  /** Stops reading: the rest of the body is never fetched. */
  async cancel(): Promise<void> {
    await this.body?.cancel().catch(() => {});
  }
}

async function* empty<T>(): AsyncGenerator<T> {}

/** One JSON value per line of an NDJSON body, parsed as each line completes. */
export async function* ndjsonRows(body: ReadableStream<Uint8Array>): AsyncGenerator<Row> {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let pending = "";
  let done = false;
  try {
    while (!done) {
      const chunk = await reader.read();
      done = chunk.done;
      pending += done ? decoder.decode() : decoder.decode(chunk.value, { stream: true });
      const lines = pending.split("\n");
      pending = lines.pop()!;
      for (const line of lines) if (line !== "") yield JSON.parse(line) as Row;
    }
    if (pending.trim() !== "") yield JSON.parse(pending) as Row;
  } finally {
    // Leaving the loop early (break, an error) stops the transfer.
    if (!done) await reader.cancel().catch(() => {});
    reader.releaseLock();
  }
}

/** The record batches of an Arrow IPC stream body, decoded as each arrives; an answer of no rows is one empty batch, with the schema. */
export async function* arrowBatches(body: ReadableStream<Uint8Array>): AsyncGenerator<arrow.RecordBatch> {
  const reader = await arrow.RecordBatchReader.from(chunks(body));
  let any = false;
  for await (const batch of reader) {
    any = true;
    yield batch;
  }
  if (!any && reader.schema) yield new arrow.RecordBatch(reader.schema);
}

/** A body's chunks as an async iterable (Node 20's web streams are not async iterable in every version). */
async function* chunks(body: ReadableStream<Uint8Array>): AsyncGenerator<Uint8Array> {
  const reader = body.getReader();
  let done = false;
  try {
    while (!done) {
      const chunk = await reader.read();
      done = chunk.done;
      if (!chunk.done) yield chunk.value;
    }
  } finally {
    if (!done) await reader.cancel().catch(() => {});
    reader.releaseLock();
  }
}
