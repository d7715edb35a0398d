/**
 * A scan's rows as a streamed HTTP body: JSON (one object whose `rows`
 * array is written as rows arrive, then the read statistics), NDJSON (one
 * row per line) or an Arrow IPC stream (one record batch per chunk). The
 * body is pulled, so a slow client slows the scan instead of buffering it.
 *
 * Invariant: a body ends normally only after the last row; a failure
 * mid-stream errors the body, so a client never mistakes a partial answer
 * for a complete one.
 */
import { arrowSchemaOf, buildColumn } from "../table/columns.ts";
import type { Column } from "../table/schema.ts";
import { columnsToJsonRows } from "../log/page.ts";
import { encodeStream, joinStream, splitStream } from "../arrow/ipc.ts";
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

function jsonRows(columns: readonly Column[], chunk: RowChunk): string[] {
  return columnsToJsonRows(columns, chunk.data, chunk.rowCount).map((row) => JSON.stringify(row));
}

const encoders: Record<ScanFormat, (scan: Scan, source: ScanSource) => Encoder> = {
  json(scan, source) {
    let separator = "";
    return {
      start: () => utf8.encode(`{"source":${JSON.stringify(source)},"snapshotId":${JSON.stringify(scan.snapshotId)},"offsets":${JSON.stringify(scan.offsets)},"rows":[`),
      chunk(chunk) {
        const text = jsonRows(scan.columns, chunk).map((line) => { const out = separator + line; separator = ","; return out; }).join("");
        return utf8.encode(text);
      },
      end: () => utf8.encode(`],"stats":${JSON.stringify(scan.stats)}}`),
    };
  },
  ndjson(scan) {
    return {
      start: () => new Uint8Array(0),
      chunk: (chunk) => utf8.encode(jsonRows(scan.columns, chunk).map((line) => `${line}\n`).join("")),
      end: () => new Uint8Array(0),
    };
  },
  arrow(scan) {
    const schema = arrowSchemaOf(scan.columns);
    const frames = (chunk: RowChunk) => splitStream(encodeStream(schema, chunk.data, chunk.rowCount));
    return {
      start: () => frames({ rowCount: 0, data: scan.columns.map((column) => buildColumn(column.type, [])) }).schema,
      chunk: (chunk) => frames(chunk).batch,
      end: () => joinStream(new Uint8Array(0), []),
    };
  },
};
