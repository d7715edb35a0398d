/**
 * The hot scan of a primary-key table: the current row of every key, read
 * from each bucket's kv in one step, so each bucket's rows are exactly its
 * state at the offset reported with them.
 */
import { FloeError } from "../errors.ts";
import type { TableEntry } from "../catalog/catalog.ts";
import { isPrimaryKeyTable } from "../table/schema.ts";
import { bucketsOf, tabletStub } from "../tablet/stub.ts";
import { storedRowToObject } from "../tablet/kv.ts";
import { requestLimits } from "../vocabulary.ts";
import type { Row } from "./lookup.ts";

export interface HotScan {
  /** Per bucket, the log offset its rows are current at (its high watermark then). */
  offsets: Record<string, number>;
  rows: Row[];
}

export async function scanHot(env: Env, table: TableEntry): Promise<HotScan> {
  const { definition } = table;
  if (!isPrimaryKeyTable(definition)) {
    throw new Error("the hot key-value scan reads primary-key tables only; log tables scan their log");
  }
  const perBucket = requestLimits.hotScanRowsPerBucketMax;
  const snapshots = await Promise.all(
    bucketsOf(definition.bucket.num).map((bucket) => tabletStub(env, table.tableId, bucket).scanKv(new Uint8Array(0), perBucket)),
  );
  const offsets: Record<string, number> = {};
  const rows: Row[] = [];
  snapshots.forEach((snapshot, bucket) => {
    if (snapshot.truncated) {
      throw new FloeError("payload_too_large", `bucket ${bucket} holds more than ${perBucket} rows, more than one hot scan answers`);
    }
    offsets[String(bucket)] = snapshot.highWatermark;
    for (const text of snapshot.rows) rows.push(storedRowToObject(definition.columns, text));
  });
  return { offsets, rows };
}
