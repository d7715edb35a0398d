/**
 * When a table is tiered: how fresh its lake must be kept, and whether that
 * is finer than the minute cron, in which case a `LakeScheduler` alarm
 * tiers it.
 */
import { parseDurationMs, propertyDefaults } from "../table/properties.ts";
import type { TableDefinition } from "../table/schema.ts";
import { isLakeEnabled } from "../table/schema.ts";

/** Freshness the minute cron already honours; below it a table gets its own alarm. */
const cronIntervalMs = 60_000;

export function freshnessMs(definition: TableDefinition): number {
  return parseDurationMs(definition.properties["table.datalake.freshness"] ?? propertyDefaults["table.datalake.freshness"]!);
}

export function needsScheduler(definition: TableDefinition): boolean {
  return isLakeEnabled(definition) && freshnessMs(definition) < cronIntervalMs;
}
