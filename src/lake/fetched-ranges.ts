/**
 * Byte ranges of one R2 object, fetched with range reads and held in
 * memory: how Parquet readers see a lake file without downloading it.
 * hyparquet reads it as an `AsyncBuffer`, parquet-wasm as a Blob look-alike
 * (`size` and `slice(start, end).arrayBuffer()`, all its async reader uses).
 *
 * Invariant: a read of bytes not held fetches and then holds them, so every
 * read succeeds or fails in JavaScript; callers fetch what parquet-wasm will
 * ask for beforehand (`fetch`), because a failed read inside parquet-wasm
 * panics its instance. `unplannedReads` counts the reads that were not.
 */
import { removedObject } from "./objects.ts";
import type { AsyncBuffer } from "hyparquet";
import type { ByteRange } from "./parquet-footer.ts";

/** Ranges closer than this are fetched as one read: fewer R2 operations for a few wasted bytes. */
const coalesceGapBytes = 64 * 1024;

interface Held {
  start: number;
  bytes: Uint8Array;
}

export class FetchedRanges {
  readonly bucket: R2Bucket;
  readonly key: string;
  readonly byteLength: number;
  unplannedReads = 0;
  private readonly held: Held[];

  private constructor(bucket: R2Bucket, key: string, byteLength: number, held: Held[]) {
    this.bucket = bucket;
    this.key = key;
    this.byteLength = byteLength;
    this.held = held;
  }

  static of(bucket: R2Bucket, key: string, byteLength: number): FetchedRanges {
    return new FetchedRanges(bucket, key, byteLength, []);
  }

  /** A view sharing what is held now; what it fetches later stays its own (one read's column chunks). */
  extend(): FetchedRanges {
    return new FetchedRanges(this.bucket, this.key, this.byteLength, [...this.held]);
  }

  /** Fetches the parts of `wanted` not held yet, nearby ranges in one read each, all reads at once. */
  async fetch(wanted: readonly ByteRange[]): Promise<void> {
    const missing = wanted.filter((r) => r.end > r.start && !this.covers(r.start, r.end)).sort((a, b) => a.start - b.start);
    const reads: ByteRange[] = [];
    for (const range of missing) {
      const last = reads.at(-1);
      if (last && range.start - last.end <= coalesceGapBytes) last.end = Math.max(last.end, range.end);
      else reads.push({ ...range });
    }
    const fetched = await Promise.all(reads.map(async (r) => ({ start: r.start, bytes: await this.get(r.start, r.end) })));
    this.held.push(...fetched);
  }

  /** Bytes `[start, end)` as a new ArrayBuffer. */
  async read(start: number, end: number): Promise<ArrayBuffer> {
    if (start < 0 || end > this.byteLength || start > end) {
      throw new Error(`lake file ${this.key}: bytes ${start}..${end} are outside its ${this.byteLength}`);
    }
    if (!this.covers(start, end)) {
      this.unplannedReads++;
      this.held.push({ start, bytes: await this.get(start, end) });
    }
    return this.copy(start, end);
  }

  /** The object as hyparquet's file interface. */
  asyncBuffer(): AsyncBuffer {
    return { byteLength: this.byteLength, slice: (start, end = this.byteLength) => this.read(start, end) };
  }

  /** The object as the Blob parquet-wasm's `ParquetFile.fromFile` reads through. */
  blob(): Blob {
    const like = { size: this.byteLength, slice: (start: number, end: number) => ({ arrayBuffer: () => this.read(start, end) }) };
    return like as unknown as Blob;
  }

  /** Whether held ranges together cover `[start, end)`. */
  private covers(start: number, end: number): boolean {
    let at = start;
    for (const { start: s, bytes } of [...this.held].sort((a, b) => a.start - b.start)) {
      if (s <= at && s + bytes.length > at) at = s + bytes.length;
      if (at >= end) return true;
    }
    return at >= end;
  }

  private copy(start: number, end: number): ArrayBuffer {
    const out = new Uint8Array(end - start);
    for (const { start: s, bytes } of this.held) {
      const from = Math.max(start, s);
      const to = Math.min(end, s + bytes.length);
      if (from < to) out.set(bytes.subarray(from - s, to - s), from - start);
    }
    return out.buffer;
  }

  private async get(start: number, end: number): Promise<Uint8Array> {
    const object = await this.bucket.get(this.key, { range: { offset: start, length: end - start } });
    if (!object) throw removedObject(this.key);
    const bytes = new Uint8Array(await object.arrayBuffer());
    if (bytes.length !== end - start) throw new Error(`lake file ${this.key}: asked bytes ${start}..${end}, R2 gave ${bytes.length}`);
    return bytes;
  }
}
