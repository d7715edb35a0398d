/**
 * Arrow IPC messages written straight from columns' buffers: one
 * encapsulated message per record batch (continuation marker, metadata
 * length, the flatbuffer header, then the body), laid out in one array
 * with one copy of each buffer. apache-arrow's stream writer builds a table,
 * visits every column and writes the schema again for each stream; a scan
 * answers one batch per chunk, so it writes its schema once and then only
 * these.
 *
 * Invariant: a body holds, per column in order, its validity bitmap (empty
 * when no row is null), then its value offsets (variable width), then its
 * values or bytes, each starting at a multiple of 8 bytes, as the Arrow
 * columnar format lays them out; readers (apache-arrow, pyarrow) read the
 * stream `schemaMessage + batchMessage* + endOfStream` back exactly.
 */
import * as arrow from "apache-arrow";
import { BufferRegion, FieldNode, Message, RecordBatch } from "apache-arrow/ipc/metadata/message";
import { compact } from "./take.ts";

const continuationMarker = 0xffffffff;

/** The end-of-stream marker: a continuation marker and a zero metadata length. */
export const endOfStream = new Uint8Array([0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0]);

const padded = (bytes: number) => (bytes + 7) & ~7;

/** The schema message of a stream. */
export function schemaMessage(schema: arrow.Schema): Uint8Array {
  return frame(Message.encode(Message.from(schema)), []);
}

/** One record batch of `rowCount` rows as an encapsulated IPC message; the columns must have the stream schema's types. */
export function batchMessage(columns: readonly arrow.Data[], rowCount: number): Uint8Array {
  const nodes: FieldNode[] = [];
  const regions: BufferRegion[] = [];
  const buffers: Uint8Array[] = [];
  let bodyLength = 0;
  const add = (bytes: Uint8Array) => {
    regions.push(new BufferRegion(bodyLength, bytes.byteLength));
    buffers.push(bytes);
    bodyLength += padded(bytes.byteLength);
  };
  for (const column of columns) {
    if (column.length !== rowCount) throw new Error(`arrow batch of ${rowCount} rows given a column of ${column.length}`);
    const data = compact(column);
    const nullCount = data.nullCount;
    nodes.push(new FieldNode(rowCount, nullCount));
    add(nullCount > 0 ? bytesOf(data.nullBitmap!, (rowCount + 7) >> 3) : new Uint8Array(0));
    if (data.valueOffsets) {
      const offsets = data.valueOffsets as Int32Array;
      add(bytesOf(offsets, (rowCount + 1) * 4));
      add(bytesOf(data.values as Uint8Array, offsets[rowCount]!));
    } else if (data.typeId === arrow.Type.Bool) {
      add(bytesOf(data.values as Uint8Array, (rowCount + 7) >> 3));
    } else {
      const values = data.values as ArrayBufferView & { BYTES_PER_ELEMENT: number };
      add(bytesOf(values, rowCount * data.stride * values.BYTES_PER_ELEMENT));
    }
  }
  const header = Message.encode(Message.from(new RecordBatch(rowCount, nodes, regions, null), bodyLength));
  return frame(header, buffers, regions, bodyLength);
}

/** The first `length` bytes of a typed array's memory. */
function bytesOf(view: ArrayBufferView, length: number): Uint8Array {
  if (view.byteLength < length) throw new Error(`arrow buffer of ${view.byteLength} bytes, ${length} needed`);
  return new Uint8Array(view.buffer, view.byteOffset, length);
}

/** Marker, metadata length, metadata padded to 8 bytes, then the body's buffers at their regions. */
function frame(metadata: Uint8Array, buffers: readonly Uint8Array[], regions: readonly BufferRegion[] = [], bodyLength = 0): Uint8Array {
  const metadataLength = padded(8 + metadata.byteLength) - 8;
  const out = new Uint8Array(8 + metadataLength + bodyLength);
  const view = new DataView(out.buffer);
  view.setUint32(0, continuationMarker, true);
  view.setInt32(4, metadataLength, true);
  out.set(metadata, 8);
  const body = 8 + metadataLength;
  buffers.forEach((bytes, i) => out.set(bytes, body + regions[i]!.offset));
  return out;
}
