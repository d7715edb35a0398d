/** Rows as Arrow columns: the one in-memory form of a batch of rows on every path. */
import type * as arrow from "apache-arrow";

export interface ColumnBatch {
  rowCount: number;
  /** One column per schema column, each `rowCount` long. */
  columns: arrow.Data[];
}
