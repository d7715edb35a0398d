/**
 * Validates a client's subscribe message against the table and turns it
 * into one `TabletSubscription` per bucket: of the table, of the partition
 * it names, or, for a partitioned table's subscription that names none, of
 * each partition it follows (`EveryPartition`). Offsets are checked
 * against each bucket's log by its Tablet, which alone knows them.
 */
import { FloeError } from "../errors.ts";
import type { TableDefinition } from "../table/schema.ts";
import { columnSpec, isPartitioned } from "../table/schema.ts";
import { formatPartitionSpec, parsePartitionSpec } from "../table/partitioning.ts";
import { projectColumns } from "../log/page.ts";
import type { BucketStart, TabletSubscription } from "./subscription.ts";
import { bucketWindowBytes, tabletsPerSubscriptionMax } from "./subscription.ts";

const knownFields = new Set(["from", "buckets", "columns", "format", "partition"]);
/** A Tablet keeps a subscriber's options in its socket attachment, which holds at most 16 KiB. */
const columnsBytesMax = 12 * 1024;

export type ParsedSubscription =
  | {
      kind: "one";
      /** The partition the message names (its spec, as sent); the catalog knows whether it exists. */
      partition: string | undefined;
      buckets: TabletSubscription[];
    }
  | { kind: "every"; every: EveryPartition };

/** A subscription that follows every partition of a partitioned table. */
export interface EveryPartition {
  /** Buckets followed in each partition. */
  bucketCount: number;
  /**
   * The subscriptions of a partition's buckets (`spec` canonical): where
   * `from` starts them, or, for a partition created after the subscription
   * started that `from.offsets` does not name, at the earliest offset (all
   * its rows are new).
   */
  bucketsOf(spec: string, createdAfterStart: boolean): TabletSubscription[];
}

/** `principal` is who subscribes (`TabletSubscription.principal`). */
export function parseSubscribeMessage(definition: TableDefinition, text: string, principal: string): ParsedSubscription {
  let message: unknown;
  try {
    message = JSON.parse(text);
  } catch {
    throw FloeError.badRequest("the first message must be JSON: { from, partition?, buckets?, columns?, format? }");
  }
  if (typeof message !== "object" || message === null || Array.isArray(message)) {
    throw FloeError.badRequest("the first message must be a JSON object: { from, partition?, buckets?, columns?, format? }");
  }
  const body = message as Record<string, unknown>;
  const unknown = Object.keys(body).find((k) => !knownFields.has(k));
  if (unknown) throw FloeError.badRequest(`unknown subscribe field '${unknown}'`);
  if (body.partition !== undefined && typeof body.partition !== "string") {
    throw FloeError.badRequest("partition must be a partition's spec, e.g. \"dt=20261130\"");
  }
  const format = body.format ?? "json";
  if (format !== "json" && format !== "arrow") throw FloeError.badRequest(`format must be json or arrow, got ${JSON.stringify(format)}`);
  if (body.columns !== undefined && (!Array.isArray(body.columns) || body.columns.some((c) => typeof c !== "string"))) {
    throw FloeError.badRequest("columns must be an array of column names");
  }
  const columns = projectColumns(definition.columns, body.columns as string[] | undefined).map(columnSpec);
  const optionsBytes = JSON.stringify(columns).length;
  if (optionsBytes > columnsBytesMax) {
    throw FloeError.badRequest(
      `too many columns for one subscription (${optionsBytes} bytes of column options; a socket keeps at most ${columnsBytesMax}): name fewer in columns`,
    );
  }
  const options = { columns, format, heldBy: "relay", principal } as const;
  if (isPartitioned(definition) && body.partition === undefined) return { kind: "every", every: parseEveryPartition(definition, body, options) };
  const starts = parseFrom(body.from, definition.bucket.num);
  const buckets = parseBuckets(body.buckets, definition.bucket.num, starts);
  const windowBytes = bucketWindowBytes(buckets.length);
  return {
    kind: "one",
    partition: body.partition,
    buckets: buckets.map((bucket) => ({ bucket, start: starts(bucket), windowBytes, ...options })),
  };
}

type SubscriptionOptions = Pick<TabletSubscription, "columns" | "format" | "heldBy" | "principal">;

/**
 * `from` of a subscription that follows every partition: a start for all
 * (`"earliest"`, `"latest"`, `{ timestamp }`), or `{ offsets: { "<partition>":
 * { "<bucket>": offset } }, else? }`, where what `offsets` does not name
 * starts at `else`, or at the earliest offset.
 */
