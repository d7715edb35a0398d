/** What statistics say about one column of a file or row group; absent fields are unknown. */
import type { Scalar } from "./values.ts";

export interface ColumnStats {
  min?: Scalar;
  max?: Scalar;
  nullCount?: number;
  valueCount?: number;
}
