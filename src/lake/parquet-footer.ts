/**
 * What Floe reads from a Parquet footer (hyparquet's `FileMetaData`): where
 * column chunks and row groups start and end, and the page index's extent.
 * Shared by the writer (split offsets, column sizes) and the reader (which
 * byte ranges to fetch).
 */
import type { ColumnChunk, ColumnMetaData, FileMetaData, RowGroup } from "hyparquet";

export interface ByteRange {
  start: number;
  end: number;
}

/** A column chunk's bytes: its dictionary page (if any) through its last data page. */
export function columnChunkRange(chunk: ColumnMetaData): ByteRange {
  const data = Number(chunk.data_page_offset);
  const dictionary = chunk.dictionary_page_offset === undefined ? 0 : Number(chunk.dictionary_page_offset);
  const start = dictionary > 0 && dictionary < data ? dictionary : data;
  return { start, end: start + Number(chunk.total_compressed_size) };
}

/** Where a row group starts, as Iceberg's split offsets name it: its first column chunk's start. */
export function rowGroupStart(rowGroup: RowGroup): number {
  const first = rowGroup.columns[0]?.meta_data;
  if (!first) throw new Error(`parquet row group of ${rowGroup.num_rows} rows has no column chunk`);
  return columnChunkRange(first).start;
}

/** The chunk of the top-level column `name` in a row group. */
export function columnChunk(rowGroup: RowGroup, name: string): ColumnMetaData | undefined {
  return rowGroup.columns.find((c: ColumnChunk) => c.meta_data?.path_in_schema[0] === name)?.meta_data;
}

/** The bytes holding the file's column and offset indexes (the page index), if it has one. */
export function pageIndexRange(metadata: FileMetaData): ByteRange | undefined {
  let start = Infinity;
  let end = -Infinity;
  for (const rowGroup of metadata.row_groups) {
    for (const chunk of rowGroup.columns) {
      for (const [offset, length] of [[chunk.column_index_offset, chunk.column_index_length], [chunk.offset_index_offset, chunk.offset_index_length]]) {
        if (offset === undefined || length === undefined) continue;
        start = Math.min(start, Number(offset));
        end = Math.max(end, Number(offset) + Number(length));
      }
    }
  }
  return start < end ? { start, end } : undefined;
}
