/**
 * Hashes of rows over several Arrow columns, computed column by column on
 * their buffers: equal values of one type hash alike wherever they were
 * decoded (a lake row group, a Tablet's page), since Floe gives every type
 * one Arrow layout. A hash only says two rows may be equal; callers confirm
 * a match exactly.
 */
import * as arrow from "apache-arrow";

/** Per row, a 32-bit hash of its values in `columns`; for NOT NULL columns (as key columns are), since a null slot hashes whatever it holds. */
export function hashRows(columns: readonly arrow.Data[], rowCount: number): Int32Array {
  const hashes = new Int32Array(rowCount);
  for (const data of columns) mixColumn(data, hashes);
  return hashes;
}

const mix = (hash: number, value: number) => Math.imul(hash ^ value, 0x01000193) ^ (hash >>> 15);

function mixColumn(data: arrow.Data, hashes: Int32Array): void {
  const rowCount = hashes.length;
  if (data.valueOffsets) {
    const offsets = data.valueOffsets as Int32Array;
    const bytes = data.values as Uint8Array;
    for (let row = 0; row < rowCount; row++) {
      let hash = 0x811c9dc5;
      for (let i = offsets[row]!; i < offsets[row + 1]!; i++) hash = Math.imul(hash ^ bytes[i]!, 0x01000193);
      hashes[row] = mix(hashes[row]!, hash);
    }
    return;
  }
  if (data.typeId === arrow.Type.Bool) {
    const bits = data.values as Uint8Array;
    for (let row = 0; row < rowCount; row++) {
      const bit = data.offset + row;
      hashes[row] = mix(hashes[row]!, (bits[bit >> 3]! >> (bit & 7)) & 1);
    }
    return;
  }
  const values = data.values as ArrayBufferView & { BYTES_PER_ELEMENT: number };
  const width = values.BYTES_PER_ELEMENT * data.stride;
  if (width < 4) {
    const small = data.values as Int8Array | Int16Array;
    for (let row = 0; row < rowCount; row++) hashes[row] = mix(hashes[row]!, small[row]!);
    return;
  }
  const words = new Int32Array(values.buffer, values.byteOffset, (rowCount * width) >> 2);
  const perRow = width >> 2;
  for (let row = 0; row < rowCount; row++) {
    let hash = hashes[row]!;
    for (let w = 0; w < perRow; w++) hash = mix(hash, words[row * perRow + w]!);
    hashes[row] = hash;
  }
}
