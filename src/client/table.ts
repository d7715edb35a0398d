/**
 * One table, as the client sees it: create, describe and drop it; write
 * (through an idempotent `Writer`), look up keys and prefixes, read a
 * bucket's log, scan, list lake snapshots, subscribe; list, create and
 * drop a partitioned table's partitions (docs/partitions.md). Every call
 * is one HTTP request (docs/http-api.md), except `readLog` and
 * `allPartitions`, which page.
 */
import * as arrow from "apache-arrow";
import { headers } from "../vocabulary.ts";
import type { Http } from "./http.ts";
import type { Rows, WriteOptions } from "./writer.ts";
import { Writer } from "./writer.ts";
import type { ScanOptions } from "./scan.ts";
import { Scan, arrowBatches, ndjsonRows } from "./scan.ts";
import type { SubscribeOptions, Subscription } from "./subscribe.ts";
import { subscribe } from "./subscribe.ts";
import type { LogPage, PartitionPage, PartitionStatus, PartitionSummary, Row, Snapshots, TableDefinition, TableDescription, TableSummary, WriteResult } from "./types.ts";

export interface LogOptions {
  /** The partition whose bucket to read (its spec, e.g. `dt=20261130`); a partitioned table needs it. */
  partition?: string;
  bucket: number;
  /** Defaults to the bucket's log start. */
  offset?: number;
  /** 1..10,000 (default 1,000). */
  limit?: number;
  columns?: string[];
}

/** A log page as Arrow: the rows with their `_offset`, `_timestamp` and `_change`, and where to continue. */
export interface ArrowLogPage {
  table: arrow.Table;
  nextOffset: number;
  highWatermark: number;
  logStartOffset: number;
}

export class Table {
  readonly database: string;
  readonly name: string;
  private readonly http: Http;
  private defaultWriter: Writer | undefined;

  constructor(http: Http, database: string, name: string) {
    this.http = http;
    this.database = database;
    this.name = name;
  }

  private get path(): string {
    return `/databases/${encodeURIComponent(this.database)}/tables/${encodeURIComponent(this.name)}`;
  }

  /** Creates the table (201), or answers the identical one that exists (200); a different one is a 409 conflict. */
  async create(definition: TableDefinition): Promise<TableSummary & { created: boolean }> {
    return this.http.json("PUT", this.path, definition);
  }

  /** Columns with ids, keys, buckets and properties, each bucket's offsets, and the lake snapshot. */
  async describe(): Promise<TableDescription> {
    return this.http.json("GET", this.path);
  }

  async drop(): Promise<{ dropped: boolean }> {
    return this.http.json("DELETE", this.path);
  }

  /** A writer of its own: its requests go one at a time, so writers run in parallel. */
  writer(id?: string): Writer {
    return new Writer(this.http, `${this.path}/rows`, id);
  }

  /**
   * Appends (log tables) or upserts (primary-key tables) rows, through this
   * table handle's own writer: idempotent and retried (see `Writer`), one
   * request at a time. At most 100,000 rows and 16 MiB per call.
   */
  async write(rows: Rows, options?: WriteOptions): Promise<WriteResult> {
    this.defaultWriter ??= this.writer();
    return this.defaultWriter.write(rows, options);
  }

  /** Deletes the keys the rows carry (primary-key tables). */
  async delete(keys: readonly Row[]): Promise<WriteResult> {
    return this.write(keys, { op: "delete" });
  }

  /** The current row of each primary key, in key order; null where a key has none. At most 1,000 keys. */
  async lookup(keys: readonly Row[]): Promise<(Row | null)[]> {
    const answer = await this.http.json<{ rows: (Row | null)[] }>("POST", `${this.path}/lookup`, { keys }, { idempotent: true });
    return answer.rows;
  }

  /** The rows under a bucket-key prefix, in key order, up to `limit` (default 1,000, at most 10,000). */
  async lookupPrefix(prefix: Row, options: { limit?: number } = {}): Promise<{ rows: Row[]; truncated: boolean }> {
    return this.http.json("POST", `${this.path}/lookup`, { prefix, limit: options.limit }, { idempotent: true });
  }

  /** One page of a bucket's log (a primary-key table's changelog), as JSON rows. */
  async log(options: LogOptions): Promise<LogPage> {
    const response = await this.http.request("GET", `${this.path}/log`, { query: logQuery(options, "json"), idempotent: true });
    return (await response.json()) as LogPage;
  }

