/**
 * One page of a bucket's rows as a subscription message (protocol.ts): JSON
 * `batch` messages or Arrow IPC streams with the offsets in their schema
 * metadata. The Tablet's live and catch-up pages and the relay's replay of
 * the lake encode through here, so a client cannot tell them apart.
 */
import type { LogPage } from "../read/log-page.ts";
import { pageToArrow, pageToJsonRows } from "../read/log-page.ts";
import type { BatchMessage } from "./protocol.ts";
import { arrowMetadataKeys } from "./protocol.ts";

export function encodeBatchMessage(page: LogPage, format: "json" | "arrow"): string | Uint8Array {
  const firstOffset = page.nextOffset - page.rowCount;
  const lastOffset = page.nextOffset - 1;
  if (format === "arrow") {
    return pageToArrow(page, {
      [arrowMetadataKeys.bucket]: String(page.bucket),
      [arrowMetadataKeys.firstOffset]: String(firstOffset),
      [arrowMetadataKeys.lastOffset]: String(lastOffset),
      [arrowMetadataKeys.highWatermark]: String(page.highWatermark),
    });
  }
  const message: BatchMessage = {
    type: "batch",
    bucket: page.bucket,
    firstOffset,
    lastOffset,
    highWatermark: page.highWatermark,
    rows: pageToJsonRows(page),
  };
  return JSON.stringify(message);
}
