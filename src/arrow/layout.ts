/**
 * An untrusted Arrow IPC stream's record batches checked against the Arrow
 * columnar format's physical layout, for flat (non-nested) fields. Their
 * metadata was bounded first (`metadata.ts`).
 *
 * apache-arrow's reader trusts what a stream declares: it drops a validity
 * bitmap when the field node declares no nulls (so a null reads as whatever
 * bytes lie under it), cuts a buffer that points past the body to what is
 * there, and takes any bytes as UTF-8. Floe stores what it is sent and serves
 * it again, so before using a stream's data it checks, for every record batch
 * and field:
 *
 * - the batch has one field node per field, each as long as the batch;
 * - every buffer lies inside the batch's body;
 * - a validity bitmap covers every row and marks exactly the declared null
 *   count (no bitmap: no nulls declared);
 * - fixed-width values cover every row; offsets (32- or 64-bit) cover every
 *   row, never run backwards and end inside the data;
 * - every non-null Utf8 or LargeUtf8 value is UTF-8;
 * - a dictionary batch belongs to a dictionary-encoded field, its values are
 *   checked as above, and every non-null index of a record batch lies in
 *   its field's dictionary as the batches before it left it.
 */
import * as arrow from "apache-arrow";

/** A flaw in a stream; `field` (an index into the stream's schema) and `row` (across batches) say where, when known. */
export class LayoutError extends Error {
  constructor(
    message: string,
    readonly field?: number,
    readonly row?: number,
  ) {
    super(message);
  }
}

type RecordBatchHeader = ReturnType<arrow.Message<arrow.MessageHeader.RecordBatch>["header"]>;

const strictUtf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: false });

/**
 * Checks every record batch of a stream that passed `checkStreamMetadata`
 * (one schema message, then record batches) and whose fields all have types
 * Floe stores; throws `LayoutError`.
 */
export function checkStreamLayout(stream: Uint8Array): void {
  const reader = new arrow.MessageReader(stream);
  const fields = reader.readSchema(true)!.fields;
  const dictionaries = dictionariesOf(fields);
  let firstRow = 0;
  for (;;) {
    const message = reader.readMessage();
    if (message === null) return;
    const body = reader.readMessageBody(message.bodyLength);
    if (message.isDictionaryBatch()) {
      checkDictionaryBatch(message.header(), body, dictionaries);
      continue;
    }
    if (!message.isRecordBatch()) throw new LayoutError(`a message of type ${arrow.MessageHeader[message.headerType]} follows the schema`);
    const batch = message.header();
    checkRecordBatch(batch, body, fields, firstRow, dictionaries);
    firstRow += batch.length;
  }
}

/** A dictionary-encoded field: its index in the schema, its values' type, and how many values it holds so far. */
interface DictionaryState {
  field: number;
  type: arrow.DataType;
  length: number;
}

function dictionariesOf(fields: readonly arrow.Field[]): Map<number, DictionaryState> {
  const dictionaries = new Map<number, DictionaryState>();
  fields.forEach((field, f) => {
    const type = field.type as arrow.DataType;
    if (arrow.DataType.isDictionary(type)) dictionaries.set(type.id, { field: f, type: type.dictionary, length: 0 });
  });
  return dictionaries;
}

type DictionaryBatchHeader = ReturnType<arrow.Message<arrow.MessageHeader.DictionaryBatch>["header"]>;

/** A dictionary batch's values, checked as a one-field record batch; a delta adds to the dictionary, else replaces it. */
function checkDictionaryBatch(header: DictionaryBatchHeader, body: Uint8Array, dictionaries: Map<number, DictionaryState>): void {
  const dictionary = dictionaries.get(header.id);
  if (dictionary === undefined) throw new LayoutError(`a dictionary batch has id ${header.id}, which no field uses`);
  try {
    checkRecordBatch(header.data, body, [new arrow.Field("dictionary", dictionary.type, true)], 0, new Map());
  } catch (error) {
    if (!(error instanceof LayoutError)) throw error;
    throw new LayoutError(`its dictionary${error.row === undefined ? "" : ` (value ${error.row})`}: ${error.message}`, dictionary.field);
  }
  dictionary.length = (header.isDelta ? dictionary.length : 0) + header.data.length;
}

