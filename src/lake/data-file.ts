/**
 * Writing one lake file: Arrow columns encoded as Parquet (`parquet.ts`),
 * put in R2, and described as a manifest entry needs it (path, size,
 * counts, bounds, row groups, sort order).
 */
import type { DataFile } from "../iceberg/manifest.ts";
import { defaultSortOrderId } from "../iceberg/metadata.ts";
import type { IcebergSchema } from "../iceberg/schema.ts";
import type { DataFileColumn } from "./parquet.ts";
import { writeDataFile } from "./parquet.ts";
import { lakeUri } from "./objects.ts";

export interface LakeFileRequest {
  key: string;
  content: DataFile["content"];
  partition: DataFile["partition"];
  columns: DataFileColumn[];
  schema: IcebergSchema;
  /** Key/value metadata besides `iceberg.schema`. */
  metadata?: Record<string, string>;
  equalityIds?: number[];
}

export async function putLakeFile(env: Env, request: LakeFileRequest): Promise<DataFile> {
  const written = await writeDataFile(request.columns, request.schema, request.metadata);
  await env.LAKE.put(request.key, written.bytes);
  const file: DataFile = {
    content: request.content,
    path: lakeUri(env, request.key),
    recordCount: written.recordCount,
    fileSizeInBytes: written.bytes.byteLength,
    partition: request.partition,
    metrics: written.metrics,
    splitOffsets: written.splitOffsets,
  };
  // Data and equality-delete rows are in offset order, the table's sort order; position deletes are sorted by file and position.
  if (request.content !== 1) file.sortOrderId = defaultSortOrderId;
  if (request.equalityIds) file.equalityIds = request.equalityIds;
  return file;
}
