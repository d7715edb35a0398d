/**
 * The hot scan of a primary-key table: each bucket's current rows, read
 * from its kv page by page in key order, so a bucket of any size streams in
 * bounded memory.
 *
 * A page is the bucket's state at the high watermark it was read at. The
 * scan reports, per bucket, the high watermark before its first page: when
 * nothing is written meanwhile every row is exactly that state; a write
 * landing between pages may already show in later pages, and replaying the
 * changelog from the reported offset (whose changes carry full row images)
 * brings every key to its current state either way.
 */
import type { PhysicalTable } from "../catalog/partitions.ts";
import type { Column } from "../table/schema.ts";
import { decodeStream } from "../arrow/ipc.ts";
import { live, tabletStub } from "../tablet/stub.ts";
import { primaryKeySpec } from "../write/plan.ts";
import type { RowChunk } from "./scan-rows.ts";

/** Rows and bytes of kv one page carries at most. */
export const kvPageRowsMax = 10_000;
const kvPageBytesMax = 4 * 1024 * 1024;

/** Every current row of one bucket, as chunks over `columns` (a subset of the table's, in table order). */
export async function* kvBucketRows(env: Env, table: PhysicalTable, bucket: number, columns: readonly Column[]): AsyncGenerator<RowChunk> {
  const spec = primaryKeySpec(table.definition);
  const indexes = columns.map((c) => table.definition.columns.indexOf(c));
  const stub = tabletStub(env, table, bucket);
  let after: Uint8Array | undefined;
  do {
    const page = live(await stub.scanKv({ table: spec, prefix: new Uint8Array(0), after, rowsMax: kvPageRowsMax, bytesMax: kvPageBytesMax, isLookup: false }));
    if (page.rowCount > 0) {
      const batch = decodeStream(page.ipc).batches[0]!;
      yield { rowCount: page.rowCount, data: indexes.map((i) => batch.data.children[i]!) };
    }
    after = page.lastKey ?? undefined;
  } while (after !== undefined);
}
