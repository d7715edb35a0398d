/**
 * Bounds on an untrusted Arrow IPC stream's metadata, checked before
 * apache-arrow decodes any of it.
 *
 * Each IPC message's metadata is a flatbuffer, and apache-arrow's reader
 * loops over every vector in it as long as the vector claims to be: a few
 * patched bytes claiming two billion field nodes make it allocate until the
 * isolate dies. This module reads only the lengths of the vectors that reader
 * loops over, straight from the flatbuffer, and refuses a stream unless:
 *
 * - it is an IPC stream (not a file) of one schema message, then record
 *   batches and dictionary batches;
 * - every message's metadata and body lie inside the stream;
 * - every vector lies inside its message's metadata;
 * - the schema has at most `fieldsMax` fields, none with children (Floe
 *   columns are flat), a record batch at most one field node per field
 *   and three buffers per field, and a dictionary batch one field node and
 *   three buffers, with no variadic buffers;
 * - no message, schema or field carries more than `keyValuesMax` custom
 *   metadata entries.
 */

/** Why a stream's metadata was refused. */
export class MetadataError extends Error {}

const continuationMarker = -1;
/** `ARROW1`, which starts (and ends) the IPC file format. */
const fileMagic = [0x41, 0x52, 0x52, 0x4f, 0x57, 0x31];
const messageHeader = { schema: 1, dictionaryBatch: 2, recordBatch: 3 } as const;
/** Field indexes in the flatbuffer tables of Arrow's `Message.fbs` and `Schema.fbs`. */
const slot = {
  message: { headerType: 1, header: 2, bodyLength: 3, customMetadata: 4 },
  schema: { fields: 1, customMetadata: 2 },
  field: { children: 5, customMetadata: 6 },
  recordBatch: { nodes: 1, buffers: 2, variadicBufferCounts: 4 },
  dictionaryBatch: { data: 1 },
} as const;
/** Bytes per element: a table or string is a 4-byte offset; FieldNode and Buffer are 16-byte structs. */
const offsetBytes = 4;
const structBytes = 16;
const longBytes = 8;

/** Custom metadata entries one message, schema or field may carry; writers put a handful there. */
export const keyValuesMax = 1_000;

export function checkStreamMetadata(stream: Uint8Array, fieldsMax: number): void {
  if (fileMagic.every((byte, i) => stream[i] === byte)) throw new MetadataError("it is an Arrow IPC file; send the IPC stream format");
  const view = new DataView(stream.buffer, stream.byteOffset, stream.byteLength);
  let at = 0;
  for (let messages = 0; at + 4 <= stream.byteLength; messages++) {
    let metadataBytes = view.getInt32(at, true);
    at += 4;
    if (metadataBytes === continuationMarker) {
      if (at + 4 > stream.byteLength) break;
      metadataBytes = view.getInt32(at, true);
      at += 4;
    }
    if (metadataBytes === 0) break; // the end-of-stream marker
    if (metadataBytes < 0 || at + metadataBytes > stream.byteLength) {
      throw new MetadataError(`a message's metadata of ${metadataBytes} bytes at byte ${at} runs past the stream's ${stream.byteLength}`);
    }
    const flatbuffer = new Flatbuffer(new DataView(stream.buffer, stream.byteOffset + at, metadataBytes));
    const bodyBytes = checkMessage(flatbuffer, messages === 0, fieldsMax);
    at += metadataBytes;
    if (bodyBytes < 0 || at + bodyBytes > stream.byteLength) {
      throw new MetadataError(`a message's body of ${bodyBytes} bytes at byte ${at} runs past the stream's ${stream.byteLength}`);
    }
    at += bodyBytes;
  }
}

