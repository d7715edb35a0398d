/**
 * The typed client's subscriptions of partitioned tables: every partition
 * (also one created after the start) or one, batches naming their
 * partition (JSON and Arrow), acks keyed by partition (or, following one
 * partition, by bucket) past the server's window, a primary-key state
 * from the lake acknowledged in parts per partition, resume across
 * partitions after dropped connections with no row lost or repeated, a
 * partition created while no connection stood, and a partition dropped
 * (and created again) under a live subscription.
 */
import { exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { Floe } from "../../src/client/floe.ts";
import type { PartitionDropped, ReceivedBatch, SubscriptionError } from "../../src/client/subscribe.ts";
import { bucketWindowBytes, partitionPollMs, tabletsPerSubscriptionMax, windowRows } from "../../src/protocol/subscription.ts";
import { base, createTable, ok, waitFor } from "./helpers.ts";
import { eventsByDay } from "./partition-fixtures.ts";

const db = "csub";
const client = new Floe({ url: base, fetch: ((input: RequestInfo | URL, init?: RequestInit) => exports.default.fetch(input, init)) as typeof fetch });
/** Long enough for the relay to look for new partitions once or twice. */
const pollWaitMs = 3 * partitionPollMs;

async function connect(url: string): Promise<WebSocket> {
  const response = await exports.default.fetch(url.replace(/^ws/, "http"), { headers: { Upgrade: "websocket" } });
  if (!response.webSocket) throw new Error(`no upgrade: ${response.status} ${await response.text()}`);
  response.webSocket.accept();
  return response.webSocket;
}

const rows = (from: number, count: number, dt: string) => Array.from({ length: count }, (_, i) => ({ dt, id: from + i, user: `u${(from + i) % 7}` }));

/** What the handler saw, per partition and bucket, checking each batch names the partition of its rows. */
function collect() {
  const seen = new Map<string, { _offset: number; id: number; dt: string }[]>();
  const onBatch = (batch: ReceivedBatch) => {
    const batchRows = (batch.rows ?? batch.table!.toArray().map((r) => r.toJSON())) as { _offset: number; id: number; dt: string }[];
    expect(batchRows.length).toBe(batch.lastOffset - batch.firstOffset + 1);
    for (const row of batchRows) expect(batch.partition).toBe(`dt=${row.dt}`);
    const key = `${batch.partition}/${batch.bucket}`;
    seen.set(key, [...(seen.get(key) ?? []), ...batchRows]);
  };
  const all = () => [...seen.values()].flat();
  const ids = () => all().map((r) => Number(r.id)).sort((a, b) => a - b);
  return { seen, onBatch, all, ids, count: () => all().length };
}

/** Each (partition, bucket)'s high watermark, through the client's partition list. */
async function highWatermarks(table: string): Promise<Map<string, number>> {
  const marks = new Map<string, number>();
  for await (const partition of client.table(db, table).allPartitions()) {
    for (const bucket of partition.buckets) marks.set(`${partition.partition}/${bucket.bucket}`, bucket.highWatermark);
  }
  return marks;
}

/** Every (partition, bucket) was seen from offset 0 to its high watermark, each offset once. */
async function expectEveryOffsetOnce(table: string, seen: ReturnType<typeof collect>): Promise<void> {
  for (const [key, highWatermark] of await highWatermarks(table)) {
    expect((seen.seen.get(key) ?? []).map((r) => Number(r._offset)), key).toEqual(Array.from({ length: highWatermark }, (_, i) => i));
  }
}

const range = (from: number, count: number) => Array.from({ length: count }, (_, i) => from + i);

describe("the client's subscription of a partitioned table", () => {
  it("follows every partition, also one created after it started, acking by partition, and one partition alone", async () => {
    await createTable(db, "every", eventsByDay);
    const events = client.table(db, "every");
    await events.write([...rows(0, 10, "a"), ...rows(100, 10, "b")], { dynamicPartitions: true });
    const seen = collect();
    const errors: SubscriptionError[] = [];
    const subscription = events.subscribe({ from: "earliest", onBatch: seen.onBatch, onError: (e) => errors.push(e), connect });
    await waitFor(() => seen.count() === 20, "the backlog of both partitions");
    await events.write([...rows(10, 5, "a"), ...rows(200, 6, "c")], { dynamicPartitions: true });
    await waitFor(() => seen.count() === 31, "the new partition's rows", pollWaitMs);
    expect(seen.ids()).toEqual([...range(0, 15), ...range(100, 10), ...range(200, 6)]);
    // Acks name the partition: a bad one would have ended the subscription with bad_request.
    await new Promise((r) => setTimeout(r, 200));
    expect(errors).toEqual([]);
    expect(Object.keys(subscription.partitionPositions()).sort()).toEqual(["dt=a", "dt=b", "dt=c"]);
    expect(subscription.positions()).toEqual({});
    subscription.close();

    let inA = 15;
    for (const format of ["json", "arrow"] as const) {
      const one = collect();
      const only = events.subscribe({ from: "earliest", partition: "dt=a", format, onBatch: one.onBatch, onError: (e) => errors.push(e), connect });
      await waitFor(() => one.count() === inA, `the one partition's rows (${format})`);
      await events.write([...rows(inA, 3, "a"), ...rows(300 + inA, 3, "b")]);
      inA += 3;
      await waitFor(() => one.count() === inA, `its new rows (${format})`);
      expect(one.all().every((r) => r.dt === "a")).toBe(true);
      expect(Object.values(only.positions()).reduce((n, next) => n + next, 0)).toBe(one.count());
      only.close();
    }
    expect(errors).toEqual([]);
  });

  it("acks every partition's buckets past the server's window, in JSON and Arrow", async () => {
    await createTable(db, "window", eventsByDay);
    const events = client.table(db, "window");
    // Each bucket of a subscription of every partition has 64 KiB in flight: these rows need several acks per bucket.
    expect(bucketWindowBytes(tabletsPerSubscriptionMax)).toBe(64 * 1024);
    const perPartition = 6_000;
    for (const dt of ["a", "b"]) await events.write(rows(dt === "a" ? 0 : perPartition, perPartition, dt), { dynamicPartitions: true });
    for (const format of ["json", "arrow"] as const) {
      const seen = collect();
      const errors: SubscriptionError[] = [];
      const subscription = events.subscribe({ from: "earliest", format, onBatch: seen.onBatch, onError: (e) => errors.push(e), connect });
      await waitFor(() => seen.count() === 2 * perPartition || errors.length > 0, `every row (${format})`, 30_000);
      expect(errors).toEqual([]);
      expect(seen.ids()).toEqual(range(0, 2 * perPartition));
      subscription.close();
    }
  });

  it("acks one partition's one bucket past the server's window of rows, on the socket its Tablet holds", async () => {
    await createTable(db, "single", { ...eventsByDay, bucket: { num: 1 } });
    const events = client.table(db, "single");
    const count = windowRows + 5_000;
    await events.write([...rows(0, count, "a"), ...rows(count, 10, "b")], { dynamicPartitions: true });
    const seen = collect();
    const errors: SubscriptionError[] = [];
    const subscription = events.subscribe({ from: "earliest", partition: "dt=a", buckets: [0], onBatch: seen.onBatch, onError: (e) => errors.push(e), connect });
    await waitFor(() => seen.count() === count || errors.length > 0, "every row of the partition", 30_000);
    expect(errors).toEqual([]);
    expect(seen.ids()).toEqual(range(0, count));
    expect(subscription.positions()).toEqual({ 0: count });
    subscription.close();
  });

  it("takes each partition's primary-key state from the lake, acking its parts by partition, then its changelog, in JSON and Arrow", async () => {
    await createTable(db, "lake_users", {
      columns: [{ name: "dt", type: "STRING" }, { name: "id", type: "INT" }, { name: "name", type: "STRING" }],
      primaryKey: ["dt", "id"],
      partitionKeys: ["dt"],
      bucket: { num: 2 },
      properties: { "table.datalake.enabled": "true", "table.log.ttl": "0s" },
    });
    const users = client.table(db, "lake_users");
    const people = (dt: string, ids: number[], name: string) => ids.map((id) => ({ dt, id, name: `${name}${id}` }));
    await users.write([...people("a", range(0, 20), "a"), ...people("b", range(0, 20), "b")], { dynamicPartitions: true });
    await client.tier();
    await users.write(people("a", [1, 2, 3], "again"));
    await client.tier();
    // After the lake's state, changelog rows: the subscription gets them only once every part was acknowledged.
    await users.write([...people("a", [5], "hot"), ...people("b", [40], "new")]);
    for (const format of ["json", "arrow"] as const) {
      const state = new Map<string, string>();
      let lastParts = 0;
      const errors: SubscriptionError[] = [];
      const subscription = users.subscribe({
        from: "earliest",
        format,
        onBatch(batch) {
          const batchRows = (batch.rows ?? batch.table!.toArray().map((r) => r.toJSON())) as { dt: string; id: number; name: string }[];
          for (const row of batchRows) {
            expect(batch.partition).toBe(`dt=${row.dt}`);
            state.set(`${batch.partition}/${row.id}`, row.name);
          }
          if (batch.snapshot?.last) lastParts++;
        },
        onError: (e) => errors.push(e),
        connect,
      });
      await waitFor(() => state.size === 41 || errors.length > 0, `every partition's state and changelog (${format})`);
      expect(errors).toEqual([]);
      expect(lastParts).toBe(4);
      expect([state.get("dt=a/1"), state.get("dt=a/5"), state.get("dt=b/40")]).toEqual(["again1", "hot5", "new40"]);
      subscription.close();
    }
  });

  it("resumes across partitions after dropped connections, with no row lost or repeated, under writes that create partitions", async () => {
    await createTable(db, "resume", eventsByDay);
    const events = client.table(db, "resume");
    await events.write(rows(0, 30, "d0"), { dynamicPartitions: true });
    const seen = collect();
    let connections = 0;
    // Every connection is cut after a few batches; the client must resume from its offsets.
    const flaky = async (url: string) => {
      const ws = await connect(url);
      connections++;
      let batches = 0;
      ws.addEventListener("message", (e) => {
        if (typeof e.data === "string" && e.data.startsWith('{"type":"batch"') && ++batches === 3) ws.close(1000, "test cuts the connection");
      });
      return ws;
    };
    const subscription = events.subscribe({ from: "earliest", onBatch: seen.onBatch, connect: flaky, reconnectDelayMs: 5 });
    let written = 30;
    for (let round = 0; round < 30; round++) {
      const size = 1 + ((round * 7) % 20);
      // Rounds spread over a growing set of partitions, each new one created by the write.
      await events.write(rows(written, size, `d${Math.floor(round / 6)}`), { dynamicPartitions: true });
      written += size;
      await new Promise((r) => setTimeout(r, 15));
    }
    await waitFor(() => seen.count() >= written, `${written} rows`, pollWaitMs + 10_000);
    await new Promise((r) => setTimeout(r, 100));
    expect(seen.ids()).toEqual(range(0, written));
    await expectEveryOffsetOnce("resume", seen);
    expect(connections).toBeGreaterThan(2);
    subscription.close();
  });

  it("resumes from latest with a partition created while no connection stood, from its first row", async () => {
    await createTable(db, "gap", eventsByDay);
    const events = client.table(db, "gap");
    await events.write([...rows(0, 5, "a"), ...rows(100, 5, "b")], { dynamicPartitions: true });
    const seen = collect();
    let connections = 0;
    let first: WebSocket | undefined;
    let reconnect!: () => void;
    const gapped = new Promise<void>((resolve) => (reconnect = resolve));
    const gate = async (url: string) => {
      if (++connections === 1) return (first = await connect(url));
      await gapped;
      return connect(url);
    };
    const subscription = events.subscribe({ from: "latest", onBatch: seen.onBatch, connect: gate, reconnectDelayMs: 5 });
    await waitFor(() => Object.values(subscription.partitionPositions()).flatMap(Object.keys).length === 4, "every bucket's start");
    await events.write(rows(5, 4, "a"));
    await waitFor(() => seen.count() === 4, "a row written after the start");
    first!.close(1000, "test drops the connection");
    // While no connection stands: rows in a followed partition, and a new partition with rows.
    await events.write([...rows(9, 3, "a"), ...rows(200, 6, "c")], { dynamicPartitions: true });
    reconnect();
    await waitFor(() => seen.count() === 13, "the rows written during the gap, the new partition's too");
    expect(seen.ids()).toEqual([...range(5, 7), ...range(200, 6)]);
    expect(connections).toBe(2);
    subscription.close();
  });

  it("goes on when a partition is dropped under it, telling so, and follows it from its first row when created again", async () => {
    await createTable(db, "dropping", eventsByDay);
    const events = client.table(db, "dropping");
    await events.write([...rows(0, 10, "a"), ...rows(100, 10, "b")], { dynamicPartitions: true });
    const seen = collect();
    const dropped: PartitionDropped[] = [];
    const errors: SubscriptionError[] = [];
    const subscription = events.subscribe({
      from: "earliest",
      onBatch: seen.onBatch,
      onPartitionDropped: (d) => dropped.push(d),
      onError: (e) => errors.push(e),
      connect,
    });
    await waitFor(() => seen.count() === 20, "the backlog");
    await events.dropPartition("dt=a");
    await waitFor(() => dropped.length === 1, "the partition's end");
    expect(dropped).toEqual([{ partition: "dt=a", error: { code: "gone", message: "partition dt=a of csub.dropping was dropped" } }]);
    expect(Object.keys(subscription.partitionPositions())).toEqual(["dt=b"]);
    await events.write(rows(110, 3, "b"));
    await waitFor(() => seen.count() === 23, "the other partition's new rows");
    // Created again, it is a new partition from offset 0: none of its rows is taken for one already seen.
    await events.write(rows(20, 4, "a"), { dynamicPartitions: true });
    await waitFor(() => seen.count() === 27, "the new partition's rows", pollWaitMs);
    expect(seen.ids()).toEqual([...range(0, 10), ...range(20, 4), ...range(100, 13)]);
    expect(errors).toEqual([]);
    subscription.close();
  });
});
