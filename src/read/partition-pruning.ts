/**
 * Pruning a partitioned table's lake by its partition keys, before any
 * data is fetched: a manifest whose partition summaries (the manifest
 * list's lower and upper bound of each identity field) rule a filter out
 * is never read, and a file whose partition tuple does is never opened.
 *
 * Invariant: conservative, as `mayMatch` is: a manifest or file is pruned
 * only when no row it holds can satisfy every predicate.
 */
import type { ManifestFile } from "../iceberg/manifest.ts";
import type { TableDefinition } from "../table/schema.ts";
import type { ColumnStats } from "../table/stats.ts";
import { mayMatch, partitionMayMatch } from "./filter.ts";
import type { Predicate } from "./filter.ts";

export interface LakePruning {
  /** Whether the manifest may hold a matching file, by its partition summaries. */
  manifest(manifest: ManifestFile): boolean;
  /** Whether a file of the partition with these values (one per partition key) may hold a matching row. */
  file(values: readonly string[]): boolean;
}

/**
 * The pruning of `predicates` on a table's partition keys, and of the one
 * partition a scan names (`values`), if any.
 */
export function lakePruning(definition: TableDefinition, predicates: readonly Predicate[], values?: readonly string[]): LakePruning {
  const keys = definition.partitionKeys;
  const named: Predicate[] = (values ?? []).map((value, i) => ({ column: definition.columns.find((c) => c.name === keys[i])!, op: "=", values: [value] }));
  const all = [...predicates.filter((p) => keys.includes(p.column.name)), ...named];
  const utf8 = new TextDecoder();
  return {
    manifest: (manifest) => mayMatch(all, (column): ColumnStats | undefined => {
      const summary = manifest.partitions[keys.indexOf(column.name)];
      if (!summary?.lowerBound || !summary.upperBound) return undefined;
      return { min: utf8.decode(summary.lowerBound), max: utf8.decode(summary.upperBound), ...(summary.containsNull ? {} : { nullCount: 0 }) };
    }),
    file: (fileValues) => partitionMayMatch(all, keys, fileValues),
  };
}