/** Checks one message's metadata; answers its body's length. */
function checkMessage(flatbuffer: Flatbuffer, first: boolean, fieldsMax: number): number {
  const message = flatbuffer.root();
  flatbuffer.vectorLength(message, slot.message.customMetadata, offsetBytes, keyValuesMax, "custom metadata entries of a message");
  const type = flatbuffer.uint8(message, slot.message.headerType);
  const header = flatbuffer.table(message, slot.message.header);
  const expected = first ? type === messageHeader.schema : type === messageHeader.recordBatch || type === messageHeader.dictionaryBatch;
  if (!expected || header === undefined) {
    throw new MetadataError(first
      ? "it does not start with a schema message"
      : "it holds a message other than a record batch or a dictionary batch after its schema");
  }
  if (first) {
    const fields = flatbuffer.vectorLength(header, slot.schema.fields, offsetBytes, fieldsMax, "fields");
    flatbuffer.vectorLength(header, slot.schema.customMetadata, offsetBytes, keyValuesMax, "custom metadata entries of the schema");
    for (let i = 0; i < fields; i++) {
      const field = flatbuffer.vectorTable(header, slot.schema.fields, i);
      flatbuffer.vectorLength(field, slot.field.children, offsetBytes, 0, `child fields of field ${i} (Floe columns are flat)`);
      flatbuffer.vectorLength(field, slot.field.customMetadata, offsetBytes, keyValuesMax, `custom metadata entries of field ${i}`);
    }
  } else if (type === messageHeader.recordBatch) {
    checkRecordBatch(flatbuffer, header, fieldsMax, "a record batch");
  } else {
    const data = flatbuffer.table(header, slot.dictionaryBatch.data);
    if (data === undefined) throw new MetadataError("a dictionary batch carries no record batch");
    checkRecordBatch(flatbuffer, data, 1, "a dictionary batch");
  }
  return flatbuffer.int64(message, slot.message.bodyLength);
}

function checkRecordBatch(flatbuffer: Flatbuffer, batch: number, fieldsMax: number, what: string): void {
  flatbuffer.vectorLength(batch, slot.recordBatch.nodes, structBytes, fieldsMax, `field nodes of ${what}`);
  flatbuffer.vectorLength(batch, slot.recordBatch.buffers, structBytes, 3 * fieldsMax, `buffers of ${what}`);
  flatbuffer.vectorLength(batch, slot.recordBatch.variadicBufferCounts, longBytes, 0, `variadic buffers of ${what}`);
}

/**
 * Just enough of the flatbuffer format to read a table's scalar fields and
 * its vectors' lengths, with every position checked against the buffer
 * (https://flatbuffers.dev/internals/).
 */
class Flatbuffer {
  private readonly view: DataView;

  constructor(view: DataView) {
    this.view = view;
  }

  root(): number {
    return this.offsetAt(0);
  }

  uint8(table: number, index: number): number {
    const at = this.fieldAt(table, index);
    return at === undefined ? 0 : this.view.getUint8(this.inside(at, 1));
  }

  int64(table: number, index: number): number {
    const at = this.fieldAt(table, index);
    return at === undefined ? 0 : Number(this.view.getBigInt64(this.inside(at, 8), true));
  }

  /** The position of a table-valued field, or undefined when absent. */
  table(table: number, index: number): number | undefined {
    const at = this.fieldAt(table, index);
    return at === undefined ? undefined : this.offsetAt(at);
  }

  /** The length of a vector field (0 when absent), refused past `max` or past the buffer. */
  vectorLength(table: number, index: number, elementBytes: number, max: number, what: string): number {
    const at = this.fieldAt(table, index);
    if (at === undefined) return 0;
    const vector = this.offsetAt(at);
    const length = this.view.getInt32(this.inside(vector, 4), true);
    if (length > max) throw new MetadataError(`it has ${length} ${what}, more than ${max}`);
    this.inside(vector + 4, length * elementBytes);
    return length;
  }

  /** Element `i` of a vector of tables whose length was checked. */
  vectorTable(table: number, index: number, i: number): number {
    const vector = this.offsetAt(this.fieldAt(table, index)!);
    return this.offsetAt(vector + 4 + i * offsetBytes);
  }

  private fieldAt(table: number, index: number): number | undefined {
    const vtable = table - this.view.getInt32(this.inside(table, 4), true);
    const vtableBytes = this.view.getUint16(this.inside(vtable, 2), true);
    const entry = 4 + 2 * index;
    if (entry + 2 > vtableBytes) return undefined;
    const offset = this.view.getUint16(this.inside(vtable + entry, 2), true);
    return offset === 0 ? undefined : table + offset;
  }

  /** The position an offset stored at `at` points to. */
  private offsetAt(at: number): number {
    return this.inside(at + this.view.getInt32(this.inside(at, 4), true), 0);
  }

  private inside(at: number, bytes: number): number {
    if (at < 0 || bytes < 0 || at + bytes > this.view.byteLength) {
      throw new MetadataError(`its metadata points to ${bytes} bytes at ${at}, outside its ${this.view.byteLength} bytes`);
    }
    return at;
  }
}
