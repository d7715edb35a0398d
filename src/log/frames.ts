/**
 * Rows as the frames a Tablet stores: one IPC schema message and record
 * batch messages, each cut to stay well under the Durable Object SQLite row
 * limit (2 MB). Both the Worker (log tables) and the Tablet (changelogs of
 * primary-key tables) encode through here.
 */
import type * as arrow from "apache-arrow";
import { FloeError } from "../errors.ts";
import type { Column } from "../table/schema.ts";
import { arrowSchemaOf } from "../table/columns.ts";
import { encodeStream, splitStream } from "../arrow/ipc.ts";
import { gatherRange } from "../arrow/gather.ts";
import type { ColumnBatch } from "../arrow/batch.ts";
import { requestLimits } from "../vocabulary.ts";

export interface LogFrames {
  /** The IPC schema message shared by every batch. */
  schema: Uint8Array;
  /** IPC record batch messages with their row counts. */
  batches: { ipcBatch: Uint8Array; recordCount: number }[];
}

/** Record batches are cut to stay well under the Durable Object SQLite 2 MB row limit. */
export const storedBatchBytesMax = 1536 * 1024;

/** Encodes rows as IPC frames for the log, cut into record batches under the row limit. */
export function encodeFrames(columns: readonly Column[], batch: ColumnBatch): LogFrames {
  const schema = arrowSchemaOf(columns);
  const pieces: LogFrames["batches"] = [];
  let schemaFrame: Uint8Array | undefined;
  const encode = (columns: arrow.Data[], rowCount: number): void => {
    const frames = splitStream(encodeStream(schema, columns, rowCount));
    const bytes = frames.batch.byteLength;
    if (rowCount === 1 && bytes > requestLimits.rowBytesMax) {
      throw new FloeError("payload_too_large", `a row encodes to ${bytes} bytes; the limit is ${requestLimits.rowBytesMax}`);
    }
    if (bytes > storedBatchBytesMax) {
      const parts = Math.min(rowCount, Math.ceil((bytes * 1.25) / storedBatchBytesMax));
      const partRows = Math.ceil(rowCount / parts);
      for (let begin = 0; begin < rowCount; begin += partRows) {
        const end = Math.min(rowCount, begin + partRows);
        encode(columns.map((d) => gatherRange([d], begin, end)), end - begin);
      }
      return;
    }
    schemaFrame ??= frames.schema.slice();
    pieces.push({ ipcBatch: frames.batch.slice(), recordCount: rowCount });
  };
  encode(batch.columns, batch.rowCount);
  return { schema: schemaFrame!, batches: pieces };
}
