/**
 * Subscriptions that follow every partition of a partitioned table: the
 * backlog of every partition, partitions created after the subscription
 * started (found without reconnecting), messages and acks that name the
 * partition, resuming from per-partition offsets, a partition dropped
 * under a live subscription (only its stream ends), the table dropped
 * (the subscription ends), and the bound on Tablets per subscription.
 */
import * as arrow from "apache-arrow";
import { exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { partitionPollMs, tabletsPerSubscriptionMax } from "../../src/protocol/subscription.ts";
import { base, createTable, ok, waitFor } from "./helpers.ts";
import { eventsByDay, recordedSubscription } from "./partition-fixtures.ts";

const path = (table: string, rest = "") => `/databases/every/tables/${table}${rest}`;
/** Long enough for the relay to look for new partitions once or twice. */
const pollWaitMs = 3 * partitionPollMs;

/** A recorded subscription, and the rows of its batches, each with the partition its batch named. */
async function subscribe(table: string, message: unknown, direct = false) {
  const sub = await recordedSubscription(path(table), message, direct);
  return { ...sub, rows: () => sub.batches().flatMap((m) => m.rows.map((r: object) => ({ ...r, partition: m.partition }))) };
}

const rows = (from: number, count: number, dt: string, user = (i: number) => `u${i % 3}`) => Array.from({ length: count }, (_, i) => ({ dt, id: from + i, user: user(from + i) }));
const idsOf = (list: { id: number }[]) => list.map((r) => r.id).sort((a, b) => a - b);

describe("a subscription that names no partition", () => {
  it("follows every partition, including ones created after it started, and every message names its partition", async () => {
    await createTable("every", "grows", eventsByDay);
    await ok("POST", path("grows", "/rows?dynamicPartitions=true"), [...rows(0, 10, "a"), ...rows(100, 10, "b")]);
    for (const direct of [false, true]) {
      const sub = await subscribe("grows", { from: "earliest" }, direct);
      await waitFor(() => sub.rows().length === 20, "the backlog of both partitions");
      expect(sub.messages.filter((m) => m.type === "subscribed").map((m) => `${m.partition}/${m.bucket}`).sort()).toEqual(["dt=a/0", "dt=a/1", "dt=b/0", "dt=b/1"]);
      sub.ws.close();
    }
    const sub = await subscribe("grows", { from: "latest" });
    await waitFor(() => sub.messages.filter((m) => m.type === "subscribed").length === 4, "the start");
    // A new partition, and rows in it before the subscription can know of it: they arrive from its first offset.
    await ok("POST", path("grows", "/rows?dynamicPartitions=true"), [...rows(10, 3, "a"), ...rows(200, 7, "c")]);
    await waitFor(() => sub.rows().length === 10, "the new rows, and the new partition's", pollWaitMs);
    expect(idsOf(sub.rows().filter((r: { partition: string }) => r.partition === "dt=c"))).toEqual([200, 201, 202, 203, 204, 205, 206]);
    expect(sub.rows().every((r: { partition: string; dt: string }) => r.partition === `dt=${r.dt}`)).toBe(true);
    // A partition made by hand is followed too, and its live rows come through.
    await ok("PUT", path("grows", "/partitions/dt=d"));
    await waitFor(() => sub.messages.filter((m) => m.type === "subscribed" && m.partition === "dt=d").length === 2, "the new partition's start", pollWaitMs);
    await ok("POST", path("grows", "/rows"), rows(300, 4, "d"));
    await waitFor(() => sub.rows().length === 14, "the hand-made partition's rows");
    expect(sub.closed()).toBe(false);
    sub.ws.close();
  });

  it("names the partition in Arrow messages' metadata", async () => {
    await createTable("every", "arrow", eventsByDay);
    await ok("POST", path("arrow", "/rows?dynamicPartitions=true"), [...rows(0, 4, "a"), ...rows(100, 4, "b")]);
    const response = await exports.default.fetch(`${base}${path("arrow", "/subscribe")}`, { headers: { Upgrade: "websocket" } });
    const ws = response.webSocket!;
    ws.accept();
    const tables: arrow.Table[] = [];
    ws.addEventListener("message", (e) => {
      const data = e.data;
      if (typeof data !== "string") void (async () => tables.push(arrow.tableFromIPC(new Uint8Array(data instanceof Blob ? await data.arrayBuffer() : data))))();
    });
    ws.send(JSON.stringify({ from: "earliest", format: "arrow" }));
    await waitFor(() => tables.reduce((n, t) => n + t.numRows, 0) === 8, "the rows");
    for (const table of tables) {
      const dts = new Set(table.toArray().map((r) => r.toJSON().dt));
      expect([...dts].map((dt) => `dt=${dt}`)).toEqual([table.schema.metadata.get("floe.partition")]);
    }
    ws.close();
  });

  it("takes acks per partition and bucket, and sends no more than the window beyond them", async () => {
    await createTable("every", "acked", eventsByDay);
    // One user: one bucket. 2,000 rows of ~300 bytes are far more than a bucket's 64 KiB window.
    const wide = () => `user-${"x".repeat(250)}`;
    await ok("POST", path("acked", "/rows?dynamicPartitions=true"), rows(0, 2000, "a", wide));
    const sub = await subscribe("acked", { from: "earliest" });
    await waitFor(() => sub.batches().length > 0, "the first batch");
    await new Promise((r) => setTimeout(r, 200));
    const [first] = sub.batches();
    // Each bucket of such a subscription has a 64 KiB window (256 Tablets at most, 16 MiB in all): sent beyond the acks, the window and one message.
    expect(sub.batches().slice(0, -1).reduce((bytes, m) => bytes + JSON.stringify(m).length, 0)).toBeLessThan(64 * 1024);
    expect(sub.rows().length).toBeLessThan(2000);
    sub.ws.send(JSON.stringify({ ack: { "dt=b": { "0": 5 } } })); // a partition it does not follow: nothing
    for (let rounds = 0; sub.rows().length < 2000 && rounds < 200; rounds++) {
      const last = sub.batches().at(-1);
      sub.ws.send(JSON.stringify({ ack: { [last.partition]: { [last.bucket]: last.lastOffset + 1 } } }));
      await new Promise((r) => setTimeout(r, 20));
    }
    expect(idsOf(sub.rows())).toEqual(Array.from({ length: 2000 }, (_, i) => i));
    expect(first.partition).toBe("dt=a");
    // An ack without its partition is refused, not ignored: the stream would stall.
    sub.ws.send(JSON.stringify({ ack: { "0": 2000 } }));
    await waitFor(() => sub.closed(), "the refusal");
    expect(sub.messages.at(-1)).toEqual({ type: "error", error: { code: "bad_request", message: 'following every partition, ack is { "<partition>": { "<bucket>": offset } }' } });
  });

  it("resumes from offsets per partition; partitions they do not name start at else, or at the earliest offset", async () => {
    await createTable("every", "resumed", { ...eventsByDay, bucket: { num: 1, key: ["user"] } });
    await ok("POST", path("resumed", "/rows?dynamicPartitions=true"), [...rows(0, 10, "a"), ...rows(100, 10, "b"), ...rows(200, 10, "c")]);
    const sub = await subscribe("resumed", { from: { offsets: { "dt=a": { "0": 7 } } } });
    await waitFor(() => sub.rows().length === 23, "rows from the offsets");
    expect(idsOf(sub.rows())).toEqual([7, 8, 9, ...Array.from({ length: 10 }, (_, i) => 100 + i), ...Array.from({ length: 10 }, (_, i) => 200 + i)]);
    sub.ws.close();
    const latest = await subscribe("resumed", { from: { offsets: { "dt=a": { "0": 8 } }, else: "latest" } });
    await waitFor(() => latest.messages.filter((m) => m.type === "subscribed").length === 3, "the start");
    await ok("POST", path("resumed", "/rows"), rows(110, 1, "b"));
    await waitFor(() => latest.rows().length === 3, "the named partition's rows and the new row");
    expect(idsOf(latest.rows())).toEqual([8, 9, 110]);
    latest.ws.close();
    const bad = await subscribe("resumed", { from: { offsets: { "day=a": { "0": 1 } } } });
    await waitFor(() => bad.closed(), "the refusal");
    expect(bad.messages[0]).toMatchObject({ type: "error", error: { code: "bad_request", message: expect.stringMatching(/a partition is named dt=<value>/) } });
  });

  it("ends only a dropped partition's stream, with a message naming it, and follows the rest and the next partitions", async () => {
    await createTable("every", "dropping", eventsByDay);
    await ok("POST", path("dropping", "/rows?dynamicPartitions=true"), [...rows(0, 10, "a"), ...rows(100, 10, "b")]);
    const sub = await subscribe("dropping", { from: "earliest" });
    await waitFor(() => sub.rows().length === 20, "the backlogs");
    await ok("DELETE", path("dropping", "/partitions/dt=a"));
    await waitFor(() => sub.messages.some((m) => m.type === "partition_dropped"), "the partition's end");
    expect(sub.messages.filter((m) => m.type === "partition_dropped")).toEqual([
      { type: "partition_dropped", partition: "dt=a", error: { code: "gone", message: "partition dt=a of every.dropping was dropped" } },
    ]);
    await ok("POST", path("dropping", "/rows?dynamicPartitions=true"), [...rows(110, 3, "b"), ...rows(20, 4, "a")]);
    // dt=b goes on at once; dt=a, created again, is a new partition, followed from its first row.
    await waitFor(() => sub.rows().length === 27, "the other partition's rows and the new dt=a's", pollWaitMs);
    expect(idsOf(sub.rows().slice(20))).toEqual([20, 21, 22, 23, 110, 111, 112]);
    expect(sub.closed()).toBe(false);
    sub.ws.close();
  });

  it("ends when the table is dropped", async () => {
    await createTable("every", "gone", eventsByDay);
    await ok("POST", path("gone", "/rows?dynamicPartitions=true"), rows(0, 5, "a"));
    const sub = await subscribe("gone", { from: "earliest" });
    await waitFor(() => sub.rows().length === 5, "the backlog");
    await ok("DELETE", path("gone"));
    await waitFor(() => sub.closed(), "the end of the subscription", pollWaitMs);
    expect(sub.messages.at(-1)).toEqual({ type: "error", error: { code: "gone", message: "table every.gone was dropped" } });
  });

  it(`is refused when its partitions × buckets would pass ${tabletsPerSubscriptionMax} Tablets`, async () => {
    await createTable("every", "wide", { ...eventsByDay, bucket: { num: 64, key: ["user"] } });
    for (const dt of ["a", "b", "c", "d", "e"]) await ok("PUT", path("wide", `/partitions/dt=${dt}`));
    const sub = await subscribe("wide", { from: "latest" });
    await waitFor(() => sub.closed(), "the refusal");
    expect(sub.messages).toEqual([{ type: "error", error: { code: "bad_request", message: expect.stringMatching(/would take 320 Tablets \(5 partitions × 64 buckets\); a subscription follows at most 256: name a partition, or fewer buckets/) } }]);
    // Fewer buckets fit.
    const narrow = await subscribe("wide", { from: "latest", buckets: [0, 1] });
    await waitFor(() => narrow.messages.filter((m) => m.type === "subscribed").length === 10, "the start");
    narrow.ws.close();
  });
});
