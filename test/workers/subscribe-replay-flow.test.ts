/**
 * Flow control of the union subscribe's lake replay: a subscription whose
 * start was dropped from the log gets it from the lake within the same
 * window as live delivery (`windowRows` rows, the bucket's `windowBytes`,
 * `messagesInFlightMax` messages beyond its acks), and the rest only as it
 * acknowledges: log rows by offset, a primary-key state's parts by
 * `{ ack: { "<bucket>": { parts: n } } }`. The client helper acknowledges
 * both, so it gets a large history whole.
 */
import { runDurableObjectAlarm } from "cloudflare:test";
import { env, exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { subscribe, type ReceivedBatch } from "../../src/client/subscribe.ts";
import { lakeSchedulerStub } from "../../src/lake/scheduler.ts";
import { bucketWindowBytes, catchUpRows, messageBytesMax, windowRows } from "../../src/protocol/subscription.ts";
import { base, createTable, ok, waitFor } from "./helpers.ts";

const lake = { "table.datalake.enabled": "true", "table.log.ttl": "0s" };

async function subscribeRaw(table: string, message: unknown) {
  const response = await exports.default.fetch(`${base}/databases/rf/tables/${table}/subscribe`, { headers: { Upgrade: "websocket" } });
  const ws = response.webSocket!;
  ws.accept();
  const messages: any[] = [];
  let bytes = 0;
  ws.addEventListener("message", (e) => {
    bytes += new TextEncoder().encode(e.data as string).length;
    messages.push(JSON.parse(e.data as string));
  });
  ws.send(JSON.stringify(message));
  return { ws, messages, bytes: () => bytes };
}

/** Waits until no message has arrived for a while, and answers how many there are. */
async function settled(messages: unknown[]): Promise<number> {
  let count = -1;
  await waitFor(async () => {
    const before = messages.length;
    await new Promise((r) => setTimeout(r, 150));
    count = messages.length;
    return count === before && count > 1;
  }, "the stream to settle", 30_000);
  return count;
}

const rowsIn = (messages: any[], type: string) => messages.filter((m) => m.type === type).reduce((n, m) => n + m.rows.length, 0);

/** Writes `count` rows in requests of 10,000, tiers them, and has the log dropped behind the lake. */
async function history(table: string, count: number, row: (i: number) => Record<string, unknown>, perRequest = 10_000): Promise<void> {
  // The table's scheduler runs a round at once when the table is created: run it now, so it tiers nothing later.
  const { tableId } = await ok("GET", `/databases/rf/tables/${table}`);
  await runDurableObjectAlarm(lakeSchedulerStub(env, tableId));
  for (let from = 0; from < count; from += perRequest) {
    await ok("POST", `/databases/rf/tables/${table}/rows`, Array.from({ length: Math.min(perRequest, count - from) }, (_, i) => row(from + i)));
  }
  await ok("POST", "/tiering/run");
  const described = await ok("GET", `/databases/rf/tables/${table}`);
  expect(described.buckets.every((b: { logStartOffset: number; highWatermark: number }) => b.logStartOffset === b.highWatermark)).toBe(true);
}

describe("the lake replay's flow control", () => {
  it(`sends a log table's dropped rows ${windowRows} beyond the acks at most, and the rest as they are acknowledged`, async () => {
    const total = windowRows + 12_000;
    await createTable("rf", "rows", { columns: [{ name: "n", type: "INT" }], bucket: { num: 1 }, properties: lake });
    await history("rows", total, (n) => ({ n }));

    const { ws, messages } = await subscribeRaw("rows", { from: "earliest" });
    await settled(messages);
    const first = rowsIn(messages, "batch");
    expect(first).toBeLessThanOrEqual(windowRows);
    expect(first).toBeGreaterThanOrEqual(windowRows - catchUpRows);

    // Acknowledging half lets that much more come, and no more.
    ws.send(JSON.stringify({ ack: { 0: first / 2 } }));
    await settled(messages);
    expect(rowsIn(messages, "batch")).toBeLessThanOrEqual(first / 2 + windowRows);
    expect(rowsIn(messages, "batch")).toBeGreaterThan(first);

    await waitFor(() => {
      ws.send(JSON.stringify({ ack: { 0: rowsIn(messages, "batch") } }));
      return rowsIn(messages, "batch") === total;
    }, "every row after acks", 30_000);
    await ok("POST", "/databases/rf/tables/rows/rows", [{ n: total }]);
    await waitFor(() => rowsIn(messages, "batch") === total + 1, "a live row after the replay");
    ws.close();
    const offsets = messages.filter((m) => m.type === "batch").flatMap((m) => m.rows.map((r: { _offset: number }) => r._offset));
    expect(offsets).toEqual(Array.from({ length: total + 1 }, (_, i) => i));
  });

  it("keeps one window across the replay and the Tablet after it", async () => {
    const tiered = windowRows - 5_000;
    const hot = 10_000;
    await createTable("rf", "across", { columns: [{ name: "n", type: "INT" }], bucket: { num: 1 }, properties: lake });
    await history("across", tiered, (n) => ({ n }));
    await ok("POST", "/databases/rf/tables/across/rows", Array.from({ length: hot }, (_, i) => ({ n: tiered + i })));

    const { ws, messages } = await subscribeRaw("across", { from: "earliest" });
    await settled(messages);
    const first = rowsIn(messages, "batch");
    expect(first).toBeGreaterThan(tiered);
    expect(first).toBeLessThanOrEqual(windowRows);
    expect(first).toBeGreaterThanOrEqual(windowRows - catchUpRows);
    await waitFor(() => {
      ws.send(JSON.stringify({ ack: { 0: rowsIn(messages, "batch") } }));
      return rowsIn(messages, "batch") === tiered + hot;
    }, "every row after acks", 30_000);
    ws.close();
    const offsets = messages.filter((m) => m.type === "batch").flatMap((m) => m.rows.map((r: { _offset: number }) => r._offset));
    expect(offsets).toEqual(Array.from({ length: tiered + hot }, (_, i) => i));
  });

  it("holds the bucket's window of bytes at most, whatever the row size", async () => {
    // Four buckets share the subscription's bytes; the rows all go to one of them.
    await createTable("rf", "wide", { columns: [{ name: "k", type: "STRING" }, { name: "n", type: "INT" }, { name: "payload", type: "STRING" }], bucket: { num: 4, key: ["k"] }, properties: lake });
    const payload = "x".repeat(32 * 1024);
    const total = 300;
    await history("wide", total, (n) => ({ k: "same", n, payload }), 100);

    const { ws, messages, bytes } = await subscribeRaw("wide", { from: "earliest" });
    await settled(messages);
    const window = bucketWindowBytes(4);
    expect(rowsIn(messages, "batch")).toBeLessThan(total);
    expect(bytes()).toBeLessThanOrEqual(window + 2 * messageBytesMax);
    expect(bytes()).toBeGreaterThanOrEqual(window - 2 * messageBytesMax);
    const bucket = messages.find((m) => m.type === "batch").bucket;
    await waitFor(() => {
      ws.send(JSON.stringify({ ack: { [bucket]: rowsIn(messages, "batch") } }));
      return rowsIn(messages, "batch") === total;
    }, "every row after acks", 30_000);
    ws.close();
  });

  it(`sends a primary-key state in parts, ${windowRows} rows beyond the acknowledged parts at most`, async () => {
    const keys = windowRows + 6_000;
    await createTable("rf", "state", { columns: [{ name: "id", type: "INT" }, { name: "v", type: "INT" }], primaryKey: ["id"], bucket: { num: 1 }, properties: lake });
    await history("state", keys, (id) => ({ id, v: id }));

    const { ws, messages } = await subscribeRaw("state", { from: "earliest" });
    await settled(messages);
    const parts = () => messages.filter((m) => m.type === "snapshot");
    const first = rowsIn(messages, "snapshot");
    expect(first).toBeLessThanOrEqual(windowRows);
    expect(first).toBeGreaterThanOrEqual(windowRows - catchUpRows);
    expect(parts().map((p) => p.part)).toEqual(parts().map((_, i) => i));
    expect(parts().some((p) => p.last)).toBe(false);
    // An offset ack does not acknowledge state parts.
    ws.send(JSON.stringify({ ack: { 0: keys } }));
    await settled(messages);
    expect(rowsIn(messages, "snapshot")).toBe(first);

    await waitFor(() => {
      ws.send(JSON.stringify({ ack: { 0: { parts: parts().length } } }));
      return parts().some((p) => p.last);
    }, "the last part after acks", 30_000);
    expect(rowsIn(messages, "snapshot")).toBe(keys);
    await ok("POST", "/databases/rf/tables/state/rows", [{ id: 0, v: -1 }]);
    await waitFor(() => messages.some((m) => m.type === "batch"), "the changelog after the state");
    ws.close();
  });

  it("lets the client helper take a state larger than the window, acknowledging its parts", async () => {
    const keys = windowRows + 4_000;
    await createTable("rf", "client", { columns: [{ name: "id", type: "INT" }, { name: "v", type: "INT" }], primaryKey: ["id"], bucket: { num: 1 }, properties: lake });
    await history("client", keys, (id) => ({ id, v: id }));
    const state = new Map<number, number>();
    let last = false;
    const subscription = subscribe({
      url: `${base}/databases/rf/tables/client/subscribe`,
      from: "earliest",
      onBatch: (batch: ReceivedBatch) => {
        for (const row of batch.rows as { id: number; v: number }[]) state.set(row.id, row.v);
        if (batch.snapshot?.last) last = true;
      },
      connect: async (url) => {
        const response = await exports.default.fetch(url, { headers: { Upgrade: "websocket" } });
        response.webSocket!.accept();
        return response.webSocket!;
      },
    });
    await waitFor(() => last, "the whole state", 30_000);
    expect(state.size).toBe(keys);
    subscription.close();
  });
});
