/**
 * A scan's rows as a streamed HTTP body: JSON (one object whose `rows`
 * array is written as rows arrive, then the read statistics), NDJSON (one
 * row per line) or an Arrow IPC stream (one record batch per chunk). Chunks
 * are encoded on whole columns: JSON text by one formatter per column
 * (`table/json-text.ts`), Arrow batches from the columns' buffers
 * (`arrow/ipc-write.ts`). The body is pulled, so a slow client slows the
 * scan instead of buffering it.
 *
 * Invariant: a body ends normally only after the last row; a failure
 * mid-stream errors the body, so a client never mistakes a partial answer
 * for a complete one.
 */
import { arrowSchemaOf } from "../table/columns.ts";
import { jsonRowsText } from "../table/json-text.ts";
import { batchMessage, endOfStream, schemaMessage } from "../arrow/ipc-write.ts";
import type { Scan, ScanSource } from "./scan.ts";
import type { RowChunk } from "./scan-rows.ts";

export const scanFormats = ["json", "ndjson", "arrow"] as const;
export type ScanFormat = (typeof scanFormats)[number];

const utf8 = new TextEncoder();

/** The body of a scan answer; the first chunk is read before this is called, so early failures still get an error status. */
export function scanBody(scan: Scan, source: ScanSource, format: ScanFormat, first: IteratorResult<RowChunk>): ReadableStream<Uint8Array> {
  const encoder = encoders[format](scan, source);
  let pending: IteratorResult<RowChunk> | undefined = first;
  let started = false;
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      try {
        if (!started) {
          started = true;
          controller.enqueue(encoder.start());
        }
        const next = pending ?? (await scan.rows.next());
        pending = undefined;
        if (next.done) {
          controller.enqueue(encoder.end());
          controller.close();
        } else {
          controller.enqueue(encoder.chunk(next.value));
        }
      } catch (error) {
        console.error(JSON.stringify({ event: "scan_failed", message: String(error) }));
        controller.error(error);
      }
    },
    async cancel() {
      await scan.rows.return(undefined);
    },
  });
}

interface Encoder {
  start(): Uint8Array;
  chunk(chunk: RowChunk): Uint8Array;
  end(): Uint8Array;
}

const encoders: Record<ScanFormat, (scan: Scan, source: ScanSource) => Encoder> = {
  json(scan, source) {
    let first = true;
    return {
      start: () => utf8.encode(`{"source":${JSON.stringify(source)},"snapshotId":${JSON.stringify(scan.snapshotId)},"offsets":${JSON.stringify(scan.offsets)},"rows":[`),
      chunk(chunk) {
        // Every row is preceded by a comma; the scan's very first one drops it.
        const text = jsonRowsText(scan.columns, chunk.data, chunk.rowCount, ",", "");
        if (first && text.length > 0) {
          first = false;
          return text.subarray(1);
        }
        return text;
      },
      end: () => utf8.encode(`],"stats":${JSON.stringify(scan.stats)}}`),
    };
  },
  ndjson(scan) {
    return {
      start: () => new Uint8Array(0),
      chunk: (chunk) => jsonRowsText(scan.columns, chunk.data, chunk.rowCount, "", "\n"),
      end: () => new Uint8Array(0),
    };
  },
  arrow(scan) {
    return {
      start: () => schemaMessage(arrowSchemaOf(scan.columns)),
      chunk: (chunk) => batchMessage(chunk.data, chunk.rowCount),
      end: () => endOfStream.slice(),
    };
  },
};