  /** One page of a bucket's log as an Arrow table. */
  async logArrow(options: LogOptions): Promise<ArrowLogPage> {
    const response = await this.http.request("GET", `${this.path}/log`, { query: logQuery(options, "arrow"), idempotent: true });
    const number = (name: string) => Number(response.headers.get(name));
    return {
      table: arrow.tableFromIPC(new Uint8Array(await response.arrayBuffer())),
      nextOffset: number(headers.nextOffset),
      highWatermark: number(headers.highWatermark),
      logStartOffset: number(headers.logStartOffset),
    };
  }

  /** Every row of a bucket's log from `offset` (default: its start) up to the high watermark it finds, page by page. */
  async *readLog(options: Omit<LogOptions, "limit"> & { pageRows?: number }): AsyncGenerator<Row> {
    let offset = options.offset;
    for (;;) {
      const page = await this.log({ partition: options.partition, bucket: options.bucket, offset, limit: options.pageRows ?? 10_000, columns: options.columns });
      yield* page.rows;
      if (page.nextOffset >= page.highWatermark) return;
      offset = page.nextOffset;
    }
  }

  /** Every row (a primary-key table: every key's current row), streamed as row objects. */
  async scan(options: ScanOptions = {}): Promise<Scan<Row>> {
    const response = await this.http.request("GET", `${this.path}/scan`, { query: scanQuery(options, "ndjson"), idempotent: true });
    return new Scan(response, ndjsonRows);
  }

  /** The same rows as Arrow record batches, streamed. */
  async scanBatches(options: ScanOptions = {}): Promise<Scan<arrow.RecordBatch>> {
    const response = await this.http.request("GET", `${this.path}/scan`, { query: scanQuery(options, "arrow"), idempotent: true });
    return new Scan(response, arrowBatches);
  }

  /** The table's lake snapshots, each with its buckets' end offsets, file and record counts. */
  async snapshots(): Promise<Snapshots> {
    return this.http.json("GET", `${this.path}/snapshots`);
  }

  /** Creates a partition by its spec (`dt=20261130`, `region=eu/dt=20261130`); `created` is false when it existed. */
  async createPartition(spec: string): Promise<PartitionSummary & { created: boolean }> {
    return this.http.json("PUT", this.partitionPath(spec));
  }

  /** Drops a partition and all its rows from the hot tier (its lake rows stay). */
  async dropPartition(spec: string): Promise<{ partition: string; partitionId: number; dropped: boolean }> {
    return this.http.json("DELETE", this.partitionPath(spec));
  }

  /** One answer of the partition list, in spec order, from `cursor` (a previous answer's `next`). */
  async partitions(options: { cursor?: string } = {}): Promise<PartitionPage> {
    return this.http.json("GET", `${this.path}/partitions`, undefined, { query: { cursor: options.cursor }, idempotent: true });
  }

  /** Every partition with all its buckets' offsets, answer after answer; a partition split over two answers comes whole. */
  async *allPartitions(): AsyncGenerator<PartitionStatus> {
    let pending: PartitionStatus | undefined;
    let cursor: string | undefined;
    do {
      const page = await this.partitions({ cursor });
      for (const partition of page.partitions) {
        if (pending?.partition === partition.partition) {
          pending.buckets.push(...partition.buckets);
          continue;
        }
        if (pending) yield pending;
        pending = partition;
      }
      cursor = page.next ?? undefined;
    } while (cursor !== undefined);
    if (pending) yield pending;
  }

  /** A spec's pairs as path segments: `/` stays a separator, which the route takes as it is. */
  private partitionPath(spec: string): string {
    return `${this.path}/partitions/${spec.split("/").map(encodeURIComponent).join("/")}`;
  }

  /**
   * Follows the table over a WebSocket from `from`, with automatic resume
   * (docs/subscriptions.md); the client's token goes as a subprotocol. A
   * partitioned table is followed in the partition `partition` names, or
   * in every partition (docs/client.md#partitioned-tables).
   */
  subscribe(options: Omit<SubscribeOptions, "url" | "token">): Subscription {
    const url = this.http.url(`${this.path}/subscribe`).replace(/^http/, "ws");
    return subscribe({ ...options, url, token: this.http.token });
  }
}

function logQuery(options: LogOptions, format: "json" | "arrow") {
  return { partition: options.partition, bucket: options.bucket, offset: options.offset, limit: options.limit, columns: options.columns?.join(","), format };
}

function scanQuery(options: ScanOptions, format: "ndjson" | "arrow") {
  return {
    source: options.source,
    columns: options.columns?.join(","),
    filter: options.filter,
    limit: options.limit,
    snapshot: options.snapshot,
    partition: options.partition,
    format,
  };
}