function checkRecordBatch(batch: RecordBatchHeader, body: Uint8Array, fields: readonly arrow.Field[], firstRow: number, dictionaries: Map<number, DictionaryState>): void {
  const rows = batch.length;
  if (!Number.isSafeInteger(rows) || rows < 0) throw new LayoutError(`a record batch declares ${rows} rows`);
  if (batch.nodes.length !== fields.length) {
    throw new LayoutError(`a record batch has ${batch.nodes.length} field nodes for ${fields.length} fields`);
  }
  let nextBuffer = 0;
  const takeBuffer = (field: number): Uint8Array => {
    const region = batch.buffers[nextBuffer++];
    if (region === undefined) throw new LayoutError(`a record batch has ${batch.buffers.length} buffers, too few for its fields`, field);
    const { offset, length } = region;
    if (offset < 0 || length < 0 || offset + length > body.byteLength) {
      throw new LayoutError(`a buffer of ${length} bytes at ${offset} lies outside the record batch's body of ${body.byteLength} bytes`, field);
    }
    return body.subarray(offset, offset + length);
  };
  fields.forEach((field, f) => {
    const node = batch.nodes[f]!;
    if (node.length !== rows) throw new LayoutError(`the field node holds ${node.length} rows, but the record batch ${rows}`, f);
    const validity = takeBuffer(f);
    checkValidity(validity, rows, node.nullCount, f, firstRow);
    const type = field.type as arrow.DataType;
    const large = arrow.DataType.isLargeUtf8(type) || arrow.DataType.isLargeBinary(type);
    if (large || arrow.DataType.isUtf8(type) || arrow.DataType.isBinary(type)) {
      const offsets = takeBuffer(f);
      const data = takeBuffer(f);
      const ends = checkOffsets(offsets, data, rows, f, firstRow, large ? 8 : 4);
      if (arrow.DataType.isUtf8(type) || arrow.DataType.isLargeUtf8(type)) checkUtf8(data, ends, validity, node.nullCount, f, firstRow);
      return;
    }
    if (arrow.DataType.isDictionary(type)) {
      const indices = takeBuffer(f);
      const dictionary = dictionaries.get(type.id)!;
      checkIndices(indices, type.indices, rows, validity, node.nullCount, dictionary.length, f, firstRow);
      return;
    }
    const values = takeBuffer(f);
    const needed = Math.ceil((rows * fixedBitWidth(type, f)) / 8);
    if (values.byteLength < needed) throw new LayoutError(`its values take ${values.byteLength} bytes, but ${rows} rows need ${needed}`, f);
  });
  if (nextBuffer !== batch.buffers.length) {
    throw new LayoutError(`a record batch has ${batch.buffers.length} buffers, but its fields take ${nextBuffer}`);
  }
}

/** Bits per value of a fixed-width type; the types Floe stores are flat, so anything else is refused. */
function fixedBitWidth(type: arrow.DataType, field: number): number {
  if (arrow.DataType.isBool(type)) return 1;
  if (arrow.DataType.isInt(type) || arrow.DataType.isDecimal(type) || arrow.DataType.isTime(type)) return type.bitWidth;
  if (arrow.DataType.isTimestamp(type)) return 64;
  // One element of the type's array per value (Float16/32/64, Date32/64).
  if (arrow.DataType.isFloat(type) || arrow.DataType.isDate(type)) return type.ArrayType.BYTES_PER_ELEMENT * 8;
  throw new LayoutError(`its type ${type} is not one Floe stores`, field);
}

/** The validity bitmap must mark exactly `nullCount` of the first `rows` bits unset; it may be absent only when no row is null. */
function checkValidity(bitmap: Uint8Array, rows: number, nullCount: number, field: number, firstRow: number): void {
  if (bitmap.byteLength === 0) {
    if (nullCount !== 0) throw new LayoutError(`the record batch declares ${nullCount} null${nullCount === 1 ? "" : "s"} but carries no validity bitmap`, field);
    return;
  }
  if (bitmap.byteLength * 8 < rows) throw new LayoutError(`its validity bitmap of ${bitmap.byteLength} bytes does not cover ${rows} rows`, field);
  let nulls = 0;
  let firstNull = -1;
  for (let row = 0; row < rows; row++) {
    if ((bitmap[row >> 3]! & (1 << (row & 7))) !== 0) continue;
    if (firstNull < 0) firstNull = row;
    nulls++;
  }
  if (nulls !== nullCount) {
    // More nulls than declared: the first is a row a reader would take as a value.
    const row = nulls > nullCount ? firstRow + firstNull : undefined;
    throw new LayoutError(`the validity bitmap marks ${nulls} null${nulls === 1 ? "" : "s"}, but the record batch declares ${nullCount}`, field, row);
  }
}

