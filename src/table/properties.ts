/**
 * Table properties: string key/values, validated on create, with Fluss's
 * names where Fluss has one. Unknown keys are refused so a typo never
 * silently leaves a table with default behaviour.
 */
import { FloeError } from "../errors.ts";
import { isTimeZone, parseTimeUnit, timeUnits } from "./time-units.ts";

export type Properties = Readonly<Record<string, string>>;

interface PropertySpec {
  description: string;
  validate(value: string): void;
  primaryKeyOnly?: boolean;
  partitionedOnly?: boolean;
}

const booleanSpec = (description: string): PropertySpec => ({
  description,
  validate(value) {
    if (value !== "true" && value !== "false") throw new Error(`must be "true" or "false"`);
  },
});

const durationSpec = (description: string, minMs: number): PropertySpec => ({
  description,
  validate(value) {
    if (parseDurationMs(value) < minMs) throw new Error(`must be at least ${minMs / 1000}s`);
  },
});

const integerSpec = (description: string, min: number, max?: number): PropertySpec => ({
  description,
  validate(value) {
    if (!/^\d{1,9}$/.test(value) || Number(value) < min || (max !== undefined && Number(value) > max)) {
      throw new Error(max === undefined ? `must be an integer of at least ${min}` : `must be an integer from ${min} to ${max}`);
    }
  },
});

const sizeSpec = (description: string, minBytes: number): PropertySpec => ({
  description,
  validate(value) {
    if (parseSizeBytes(value) < minBytes) throw new Error(`must be at least ${minBytes} bytes`);
  },
});

const enumSpec = (description: string, allowed: string[], primaryKeyOnly = false): PropertySpec => ({
  description,
  primaryKeyOnly,
  validate(value) {
    if (!allowed.includes(value.toLowerCase())) throw new Error(`must be one of ${allowed.join(", ")}`);
  },
});

/**
 * Partitions automatic partitioning may create ahead or keep back: as many as a table holds at most
 * (`partitionLimits.partitionsPerTableMax`, not imported: the client's build takes this file, not that module's imports).
 */
const autoPartitionCountMax = 1000;

const propertySpecs: Record<string, PropertySpec> = {
  "table.datalake.enabled": booleanSpec("tier the table into Iceberg on R2"),
  "table.datalake.freshness": durationSpec("how stale the lake may get, e.g. 30s or 3min", 10_000),
  "table.datalake.auto-compaction": booleanSpec("bin-pack small lake files"),
  "table.datalake.auto-expire-snapshot": booleanSpec("expire old lake snapshots"),
  "table.datalake.auto-maintenance": booleanSpec("both auto-compaction and auto-expire-snapshot"),
  "table.datalake.snapshot.retention": durationSpec("how long an expired-by-age lake snapshot stays available, e.g. 5d", 1_000),
  "table.datalake.snapshot.min-keep": integerSpec("lake snapshots kept whatever their age", 1),
  "write.metadata.previous-versions-max": integerSpec("earlier metadata files the lake's metadata log keeps", 1),
  "table.datalake.compaction.target-file-size": sizeSpec("the size compaction packs small lake files into, e.g. 128mb", 1024),
  "table.datalake.compaction.min-input-files": integerSpec("small files a bucket needs before compaction rewrites them", 2),
  "table.log.ttl": durationSpec("how long tiered log data stays in the Tablets", 0),
  "table.merge-engine": enumSpec("how upserts merge: first_row or versioned", ["first_row", "versioned"], true),
  "table.merge-engine.versioned.ver-column": {
    description: "the version column of the versioned merge engine",
    primaryKeyOnly: true,
    validate() {},
  },
  "table.changelog.image": enumSpec("changelog images: full or wal", ["full", "wal"], true),
  "table.auto-partition.enabled": {
    ...booleanSpec("writes create the partitions their rows name, and a scheduled pass creates and expires partitions by time (docs/partitions.md)"),
    partitionedOnly: true,
  },
  "table.auto-partition.key": {
    description: "the partition key that holds time (needed when there are several)",
    partitionedOnly: true,
    validate() {},
  },
  "table.auto-partition.time-unit": {
    description: "the unit of automatic partitions: HOUR, DAY, MONTH, QUARTER or YEAR",
    partitionedOnly: true,
    validate(value) {
      if (parseTimeUnit(value) === undefined) throw new Error(`must be one of ${timeUnits.join(", ")} (in any case)`);
    },
  },
  "table.auto-partition.num-precreate": {
    ...integerSpec("partitions created ahead by time, counting the current one", 0, autoPartitionCountMax),
    partitionedOnly: true,
  },
  "table.auto-partition.num-retention": {
    ...integerSpec("units before the current one whose partitions stay in the hot tier", 0, autoPartitionCountMax),
    partitionedOnly: true,
  },
  "table.auto-partition.time-zone": {
    description: "the IANA time zone whose wall clock names automatic partitions, e.g. Europe/Berlin",
    partitionedOnly: true,
    validate(value) {
      if (!isTimeZone(value)) throw new Error("must be an IANA time zone such as UTC, Europe/Berlin or America/New_York");
    },
  },
};

