/**
 * Arrow IPC streams and their frames.
 *
 * The hot log stores each record batch as its encapsulated IPC message
 * without the schema, and each schema once per Tablet, so a one-row write
 * does not pay for a schema message. A stream is `schema message + batch
 * messages + end-of-stream marker`; `splitStream` and `joinStream` convert
 * between the two forms byte for byte (Floe never uses dictionaries, so a
 * stream holds no other messages).
 */
import * as arrow from "apache-arrow";
import { batchMessage, schemaMessage } from "./ipc-write.ts";

export interface StreamFrames {
  schema: Uint8Array;
  batch: Uint8Array;
}

const continuationMarker = 0xffffffff;
const endOfStream = new Uint8Array([0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0]);

/** One record batch with the given columns, as an IPC stream (written straight from their buffers, `ipc-write.ts`). */
export function encodeStream(schema: arrow.Schema, columns: readonly arrow.Data[], length: number): Uint8Array {
  return joinStream(schemaMessage(schema), [batchMessage(columns, length)]);
}

/** Splits a one-batch stream written by `encodeStream` into its schema and batch messages. */
export function splitStream(stream: Uint8Array): StreamFrames {
  const view = new DataView(stream.buffer, stream.byteOffset, stream.byteLength);
  if (stream.byteLength < 16 || view.getUint32(0, true) !== continuationMarker) {
    throw new Error(`arrow stream of ${stream.byteLength} bytes does not start with a schema message`);
  }
  const schemaEnd = 8 + view.getInt32(4, true);
  const batchEnd = stream.byteLength - endOfStream.length;
  if (schemaEnd > batchEnd) throw new Error(`arrow schema message of ${schemaEnd} bytes exceeds stream of ${batchEnd}`);
  return { schema: stream.subarray(0, schemaEnd), batch: stream.subarray(schemaEnd, batchEnd) };
}

/** A complete IPC stream from a schema message and record batch messages. */
export function joinStream(schema: Uint8Array, batches: readonly Uint8Array[]): Uint8Array {
  const total = schema.byteLength + batches.reduce((n, b) => n + b.byteLength, 0) + endOfStream.length;
  const out = new Uint8Array(total);
  out.set(schema, 0);
  let at = schema.byteLength;
  for (const batch of batches) {
    out.set(batch, at);
    at += batch.byteLength;
  }
  out.set(endOfStream, at);
  return out;
}

/** Decodes an IPC stream (or file) into its record batches. */
export function decodeStream(bytes: Uint8Array): arrow.Table {
  return arrow.tableFromIPC(bytes);
}
