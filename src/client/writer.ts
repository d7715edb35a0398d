/**
 * An idempotent writer: one writer id, and a sequence that grows with each
 * request (`Floe-Writer-Id`, `Floe-Writer-Seq`; docs/http-api.md#writing-rows).
 *
 * Invariants: a writer sends one request at a time, in call order, so its
 * sequences reach every bucket in order (a bucket refuses a sequence lower
 * than one it committed); a request that got no answer is sent again with
 * the same sequence, so it is written once, and a request that committed in
 * some buckets only is completed by that retry. After the retries, the
 * error carries `writerSeq`: `write(rows, { seq })` sends it again as the
 * same request.
 */
import * as arrow from "apache-arrow";
import { contentTypes, headers } from "../vocabulary.ts";
import type { Http } from "./http.ts";
import { toJson } from "./http.ts";
import { FloeError } from "./errors.ts";
import type { Row, WriteResult } from "./types.ts";

/** What a write carries: row objects, an apache-arrow Table, or the bytes of an Arrow IPC stream. */
export type Rows = readonly Row[] | arrow.Table | Uint8Array;

export interface WriteOptions {
  /** `delete` deletes the keys the rows carry (primary-key tables). */
  op?: "upsert" | "delete";
  /** A partial update: only these columns (and the key) change (primary-key tables). */
  columns?: string[];
  /** Skip `_offset`, `_timestamp` and `_change` in an Arrow body read from a log or scan. */
  ignoreSystemColumns?: boolean;
  /** Send again a request that failed with this sequence (from `FloeError.writerSeq`), instead of a new one. */
  seq?: number;
  /** Create the partitions the rows name that do not exist (partitioned tables); otherwise such a write is a 404. */
  dynamicPartitions?: boolean;
}

export class Writer {
  readonly id: string;
  private seq = 0;
  private queue: Promise<unknown> = Promise.resolve();
  // Plain fields, not parameter properties: Node runs these sources by stripping types only.
  private readonly http: Http;
  private readonly path: string;

  constructor(http: Http, path: string, id?: string) {
    this.http = http;
    this.path = path;
    this.id = id ?? `floe-client-${crypto.randomUUID()}`;
  }

  /** The last sequence this writer used (0 before its first write). */
  get lastSeq(): number {
    return this.seq;
  }

  write(rows: Rows, options: WriteOptions = {}): Promise<WriteResult> {
    const sent = this.queue.then(() => this.send(rows, options));
    this.queue = sent.catch(() => {});
    return sent;
  }

  private async send(rows: Rows, options: WriteOptions): Promise<WriteResult> {
    if (options.seq !== undefined && (options.seq < 1 || options.seq > this.seq)) {
      throw new FloeError("bad_request", `seq ${options.seq} was never sent by this writer (its last is ${this.seq})`, 0);
    }
    const seq = options.seq ?? ++this.seq;
    const [body, contentType] = encode(rows);
    try {
      const response = await this.http.request("POST", this.path, {
        query: {
          op: options.op === "delete" ? "delete" : undefined,
          columns: options.columns?.join(","),
          ignoreSystemColumns: options.ignoreSystemColumns ? "true" : undefined,
          dynamicPartitions: options.dynamicPartitions ? "true" : undefined,
        },
        body,
        headers: { "content-type": contentType, [headers.writerId]: this.id, [headers.writerSeq]: String(seq) },
        idempotent: true,
      });
      return (await response.json()) as WriteResult;
    } catch (error) {
      if (error instanceof FloeError) error.writerSeq = seq;
      throw error;
    }
  }
}

function encode(rows: Rows): [string | Uint8Array, string] {
  if (rows instanceof Uint8Array) return [rows, contentTypes.arrowStream];
  if (isArrowTable(rows)) return [arrow.tableToIPC(rows, "stream"), contentTypes.arrowStream];
  return [toJson(rows), contentTypes.json];
}

/** An apache-arrow Table, also one made by another copy of apache-arrow than the client's. */
function isArrowTable(rows: Rows): rows is arrow.Table {
  if (rows instanceof arrow.Table) return true;
  const candidate = rows as unknown as Partial<arrow.Table>;
  return !Array.isArray(rows) && typeof candidate.schema === "object" && Array.isArray(candidate.batches);
}