function parseEveryPartition(definition: TableDefinition, body: Record<string, unknown>, options: SubscriptionOptions): EveryPartition {
  const bucketCount = definition.bucket.num;
  const all = parseBuckets(body.buckets, bucketCount, () => ({ position: "earliest" }));
  const earliest = (): BucketStart => ({ position: "earliest" });
  const from = body.from;
  const byPartition = new Map<string, Starts>();
  let otherwise: Starts | undefined;
  if (typeof from === "object" && from !== null && "offsets" in from) {
    const { offsets, else: rest, ...extra } = from as Record<string, unknown>;
    if (Object.keys(extra).length > 0 || typeof offsets !== "object" || offsets === null || Array.isArray(offsets)) {
      throw FloeError.badRequest("following every partition, from.offsets is { \"<partition>\": { \"<bucket>\": offset } }, with else? for the rest");
    }
    otherwise = rest === undefined ? undefined : parseElse(rest, bucketCount);
    for (const [text, bucketOffsets] of Object.entries(offsets)) {
      const spec = formatPartitionSpec(definition.partitionKeys, parsePartitionSpec(definition.partitionKeys, text));
      byPartition.set(spec, parseFrom({ offsets: bucketOffsets, else: rest ?? "earliest" }, bucketCount));
    }
  } else {
    otherwise = parseFrom(from, bucketCount);
  }
  const windowBytes = bucketWindowBytes(tabletsPerSubscriptionMax);
  return {
    bucketCount: all.length,
    bucketsOf(spec, createdAfterStart) {
      const starts = byPartition.get(spec) ?? (createdAfterStart ? earliest : otherwise ?? earliest);
      return all.map((bucket) => ({ partition: spec, bucket, start: starts(bucket), windowBytes, ...options }));
    },
  };
}

function checkBucket(bucket: unknown, bucketCount: number): number {
  if (typeof bucket !== "number" || !Number.isInteger(bucket) || bucket < 0 || bucket >= bucketCount) {
    throw FloeError.badRequest(`bucket ${JSON.stringify(bucket)} does not exist; the table has buckets 0..${bucketCount - 1}`);
  }
  return bucket;
}

type Starts = ((bucket: number) => BucketStart) & { named?: number[] };

const fromShape = "from must be \"earliest\", \"latest\", { offsets: {bucket: offset}, else? } or { timestamp }";

function parseFrom(from: unknown, bucketCount: number): Starts {
  if (from === "earliest" || from === "latest") return () => ({ position: from });
  if (typeof from === "object" && from !== null && !Array.isArray(from)) {
    const { offsets, timestamp, else: otherwise, ...rest } = from as Record<string, unknown>;
    if (Object.keys(rest).length > 0 || (offsets === undefined) === (timestamp === undefined)) {
      throw FloeError.badRequest(fromShape);
    }
    if (timestamp !== undefined) {
      if (otherwise !== undefined) throw FloeError.badRequest("from.else goes with from.offsets only");
      const timestampMs = typeof timestamp === "number" ? timestamp : typeof timestamp === "string" ? Date.parse(timestamp) : NaN;
      if (!Number.isFinite(timestampMs)) throw FloeError.badRequest(`from.timestamp ${JSON.stringify(timestamp)} is not ISO-8601 or epoch milliseconds`);
      return () => ({ timestampMs });
    }
    if (typeof offsets !== "object" || offsets === null || Array.isArray(offsets) || Object.keys(offsets).length === 0) {
      throw FloeError.badRequest("from.offsets must be an object of bucket → offset");
    }
    const byBucket = new Map<number, number>();
    for (const [key, offset] of Object.entries(offsets)) {
      const bucket = checkBucket(/^\d+$/.test(key) ? Number(key) : key, bucketCount);
      if (typeof offset !== "number" || !Number.isSafeInteger(offset) || offset < 0) {
        throw FloeError.badRequest(`from.offsets["${key}"] must be a non-negative integer`);
      }
      byBucket.set(bucket, offset);
    }
    const others = otherwise === undefined ? undefined : parseElse(otherwise, bucketCount);
    const starts: Starts = (bucket) => {
      const offset = byBucket.get(bucket);
      if (offset !== undefined) return { offset };
      if (others === undefined) throw FloeError.badRequest(`bucket ${bucket} has no offset in from.offsets`);
      return others(bucket);
    };
    // With `else`, every bucket has a start, so `buckets` defaults to all of them.
    if (others === undefined) starts.named = [...byBucket.keys()].sort((a, b) => a - b);
    return starts;
  }
  throw FloeError.badRequest(fromShape);
}

/** `from.else`: where the buckets `from.offsets` does not name start. */
function parseElse(otherwise: unknown, bucketCount: number): Starts {
  if (typeof otherwise === "object" && otherwise !== null && "offsets" in otherwise) {
    throw FloeError.badRequest("from.else must be \"earliest\", \"latest\" or { timestamp }");
  }
  return parseFrom(otherwise, bucketCount);
}

function parseBuckets(buckets: unknown, bucketCount: number, starts: Starts): number[] {
  if (buckets === undefined) return starts.named ?? Array.from({ length: bucketCount }, (_, b) => b);
  if (!Array.isArray(buckets) || buckets.length === 0) throw FloeError.badRequest("buckets must be a non-empty array");
  const chosen = buckets.map((b) => checkBucket(b, bucketCount));
  if (new Set(chosen).size !== chosen.length) throw FloeError.badRequest("buckets names a bucket twice");
  chosen.forEach((bucket) => starts(bucket));
  return chosen;
}
