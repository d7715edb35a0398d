/**
 * Hand-patched Arrow IPC streams, for tests of what a lying or broken writer
 * sends: where a one-batch stream keeps its record batch's field nodes,
 * buffer regions and body, so a test can rewrite them byte by byte.
 */
import * as arrow from "apache-arrow";

export interface RecordBatchLayout {
  /** Each field node: where in the stream its `length` and `null_count` (int64 each, in that order) lie, and their values. */
  nodes: { at: number; length: number; nullCount: number }[];
  /** Each buffer region: where in the stream its `offset` and `length` (int64 each) lie, and their values. */
  buffers: { at: number; offset: number; length: number }[];
  /** Where the batch's body starts in the stream; buffer offsets count from here. */
  bodyAt: number;
}

/** The layout of the first record batch of `stream`, which must start with its schema message. */
export function recordBatchLayout(stream: Uint8Array): RecordBatchLayout {
  const view = new DataView(stream.buffer, stream.byteOffset, stream.byteLength);
  const batchAt = 8 + view.getInt32(4, true); // past the schema message, which has no body
  const metadataAt = batchAt + 8;
  const metadata = stream.subarray(metadataAt, metadataAt + view.getInt32(batchAt + 4, true));
  const message = arrow.Message.decode(metadata);
  if (!message.isRecordBatch()) throw new Error("the stream's second message is not a record batch");
  const header = message.header();
  // Both lists are vectors of 16-byte structs in the flatbuffer: find each by its exact bytes.
  const find = (pairs: [number, number][]): number => {
    const bytes = new Uint8Array(pairs.length * 16);
    const out = new DataView(bytes.buffer);
    pairs.forEach(([a, b], i) => {
      out.setBigInt64(i * 16, BigInt(a), true);
      out.setBigInt64(i * 16 + 8, BigInt(b), true);
    });
    const at = indexOf(metadata, bytes);
    if (at < 0 || indexOf(metadata, bytes, at + 1) >= 0) throw new Error("cannot locate a record batch vector unambiguously");
    return metadataAt + at;
  };
  const nodesAt = find(header.nodes.map((n) => [n.length, n.nullCount]));
  const buffersAt = find(header.buffers.map((b) => [b.offset, b.length]));
  return {
    nodes: header.nodes.map((n, i) => ({ at: nodesAt + i * 16, length: n.length, nullCount: n.nullCount })),
    buffers: header.buffers.map((b, i) => ({ at: buffersAt + i * 16, offset: b.offset, length: b.length })),
    bodyAt: metadataAt + metadata.byteLength,
  };
}

/** A copy of `stream` with the int64 at `at` set to `value`. */
export function withInt64(stream: Uint8Array, at: number, value: number | bigint): Uint8Array {
  const patched = stream.slice();
  new DataView(patched.buffer).setBigInt64(at, BigInt(value), true);
  return patched;
}

/** A copy of `stream` with `bytes` written at `at`. */
export function withBytes(stream: Uint8Array, at: number, bytes: ArrayLike<number>): Uint8Array {
  const patched = stream.slice();
  patched.set(bytes, at);
  return patched;
}

function indexOf(haystack: Uint8Array, needle: Uint8Array, from = 0): number {
  outer: for (let i = from; i + needle.length <= haystack.length; i++) {
    for (let j = 0; j < needle.length; j++) if (haystack[i + j] !== needle[j]) continue outer;
    return i;
  }
  return -1;
}
