/**
 * Partitions of a partitioned table: how one is named, which values may
 * name it, and how many a table may have.
 *
 * A partition is identified by one value per partition key (STRING
 * columns, in the order the table declares them). Its spec, the name URLs,
 * query parameters and answers carry, is Fluss's qualified partition name:
 * `key=value` pairs joined with `/` in partition-key order (`dt=20261130`,
 * `region=eu/dt=20261130`).
 *
 * Invariant: a partition value is 1..200 characters of `[A-Za-z0-9_-]` and
 * does not start with `__` (Fluss's rule), so a spec is safe unescaped in R2
 * keys, URL paths and query strings, and neither `=` nor `/` occurs inside a
 * value: a spec parses back to exactly its values.
 */
import type * as arrow from "apache-arrow";
import { FloeError } from "../errors.ts";
import { readScalar, valueBytes } from "./columns.ts";
import type { FloeType } from "./types.ts";

export const partitionLimits = {
  /** Characters of one partition value (Fluss's limit). */
  valueLengthMax: 200,
  /** Partitions one table holds at most (Fluss's `max.partition.num`). */
  partitionsPerTableMax: 1000,
  /**
   * Tablets (partitions × buckets) one table holds at most. A deployed
   * Worker makes 10,000 subrequests per request by default, and a scan of
   * the whole table calls each Tablet twice (its status, then its rows), as
   * a lake round calls each Tablet's writer up to twice (the round, then
   * settling it): 2 × 4,096 fits.
   */
  tabletsPerTableMax: 4096,
  /**
   * Characters of a partition's spec. R2 keys hold at most 1,024 bytes, and
   * a lake data file's key holds the spec beside the table's key (database
   * and table names and an id: up to 294), the bucket field (up to about
   * 145: a column name, `_bucket`, the bucket) and the file's name (up to
   * about 90), with room to spare.
   */
  specLengthMax: 400,
  /** Tablets one write may reach (its partitions × the table's buckets): what an unpartitioned table of 1,024 buckets reaches. */
  tabletsPerWriteMax: 1024,
} as const;

const valuePattern = /^[A-Za-z0-9_-]+$/;
const partitionKeyType: FloeType = { kind: "STRING" };

/** Why `value` cannot name a partition, or undefined when it can. */
function partitionValueProblem(value: string): string | undefined {
  if (value.length === 0) return "a partition value cannot be empty";
  if (value.length > partitionLimits.valueLengthMax) {
    return `a partition value has at most ${partitionLimits.valueLengthMax} characters, got ${value.length}`;
  }
  if (!valuePattern.test(value)) return `partition value '${value}' may hold only the characters A-Z a-z 0-9 _ -`;
  if (value.startsWith("__")) return `partition value '${value}' cannot start with __ (reserved)`;
  return undefined;
}

/** The spec of the partition with these values (one per key, in key order). */
export function formatPartitionSpec(keys: readonly string[], values: readonly string[]): string {
  return keys.map((key, i) => `${key}=${values[i]}`).join("/");
}

/**
 * A spec's values in partition-key order. Every key must be named exactly
 * once, in any order, so `dt=1/region=eu` names the same partition as
 * `region=eu/dt=1`; the canonical spec is `formatPartitionSpec`'s.
 */
export function parsePartitionSpec(keys: readonly string[], text: string): string[] {
  const shape = `a partition is named ${keys.map((k) => `${k}=<value>`).join("/")}`;
  if (text.length > keys.length * (partitionLimits.valueLengthMax + 130)) throw FloeError.badRequest(`${shape}; got ${text.length} characters`);
  const values = new Map<string, string>();
  for (const pair of text.split("/")) {
    const equals = pair.indexOf("=");
    const key = equals < 0 ? pair : pair.slice(0, equals);
    if (equals < 0 || !keys.includes(key)) throw FloeError.badRequest(`${shape}; got '${text.slice(0, 100)}'`);
    if (values.has(key)) throw FloeError.badRequest(`partition key '${key}' is named twice in '${text.slice(0, 100)}'`);
    const value = pair.slice(equals + 1);
    const problem = partitionValueProblem(value);
    if (problem) throw FloeError.badRequest(`partition key '${key}': ${problem}`);
    values.set(key, value);
  }
  const missing = keys.find((key) => !values.has(key));
  if (missing) throw FloeError.badRequest(`${shape}; '${text.slice(0, 100)}' has no value for '${missing}'`);
  const ordered = keys.map((key) => values.get(key)!);
  const problem = specLengthProblem(formatPartitionSpec(keys, ordered));
  if (problem) throw FloeError.badRequest(problem);
  return ordered;
}

/**
 * The spec of the partition a row names, from its partition-key columns
 * (`data`, in key order), or which value cannot name one.
 */
export function partitionOfRow(keys: readonly string[], data: readonly arrow.Data[], row: number): { spec: string } | { problem: string } {
  const values: string[] = [];
  for (let i = 0; i < keys.length; i++) {
    const value = readScalar(partitionKeyType, data[i]!, row) as string;
    const problem = partitionValueProblem(value);
    if (problem) return { problem: `column '${keys[i]}': ${problem}` };
    values.push(value);
  }
  const spec = formatPartitionSpec(keys, values);
  const problem = specLengthProblem(spec);
  return problem ? { problem } : { spec };
}

/** Whether rows `a` and `b` hold the same partition-key values, compared as bytes without decoding them. */
export function samePartitionValues(data: readonly arrow.Data[], a: number, b: number): boolean {
  return data.every((column) => {
    const x = valueBytes(column, a);
    const y = valueBytes(column, b);
    return x.length === y.length && x.every((byte, i) => byte === y[i]);
  });
}

/** Why `spec` is too long to name a partition, or undefined. */
function specLengthProblem(spec: string): string | undefined {
  if (spec.length <= partitionLimits.specLengthMax) return undefined;
  return `a partition's spec has at most ${partitionLimits.specLengthMax} characters, got ${spec.length} ('${spec.slice(0, 60)}…')`;
}

/** Partitions a table of `bucketCount` buckets may hold: within both the partition and the Tablet caps. */
export function partitionsMaxOf(bucketCount: number): number {
  return Math.min(partitionLimits.partitionsPerTableMax, Math.floor(partitionLimits.tabletsPerTableMax / bucketCount));
}

/** Partitions one write may reach in a table of `bucketCount` buckets. */
export function partitionsPerWriteMaxOf(bucketCount: number): number {
  return Math.max(1, Math.floor(partitionLimits.tabletsPerWriteMax / bucketCount));
}
