/**
 * Subscriptions of a partitioned table that name a partition follow that
 * one: its backlog and live commits, nothing of the other partitions, each
 * message naming it; held by the relay or,
 * for one bucket sent with the upgrade, by the Tablet itself. A partition
 * dropped under a live subscription ends it with a `gone` error naming it.
 */
import { describe, expect, it } from "vitest";
import { createTable, ok, waitFor } from "./helpers.ts";
import { eventsByDay, recordedSubscription } from "./partition-fixtures.ts";

const path = (table: string, rest = "") => `/databases/psub/tables/${table}${rest}`;

/** A recorded subscription, and the rows of its batches. */
async function subscribe(table: string, message: unknown, direct = false) {
  const sub = await recordedSubscription(path(table), message, direct);
  return { ...sub, rows: () => sub.batches().flatMap((m) => m.rows) };
}

const rows = (from: number, count: number, dt: string) => Array.from({ length: count }, (_, i) => ({ dt, id: from + i, user: `u${(from + i) % 3}` }));

describe("subscriptions of a partitioned table", () => {
  it("follow the partition they name: its backlog and its new commits, nothing else", async () => {
    await createTable("psub", "follow", eventsByDay);
    await ok("POST", path("follow", "/rows?dynamicPartitions=true"), [...rows(0, 10, "a"), ...rows(100, 10, "b")]);
    const sub = await subscribe("follow", { from: "earliest", partition: "dt=a" });
    await waitFor(() => sub.rows().length === 10, "the backlog of dt=a");
    await ok("POST", path("follow", "/rows?dynamicPartitions=true"), [...rows(10, 5, "a"), ...rows(110, 5, "b"), ...rows(200, 5, "c")]);
    await waitFor(() => sub.rows().length === 15, "the new rows of dt=a");
    expect(sub.rows().every((r: { dt: string }) => r.dt === "a")).toBe(true);
    expect(sub.messages.filter((m) => m.type === "subscribed").map((m) => m.bucket).sort()).toEqual([0, 1]);
    expect(sub.messages.every((m) => m.partition === "dt=a")).toBe(true);
    sub.ws.close();
  });

  it("of one bucket sent with the upgrade are held by that partition's Tablet", async () => {
    await createTable("psub", "direct", eventsByDay);
    await ok("POST", path("direct", "/rows?dynamicPartitions=true"), rows(0, 20, "a"));
    const bucket = (await ok("GET", path("direct", "/partitions"))).partitions[0].buckets.findIndex((b: { highWatermark: number }) => b.highWatermark > 0);
    const sub = await subscribe("direct", { from: "earliest", partition: "dt=a", buckets: [bucket] }, true);
    const expected = (await ok("GET", path("direct", `/log?partition=dt=a&bucket=${bucket}`))).rows.map((r: { id: number }) => r.id);
    await waitFor(() => sub.rows().length === expected.length, "the bucket's backlog");
    expect(sub.rows().map((r: { id: number }) => r.id)).toEqual(expected);
    sub.ws.close();
  });

  it("are refused for a partition that does not exist", async () => {
    await createTable("psub", "refused", eventsByDay);
    for (const direct of [false, true]) {
      const missing = await subscribe("refused", { from: "earliest", partition: "dt=nope" }, direct);
      await waitFor(() => missing.closed(), "the close");
      expect(missing.messages[0]).toMatchObject({ type: "error", error: { code: "not_found", message: expect.stringMatching(/partition dt=nope of psub.refused does not exist/) } });
    }
    const wrongType = await subscribe("refused", { from: "earliest", partition: 3 });
    await waitFor(() => wrongType.closed(), "the close");
    expect(wrongType.messages[0]).toMatchObject({ type: "error", error: { code: "bad_request", message: expect.stringMatching(/partition must be a partition's spec/) } });
  });

  it("end with a gone error naming the partition when it is dropped under them", async () => {
    await createTable("psub", "dropped", eventsByDay);
    await ok("POST", path("dropped", "/rows?dynamicPartitions=true"), [...rows(0, 10, "a"), ...rows(100, 10, "b")]);
    const bucket = (await ok("GET", path("dropped", "/partitions"))).partitions[0].buckets.findIndex((b: { highWatermark: number }) => b.highWatermark > 0);
    const relayed = await subscribe("dropped", { from: "earliest", partition: "dt=a" });
    const held = await subscribe("dropped", { from: "earliest", partition: "dt=a", buckets: [bucket] }, true);
    const other = await subscribe("dropped", { from: "earliest", partition: "dt=b" });
    await waitFor(() => relayed.rows().length === 10 && held.rows().length > 0 && other.rows().length === 10, "the backlogs");
    await ok("DELETE", path("dropped", "/partitions/dt=a"));
    for (const sub of [relayed, held]) {
      await waitFor(() => sub.closed(), "the end of the subscription");
      expect(sub.messages.at(-1)).toEqual({ type: "error", error: { code: "gone", message: "partition dt=a of psub.dropped was dropped" } });
    }
    // The other partition's subscription goes on.
    await ok("POST", path("dropped", "/rows"), rows(110, 3, "b"));
    await waitFor(() => other.rows().length === 13, "the other partition's new rows");
    expect(other.closed()).toBe(false);
    other.ws.close();
  });
});
