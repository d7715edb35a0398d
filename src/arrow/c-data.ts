/**
 * Flat columns copied out of a WebAssembly module's memory through the
 * Arrow C Data Interface (`ArrowSchema` and `ArrowArray` structs of a
 * 32-bit module): how Parquet row groups decoded by parquet-wasm reach
 * JavaScript with one copy per buffer, instead of an IPC stream written in
 * the module, copied out and parsed again.
 *
 * Only flat types are read (fixed-width, boolean, variable-width binary and
 * UTF-8), as Floe stores nothing else; anything else, or an array not
 * starting at offset 0, is refused. The copies own their memory, so the
 * module's objects can be freed right after.
 */

/** A C stream's view as parquet-wasm's `FFIStream` gives it: a struct schema and record batches as struct arrays. */
export interface CStream {
  numArrays(): number;
  arrayAddr(chunk: number): number;
  schemaAddr(): number;
}

export interface CField {
  name: string;
  /** The C Data Interface format string, e.g. `l`, `u`, `d:10,2`, `tsu:UTC`. */
  format: string;
}

/** One column of one batch, its buffers copied. */
export interface CColumn {
  length: number;
  nullCount: number;
  /** The validity bitmap, when a row is null. */
  validity?: Uint8Array;
  /** Variable-width types: `length + 1` offsets into `values`. */
  offsets?: Int32Array;
  /** Fixed-width values, boolean bits, or variable-width bytes. */
  values: Uint8Array;
}

/** Bytes per value of a fixed-width format; 0 for booleans (bits); -1 for variable width. */
function valueWidth(format: string): number {
  if (format === "u" || format === "z") return -1;
  if (format === "b") return 0;
  if (format === "c" || format === "C") return 1;
  if (format === "s" || format === "S") return 2;
  if (format === "i" || format === "I" || format === "f" || format === "tdD" || format === "tts" || format === "ttm") return 4;
  if (format === "l" || format === "L" || format === "g" || format === "tdm" || format === "ttu" || format === "ttn" || format.startsWith("ts")) return 8;
  const decimal = /^d:\d+,\d+(?:,(\d+))?$/.exec(format);
  if (decimal) return Number(decimal[1] ?? 128) / 8;
  throw new Error(`arrow C data: format '${format}' is not a flat type`);
}

/** The fields and per batch the columns of a C stream of struct arrays, copied out of `memory`. */
export function copyStream(memory: ArrayBuffer, stream: CStream): { fields: CField[]; batches: CColumn[][] } {
  const view = new DataView(memory);
  const bytes = new Uint8Array(memory);
  const int64 = (at: number) => Number(view.getBigInt64(at, true));
  const pointer = (at: number) => view.getUint32(at, true);
  const text = (at: number) => {
    let end = at;
    while (bytes[end] !== 0) end++;
    return new TextDecoder().decode(bytes.subarray(at, end));
  };
  // ArrowSchema (wasm32): format, name, metadata (pointers), flags, n_children (int64), children (pointer) ...
  const schema = stream.schemaAddr();
  const childSchemas = pointer(schema + 32);
  const fields = Array.from({ length: int64(schema + 24) }, (_, i) => {
    const child = pointer(childSchemas + 4 * i);
    return { format: text(pointer(child)), name: text(pointer(child + 4)) };
  });
  const widths = fields.map((f) => valueWidth(f.format));
  const batches: CColumn[][] = [];
  for (let b = 0; b < stream.numArrays(); b++) {
    // ArrowArray (wasm32): length, null_count, offset, n_buffers, n_children (int64), buffers, children (pointers) ...
    const array = stream.arrayAddr(b);
    const children = pointer(array + 44);
    batches.push(fields.map((field, i) => {
      const child = pointer(children + 4 * i);
      const length = int64(child);
      const nullCount = int64(child + 8);
      if (int64(child + 16) !== 0) throw new Error(`arrow C data: column '${field.name}' starts at offset ${int64(child + 16)}`);
      const buffers = pointer(child + 40);
      const buffer = (n: number) => pointer(buffers + 4 * n);
      const copy = (at: number, size: number) => bytes.slice(at, at + size);
      const validity = nullCount > 0 && buffer(0) !== 0 ? copy(buffer(0), (length + 7) >> 3) : undefined;
      const width = widths[i]!;
      if (width < 0) {
        const offsets = new Int32Array(copy(buffer(1), (length + 1) * 4).buffer);
        return { length, nullCount, validity, offsets, values: copy(buffer(2), offsets[length]!) };
      }
      return { length, nullCount, validity, values: copy(buffer(1), width === 0 ? (length + 7) >> 3 : length * width) };
    }));
  }
  return { fields, batches };
}
