/**
 * A validated batch of rows on its way into the log: one Arrow column per
 * table column, in the table's column order, every NOT NULL column free of
 * nulls. Decoders (`json.ts`, `arrow.ts`) produce it; `route.ts` splits it.
 */
import { FloeError } from "../errors.ts";
import type { ColumnBatch } from "../arrow/batch.ts";
import type { TableDefinition } from "../table/schema.ts";
import { requestLimits } from "../vocabulary.ts";

export type RowBatch = ColumnBatch;

export function assertRowCount(rowCount: number): void {
  if (rowCount === 0) throw FloeError.badRequest("the request holds no rows");
  if (rowCount > requestLimits.rowsPerWriteMax) {
    throw new FloeError(
      "payload_too_large",
      `a write carries at most ${requestLimits.rowsPerWriteMax} rows, got ${rowCount}; split it`,
    );
  }
}

/** The message for a field the write does not take: unknown to the table, or not part of this kind of write. */
export function unexpectedColumn(definition: TableDefinition, where: string, name: string): string {
  return definition.columns.some((c) => c.name === name)
    ? `${where} has column '${name}', which this request does not take (deletes and lookups carry only key columns; partial updates the key and ?columns=)`
    : `${where} has unknown column '${name}'`;
}
