/**
 * Subscription flow control in bytes: a client that stops acknowledging
 * costs the server at most its window of message bytes (plus one message),
 * however large the rows, and gets the rest once it acknowledges.
 */
import { exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { bucketWindowBytes, messageBytesMax } from "../../src/protocol/subscription.ts";
import { base, createTable, ok, waitFor } from "./helpers.ts";

const wide = {
  columns: [{ name: "k", type: "STRING" }, { name: "n", type: "INT" }, { name: "payload", type: "STRING" }],
  bucket: { num: 4, key: ["k"] },
};

describe("subscription flow control", () => {
  it("holds at most the window's bytes in flight for a stuck client, whatever the row size", async () => {
    await createTable("flow", "wide", wide);
    const payload = "x".repeat(32 * 1024);
    const total = 300;
    for (let from = 0; from < total; from += 100) {
      await ok("POST", "/databases/flow/tables/wide/rows", Array.from({ length: 100 }, (_, i) => ({ k: "same", n: from + i, payload })));
    }
    const response = await exports.default.fetch(`${base}/databases/flow/tables/wide/subscribe`, { headers: { Upgrade: "websocket" } });
    const ws = response.webSocket!;
    ws.accept();
    let bytes = 0;
    let bucket = -1;
    const seen: number[] = [];
    ws.addEventListener("message", (e) => {
      const text = e.data as string;
      const message = JSON.parse(text);
      if (message.type !== "batch") return;
      bytes += new TextEncoder().encode(text).length;
      bucket = message.bucket;
      seen.push(...message.rows.map((r: { n: number }) => r.n));
    });
    ws.send(JSON.stringify({ from: "earliest" }));
    // The client never acknowledges: sending stops once the bucket's window is full.
    let settled = -1;
    await waitFor(async () => {
      const before = seen.length;
      await new Promise((r) => setTimeout(r, 100));
      settled = seen.length;
      return settled === before && settled > 0;
    }, "the window to fill");
    const window = bucketWindowBytes(4);
    expect(settled).toBeLessThan(total);
    expect(bytes).toBeLessThanOrEqual(window + 2 * messageBytesMax);
    expect(bytes).toBeGreaterThanOrEqual(window - 2 * messageBytesMax);
    // Acknowledging what arrived lets the rest come, in order.
    await waitFor(() => {
      ws.send(JSON.stringify({ ack: { [bucket]: seen.length } }));
      return seen.length === total;
    }, "every row after acks");
    expect(seen).toEqual(Array.from({ length: total }, (_, i) => i));
    ws.close();
  });
});