/** Every non-null index of a dictionary-encoded field must name a value its dictionary holds. */
function checkIndices(
  indices: Uint8Array, type: arrow.Int, rows: number, validity: Uint8Array, nullCount: number, dictionaryLength: number, field: number, firstRow: number,
): void {
  const bytes = type.bitWidth / 8;
  if (indices.byteLength < rows * bytes) throw new LayoutError(`its indices take ${indices.byteLength} bytes, but ${rows} rows need ${rows * bytes}`, field);
  const view = new DataView(indices.buffer, indices.byteOffset, indices.byteLength);
  const read = (row: number): number => {
    const at = row * bytes;
    switch (bytes) {
      case 1: return type.isSigned ? view.getInt8(at) : view.getUint8(at);
      case 2: return type.isSigned ? view.getInt16(at, true) : view.getUint16(at, true);
      case 4: return type.isSigned ? view.getInt32(at, true) : view.getUint32(at, true);
      default: return Number(type.isSigned ? view.getBigInt64(at, true) : view.getBigUint64(at, true));
    }
  };
  for (let row = 0; row < rows; row++) {
    if (nullCount > 0 && (validity[row >> 3]! & (1 << (row & 7))) === 0) continue;
    const index = read(row);
    if (index < 0 || index >= dictionaryLength) {
      throw new LayoutError(`its dictionary index ${index} is outside the ${dictionaryLength} values its dictionary holds`, field, firstRow + row);
    }
  }
}

/** Each row's end in `data`, from an offsets buffer (4- or 8-byte offsets) that must cover every row, never run backwards and end inside `data`. */
function checkOffsets(offsets: Uint8Array, data: Uint8Array, rows: number, field: number, firstRow: number, offsetBytes: 4 | 8): Int32Array {
  const ends = new Int32Array(rows + 1);
  if (rows === 0) return ends;
  const needed = (rows + 1) * offsetBytes;
  if (offsets.byteLength < needed) throw new LayoutError(`its offsets take ${offsets.byteLength} bytes, but ${rows} rows need ${needed}`, field);
  const view = new DataView(offsets.buffer, offsets.byteOffset, offsets.byteLength);
  // A 64-bit offset beyond the data is refused below, so reading it as a double-rounded Number loses nothing that matters.
  const offsetAt = offsetBytes === 4 ? (i: number) => view.getInt32(i * 4, true) : (i: number) => Number(view.getBigInt64(i * 8, true));
  const first = offsetAt(0);
  if (first < 0 || first > data.byteLength) throw new LayoutError(`its first value starts at byte ${first}, outside the ${data.byteLength} bytes of data`, field, firstRow);
  ends[0] = first;
  for (let row = 0; row < rows; row++) {
    const end = offsetAt(row + 1);
    if (end < ends[row]!) throw new LayoutError("the value ends before it starts", field, firstRow + row);
    if (end > data.byteLength) throw new LayoutError(`the value ends at byte ${end}, past the ${data.byteLength} bytes of data`, field, firstRow + row);
    ends[row + 1] = end;
  }
  return ends;
}

/**
 * Every non-null value must be UTF-8. The common case costs one decode: the
 * values' bytes are UTF-8 as a whole and no row boundary splits a character.
 * Only otherwise is each value decoded, to name the first bad row (bytes
 * under a null are no value, so they are not checked).
 */
function checkUtf8(data: Uint8Array, ends: Int32Array, validity: Uint8Array, nullCount: number, field: number, firstRow: number): void {
  const rows = ends.length - 1;
  if (rows === 0) return;
  const whole = data.subarray(ends[0], ends[rows]);
  let boundariesWhole = true;
  for (let row = 1; row < rows && boundariesWhole; row++) {
    const at = ends[row]!;
    // A continuation byte (10xxxxxx) at a row's start means the boundary cuts a character.
    if (at < ends[rows]! && (data[at]! & 0xc0) === 0x80) boundariesWhole = false;
  }
  if (boundariesWhole && isUtf8(whole)) return;
  for (let row = 0; row < rows; row++) {
    const isNull = nullCount > 0 && (validity[row >> 3]! & (1 << (row & 7))) === 0;
    if (!isNull && !isUtf8(data.subarray(ends[row], ends[row + 1]))) throw new LayoutError("the value is not valid UTF-8", field, firstRow + row);
  }
}

function isUtf8(bytes: Uint8Array): boolean {
  try {
    strictUtf8.decode(bytes);
    return true;
  } catch {
    return false;
  }
}
