/**
 * How a table's lake is maintained, from its properties (Fluss's names;
 * Iceberg's for the metadata log): whether snapshots expire and compaction
 * runs, and their thresholds.
 */
import { parseDurationMs, parseSizeBytes, propertyOf } from "../table/properties.ts";
import type { TableDefinition } from "../table/schema.ts";

export interface ExpiryPolicy {
  /** Whether old snapshots (and the files only they reference) are removed. */
  enabled: boolean;
  retentionMs: number;
  minKeep: number;
  /** Earlier metadata files the metadata log names (always applied; their files are deleted when `enabled`). */
  previousVersionsMax: number;
}

export interface CompactionPolicy {
  enabled: boolean;
  targetFileBytes: number;
  minInputFiles: number;
}

const flag = (definition: TableDefinition, key: string) => definition.properties[key] === "true";
const maintained = (definition: TableDefinition) => flag(definition, "table.datalake.auto-maintenance");

export function expiryPolicy(definition: TableDefinition): ExpiryPolicy {
  const { properties } = definition;
  return {
    enabled: maintained(definition) || flag(definition, "table.datalake.auto-expire-snapshot"),
    retentionMs: parseDurationMs(propertyOf(properties, "table.datalake.snapshot.retention")),
    minKeep: Number(propertyOf(properties, "table.datalake.snapshot.min-keep")),
    previousVersionsMax: Number(propertyOf(properties, "write.metadata.previous-versions-max")),
  };
}

export function compactionPolicy(definition: TableDefinition): CompactionPolicy {
  const { properties } = definition;
  return {
    enabled: maintained(definition) || flag(definition, "table.datalake.auto-compaction"),
    targetFileBytes: parseSizeBytes(propertyOf(properties, "table.datalake.compaction.target-file-size")),
    minInputFiles: Number(propertyOf(properties, "table.datalake.compaction.min-input-files")),
  };
}
