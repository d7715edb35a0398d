/**
 * A table's automatic partitions: which partition key holds time, its unit
 * and time zone, how many partitions ahead are created and how many units
 * back are kept; read from the `table.auto-partition.*` properties with
 * Fluss's defaults, and checked against the partition keys at creation.
 *
 * Invariant: a table whose definition passed `checkAutoPartitioning` has
 * options `autoPartitioningOf` reads without failing; a table with several
 * partition keys pre-creates nothing (its other keys' values are unknown),
 * as in Fluss, which defaults `num-precreate` to 0 for it and refuses
 * another value.
 */
import { FloeError } from "../errors.ts";
import type { Properties } from "./properties.ts";
import type { TimeUnit } from "./time-units.ts";
import { parseTimeUnit } from "./time-units.ts";

export interface AutoPartitioning {
  /** The partition key whose values are time units. */
  key: string;
  unit: TimeUnit;
  timeZone: string;
  /** Partitions created ahead, counting the current one (Fluss's meaning: 2 is the current and the next). */
  precreateCount: number;
  /** Units before the current one whose partitions stay in the hot tier; older ones are dropped. */
  retentionCount: number;
}

const autoPartitionDefaults = {
  unit: "DAY",
  precreateCount: 2,
  retentionCount: 7,
  // Fluss defaults to the system zone; a Worker has none, so UTC.
  timeZone: "UTC",
} as const;

/** Whether the table has automatic partitioning, which also lets every write create the partitions its rows name. */
export const isAutoPartitioned = (properties: Properties) => properties["table.auto-partition.enabled"] === "true";

/** Checks the auto-partition options against the table's partition keys (each value was checked on its own already). */
export function checkAutoPartitioning(properties: Properties, partitionKeys: readonly string[]): void {
  const key = properties["table.auto-partition.key"];
  if (key !== undefined && !partitionKeys.includes(key)) {
    throw FloeError.badRequest(`table.auto-partition.key '${key}' must be one of the partition keys: ${partitionKeys.join(", ")}`);
  }
  const precreate = properties["table.auto-partition.num-precreate"];
  if (partitionKeys.length > 1 && precreate !== undefined && precreate !== "0") {
    throw FloeError.badRequest(
      `table.auto-partition.num-precreate must be 0 for a table partitioned by several keys (${partitionKeys.join(", ")}): the values of the keys besides the time key are unknown, so nothing can be created ahead`,
    );
  }
  if (isAutoPartitioned(properties) && key === undefined && partitionKeys.length > 1) {
    throw FloeError.badRequest(
      `a table partitioned by several keys (${partitionKeys.join(", ")}) needs table.auto-partition.key to name the one that holds time`,
    );
  }
}

/** The automatic partitioning of a table with `table.auto-partition.enabled`, or null. */
export function autoPartitioningOf(definition: { partitionKeys: readonly string[]; properties: Properties }): AutoPartitioning | null {
  const { partitionKeys, properties } = definition;
  if (!isAutoPartitioned(properties) || partitionKeys.length === 0) return null;
  const count = (name: string, fallback: number) => {
    const text = properties[`table.auto-partition.${name}`];
    return text === undefined ? fallback : Number(text);
  };
  const unitText = properties["table.auto-partition.time-unit"];
  return {
    key: properties["table.auto-partition.key"] ?? partitionKeys[0]!,
    unit: (unitText === undefined ? undefined : parseTimeUnit(unitText)) ?? autoPartitionDefaults.unit,
    timeZone: properties["table.auto-partition.time-zone"] ?? autoPartitionDefaults.timeZone,
    precreateCount: partitionKeys.length > 1 ? 0 : count("num-precreate", autoPartitionDefaults.precreateCount),
    retentionCount: count("num-retention", autoPartitionDefaults.retentionCount),
  };
}
