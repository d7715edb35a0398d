/** How fresh a table's lake is kept: its coordinator runs a round every `table.datalake.freshness`. */
import { parseDurationMs, propertyOf } from "../table/properties.ts";
import type { TableDefinition } from "../table/schema.ts";

export function freshnessMs(definition: TableDefinition): number {
  return parseDurationMs(propertyOf(definition.properties, "table.datalake.freshness"));
}