export const propertyDefaults: Properties = {
  "table.datalake.enabled": "false",
  "table.datalake.freshness": "3min",
  "table.log.ttl": "7d",
  "table.datalake.snapshot.retention": "5d",
  "table.datalake.snapshot.min-keep": "1",
  "write.metadata.previous-versions-max": "100",
  "table.datalake.compaction.target-file-size": "128mb",
  "table.datalake.compaction.min-input-files": "5",
};

/** A property's value, or its default. */
export function propertyOf(properties: Properties, key: keyof typeof propertyDefaults & string): string {
  return properties[key] ?? propertyDefaults[key]!;
}

/** Validates a properties object for a table of this kind (some keys apply to primary-key or partitioned tables only). */
export function parseProperties(input: unknown, table: { primaryKey: boolean; partitioned: boolean }): Record<string, string> {
  if (input === undefined) return {};
  if (typeof input !== "object" || input === null || Array.isArray(input)) {
    throw FloeError.badRequest("properties must be an object of string values");
  }
  const properties: Record<string, string> = {};
  for (const [key, value] of Object.entries(input)) {
    const spec = propertySpecs[key];
    if (!spec) {
      throw FloeError.badRequest(`unknown property '${key}'; known: ${Object.keys(propertySpecs).join(", ")}`);
    }
    if (typeof value !== "string") throw FloeError.badRequest(`property '${key}' must be a string`);
    if (spec.primaryKeyOnly && !table.primaryKey) {
      throw FloeError.badRequest(`property '${key}' applies to primary-key tables only`);
    }
    if (spec.partitionedOnly && !table.partitioned) {
      throw FloeError.badRequest(`property '${key}' applies to partitioned tables only`);
    }
    try {
      spec.validate(value);
    } catch (error) {
      throw FloeError.badRequest(`property '${key}' ${(error as Error).message}, got "${value}"`);
    }
    properties[key] = value;
  }
  return properties;
}

const durationUnitsMs: Record<string, number> = {
  ms: 1, s: 1000, sec: 1000, secs: 1000, second: 1000, seconds: 1000,
  min: 60_000, mins: 60_000, minute: 60_000, minutes: 60_000,
  h: 3_600_000, hour: 3_600_000, hours: 3_600_000,
  d: 86_400_000, day: 86_400_000, days: 86_400_000,
};

/** Parses a duration such as `30s`, `3min`, `1 h` or `7d`, in milliseconds. */
export function parseDurationMs(text: string): number {
  const match = /^(\d+)\s*([a-z]+)$/i.exec(text.trim());
  const unitMs = match ? durationUnitsMs[match[2]!.toLowerCase()] : undefined;
  if (!match || unitMs === undefined) {
    throw new Error(`must be a duration such as 30s, 3min, 1h or 7d`);
  }
  return Number(match[1]) * unitMs;
}


const sizeUnits: Record<string, number> = { b: 1, kb: 1024, mb: 1024 ** 2, gb: 1024 ** 3 };

/** Parses a size such as `128mb`, `512 kb` or `1gb`, in bytes. */
export function parseSizeBytes(text: string): number {
  const match = /^(\d+)\s*([a-z]+)$/i.exec(text.trim());
  const unit = match ? sizeUnits[match[2]!.toLowerCase()] : undefined;
  if (!match || unit === undefined) throw new Error("must be a size such as 128mb, 512kb or 1gb");
  return Number(match[1]) * unit;
}
