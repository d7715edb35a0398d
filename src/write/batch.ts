/**
 * A validated batch of rows on its way into the log: one Arrow column per
 * table column, in the table's column order, every NOT NULL column free of
 * nulls. Decoders (`json.ts`, `arrow.ts`) produce it; `route.ts` splits it.
 */
import type * as arrow from "apache-arrow";
import { FloeError } from "../errors.ts";
import { requestLimits } from "../vocabulary.ts";

export interface RowBatch {
  rowCount: number;
  columns: arrow.Data[];
}

export function assertRowCount(rowCount: number): void {
  if (rowCount === 0) throw FloeError.badRequest("the request holds no rows");
  if (rowCount > requestLimits.rowsPerWriteMax) {
    throw new FloeError(
      "payload_too_large",
      `a write carries at most ${requestLimits.rowsPerWriteMax} rows, got ${rowCount}; split it`,
    );
  }
}
