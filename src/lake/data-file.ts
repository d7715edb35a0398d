/**
 * Writing one lake file: Arrow columns encoded as Parquet, put in R2, and
 * described as a manifest entry needs it (path, size, counts, bounds).
 */
import type { DataFile } from "../iceberg/manifest.ts";
import { columnMetrics } from "../iceberg/metrics.ts";
import type { IcebergSchema } from "../iceberg/schema.ts";
import type { DataFileColumn } from "./parquet.ts";
import { writeDataFile } from "./parquet.ts";
import { lakeUri } from "./objects.ts";

export interface LakeFileRequest {
  key: string;
  content: DataFile["content"];
  partition: DataFile["partition"];
  columns: DataFileColumn[];
  rowCount: number;
  schema: IcebergSchema;
  /** Key/value metadata besides `iceberg.schema`. */
  metadata?: Record<string, string>;
  equalityIds?: number[];
}

export async function putLakeFile(env: Env, request: LakeFileRequest): Promise<DataFile> {
  const bytes = writeDataFile(request.columns, request.rowCount, request.schema, request.metadata);
  await env.LAKE.put(request.key, bytes);
  const file: DataFile = {
    content: request.content,
    path: lakeUri(env, request.key),
    recordCount: request.rowCount,
    fileSizeInBytes: bytes.byteLength,
    partition: request.partition,
    metrics: new Map(request.columns.map((c) => [c.id, columnMetrics(c, c.data)])),
    splitOffsets: [4],
  };
  if (request.equalityIds) file.equalityIds = request.equalityIds;
  return file;
}
