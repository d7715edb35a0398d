/**
 * One page of a bucket's rows as a subscription message (subscription.ts): JSON
 * `batch` messages or Arrow IPC streams with the offsets in their schema
 * metadata. The Tablet's live and catch-up pages and the relay's replay of
 * the lake encode through here, so a client cannot tell them apart; so do
 * the parts of a primary-key bucket's state sent before its changelog.
 */
import type * as arrow from "apache-arrow";
import type { LogPage } from "../log/page.ts";
import { columnsToJsonRows, pageToIpc, pageToJsonRows } from "../log/page.ts";
import type { Column } from "../table/schema.ts";
import { arrowSchemaOf } from "../table/columns.ts";
import { encodeStream } from "../arrow/ipc.ts";
import type { BatchMessage, SnapshotMessage } from "./subscription.ts";
import { arrowMetadataKeys } from "./subscription.ts";

/** `partition`: the spec of the page's partition, for a partitioned table. */
export function encodeBatchMessage(page: LogPage, format: "json" | "arrow", partition?: string): string | Uint8Array {
  const firstOffset = page.nextOffset - page.rowCount;
  const lastOffset = page.nextOffset - 1;
  if (format === "arrow") {
    return pageToIpc(page, {
      ...(partition === undefined ? {} : { [arrowMetadataKeys.partition]: partition }),
      [arrowMetadataKeys.bucket]: String(page.bucket),
      [arrowMetadataKeys.firstOffset]: String(firstOffset),
      [arrowMetadataKeys.lastOffset]: String(lastOffset),
      [arrowMetadataKeys.highWatermark]: String(page.highWatermark),
    });
  }
  const message: BatchMessage = {
    type: "batch",
    ...(partition === undefined ? {} : { partition }),
    bucket: page.bucket,
    firstOffset,
    lastOffset,
    highWatermark: page.highWatermark,
    rows: pageToJsonRows(page),
  };
  return JSON.stringify(message);
}

/** Part of a primary-key bucket's state as of `offset` (rows of `columns`), as a `snapshot` message. */
export function encodeSnapshotMessage(
  part: { partition?: string; bucket: number; offset: number; highWatermark: number; part: number; first: boolean; last: boolean },
  columns: readonly Column[],
  data: arrow.Data[],
  rowCount: number,
  format: "json" | "arrow",
): string | Uint8Array {
  if (format === "arrow") {
    return encodeStream(arrowSchemaOf(columns, {
      ...(part.partition === undefined ? {} : { [arrowMetadataKeys.partition]: part.partition }),
      [arrowMetadataKeys.bucket]: String(part.bucket),
      [arrowMetadataKeys.snapshotOffset]: String(part.offset),
      [arrowMetadataKeys.snapshotPart]: String(part.part),
      [arrowMetadataKeys.snapshotFirst]: String(part.first),
      [arrowMetadataKeys.snapshotLast]: String(part.last),
      [arrowMetadataKeys.highWatermark]: String(part.highWatermark),
    }), data, rowCount);
  }
  const message: SnapshotMessage = { type: "snapshot", ...part, rows: columnsToJsonRows(columns, data, rowCount) };
  return JSON.stringify(message);
}

/** The bytes a message takes on the socket: a text message's UTF-8 length, a binary one's length. */
export function messageBytes(message: string | Uint8Array): number {
  if (typeof message !== "string") return message.byteLength;
  let bytes = message.length;
  for (let i = 0; i < message.length; i++) {
    const unit = message.charCodeAt(i);
    // Two more bytes for U+0800..U+FFFF, one for U+0080..U+07FF; a surrogate pair (4 bytes) is two units of 2.
    if (unit >= 0x80) bytes += unit >= 0x800 && (unit < 0xd800 || unit > 0xdfff) ? 2 : 1;
  }
  return bytes;
}
