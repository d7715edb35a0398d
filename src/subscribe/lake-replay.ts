/**
 * The union subscribe: a log-table subscription that starts below a
 * bucket's log start (its oldest rows were dropped after tiering) first
 * receives those rows from the lake snapshot, as ordinary batch messages
 * with their original offsets, then continues from the Tablet at the
 * snapshot's offset.
 *
 * Invariant: the replay covers exactly `[start, snapshot offset)` and the
 * Tablet continues at the snapshot offset, so the client sees every offset
 * once, in order. The replay is not flow-controlled by acks (the lake part
 * is sent as fast as it is read); a client that wants back-pressure over a
 * large history scans the table and subscribes from the scan's offsets.
 */
import type { TableEntry } from "../catalog/catalog.ts";
import { isPrimaryKeyTable } from "../table/schema.ts";
import type { Column } from "../table/schema.ts";
import { readScalar } from "../table/columns.ts";
import { gatherRange } from "../arrow/gather.ts";
import { systemColumns } from "../iceberg/schema.ts";
import { pageOf } from "../read/log-page.ts";
import { currentSnapshot } from "../read/lake-snapshot.ts";
import { emptyStats, lakeRows } from "../read/scan-rows.ts";
import { tabletStub } from "../tablet/stub.ts";
import { encodeBatchMessage } from "./batch-message.ts";
import type { SubscribedMessage, TabletSubscription } from "./protocol.ts";
import { catchUpRows } from "./protocol.ts";

/** How one bucket's subscription begins: straight at the Tablet, or with a lake replay first. */
export type BucketPlan =
  | { kind: "tablet"; subscription: TabletSubscription }
  | { kind: "lake_first"; subscription: TabletSubscription; replay: (send: (message: string | Uint8Array) => void) => Promise<void> };

export async function planBucket(env: Env, table: TableEntry, subscription: TabletSubscription): Promise<BucketPlan> {
  const { start, bucket } = subscription;
  const from = "position" in start ? (start.position === "earliest" ? 0 : undefined) : "offset" in start ? start.offset : undefined;
  if (from === undefined || isPrimaryKeyTable(table.definition)) return { kind: "tablet", subscription };
  const status = await tabletStub(env, table.tableId, bucket).status();
  if (from >= status.logStartOffset) return { kind: "tablet", subscription };
  const snapshot = await currentSnapshot(env, table);
  const to = snapshot.bucketOffsets[String(bucket)] ?? 0;
  // Only tiered data is ever dropped, so the snapshot reaches the log start; if not, the Tablet reports the gap.
  if (to < status.logStartOffset) return { kind: "tablet", subscription };
  const files = snapshot.files.filter((f) => f.bucket === bucket && f.content === 0).sort((a, b) => a.dataSequenceNumber - b.dataSequenceNumber);
  const projected = subscription.columns.map((c) => table.definition.columns.find((d) => d.name === c.name)!);
  const [, offsetColumn, timestampColumn] = systemColumns;
  const readColumns = [...projected, offsetColumn!, timestampColumn!];
  const predicates = [
    { column: offsetColumn!, op: ">=" as const, values: [BigInt(from)] },
    { column: offsetColumn!, op: "<" as const, values: [BigInt(to)] },
  ];
  return {
    kind: "lake_first",
    subscription: { ...subscription, start: { offset: to } },
    async replay(send) {
      const subscribed: SubscribedMessage = { type: "subscribed", bucket, offset: from, highWatermark: status.highWatermark };
      send(JSON.stringify(subscribed));
      for await (const chunk of lakeRows(env, files, readColumns, predicates, emptyStats())) {
        for (let begin = 0; begin < chunk.rowCount; begin += catchUpRows) {
          const end = Math.min(chunk.rowCount, begin + catchUpRows);
          const system = (c: Column) => Array.from({ length: end - begin }, (_, i) => readScalar(c.type, chunk.data[readColumns.indexOf(c)]!, begin + i)!);
          const offsets = system(offsetColumn!);
          const data = chunk.data.slice(0, projected.length).map((d) => gatherRange([d], begin, end));
          const page = pageOf(bucket, status, Number(offsets[0]), projected, data, {
            _offset: offsets,
            _timestamp: system(timestampColumn!),
            _change: new Array<string>(end - begin).fill("+I"),
          });
          send(encodeBatchMessage(page, subscription.format));
        }
      }
    },
  };
}
