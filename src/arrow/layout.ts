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
 * - fixed-width values cover every row; offsets cover every row, never run
 *   backwards and end inside the data;
 * - every non-null Utf8 value is UTF-8.
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
  let firstRow = 0;
  for (;;) {
    const message = reader.readMessage(arrow.MessageHeader.RecordBatch);
    if (message === null) return;
    const batch = message.header();
    checkRecordBatch(batch, reader.readMessageBody(message.bodyLength), fields, firstRow);
    firstRow += batch.length;
  }
}

function checkRecordBatch(batch: RecordBatchHeader, body: Uint8Array, fields: readonly arrow.Field[], firstRow: number): void {
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
    if (arrow.DataType.isUtf8(type) || arrow.DataType.isBinary(type)) {
      const offsets = takeBuffer(f);
      const data = takeBuffer(f);
      const ends = checkOffsets(offsets, data, rows, f, firstRow);
      if (arrow.DataType.isUtf8(type)) checkUtf8(data, ends, validity, node.nullCount, f, firstRow);
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

/** Each row's end in `data`, from an offsets buffer that must cover every row, never run backwards and end inside `data`. */
function checkOffsets(offsets: Uint8Array, data: Uint8Array, rows: number, field: number, firstRow: number): Int32Array {
  const ends = new Int32Array(rows + 1);
  if (rows === 0) return ends;
  if (offsets.byteLength < (rows + 1) * 4) throw new LayoutError(`its offsets take ${offsets.byteLength} bytes, but ${rows} rows need ${(rows + 1) * 4}`, field);
  const view = new DataView(offsets.buffer, offsets.byteOffset, offsets.byteLength);
  ends[0] = view.getInt32(0, true);
  if (ends[0] < 0 || ends[0] > data.byteLength) throw new LayoutError(`its first value starts at byte ${ends[0]}, outside the ${data.byteLength} bytes of data`, field, firstRow);
  for (let row = 0; row < rows; row++) {
    const end = view.getInt32((row + 1) * 4, true);
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
