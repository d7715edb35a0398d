/**
 * Single-bucket subscriptions held by the Tablet: a client that sends its
 * subscribe message with the upgrade (`?subscribe=`) and names one bucket
 * gets a socket the bucket's Tablet holds itself (no relay hop), with the
 * same protocol: `subscribed`, batches, its own acks, pings; one that needs
 * the lake first (its start was dropped from the log) goes through the
 * relay, which replays it; a bad message is refused the protocol's way.
 */
import { runInDurableObject } from "cloudflare:test";
import { env, exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { base, createTable, ok, waitFor, tabletOf } from "./helpers.ts";

const definition = (properties: Record<string, string> = {}) => ({
  columns: [{ name: "id", type: "INT", nullable: false }, { name: "note", type: "STRING" }],
  bucket: { num: 2, key: ["id"] },
  properties,
});

async function open(table: string, message: unknown) {
  const query = encodeURIComponent(JSON.stringify(message));
  const response = await exports.default.fetch(`${base}/databases/direct/tables/${table}/subscribe?subscribe=${query}`, { headers: { Upgrade: "websocket" } });
  const ws = response.webSocket!;
  ws.accept();
  const messages: any[] = [];
  let closed = false;
  ws.addEventListener("message", (e) => void messages.push(e.data === "pong" ? "pong" : JSON.parse(e.data as string)));
  ws.addEventListener("close", () => void (closed = true));
  return { ws, messages, closed: () => closed };
}

const heldBy = async (tableId: string, bucket: number) =>
  runInDurableObject(tabletOf(tableId, bucket), (_, state) => state.getWebSockets().map((ws) => (ws.deserializeAttachment() as { heldBy: string }).heldBy));

describe("single-bucket subscriptions", () => {
  it("are held by the Tablet itself and speak the same protocol", async () => {
    await createTable("direct", "held", definition());
    await ok("POST", "/databases/direct/tables/held/rows", Array.from({ length: 20 }, (_, id) => ({ id, note: `n${id}` })));
    const { tableId, buckets } = await ok("GET", "/databases/direct/tables/held");
    const bucket = buckets.findIndex((b: { highWatermark: number }) => b.highWatermark > 0);
    const { ws, messages } = await open("held", { from: "earliest", buckets: [bucket] });
    await waitFor(() => messages.some((m) => m.type === "batch"), "the backlog");
    expect(messages[0]).toMatchObject({ type: "subscribed", bucket, offset: 0 });
    expect(await heldBy(tableId, bucket)).toEqual(["client"]);
    const backlog = messages.filter((m) => m.type === "batch").flatMap((m) => m.rows);
    expect(backlog.length).toBe(buckets[bucket].highWatermark);
    // Live rows, acks in the client's own form, and pings answered.
    await ok("POST", "/databases/direct/tables/held/rows", Array.from({ length: 40 }, (_, i) => ({ id: 100 + i, note: "live" })));
    await waitFor(async () => messages.filter((m) => m.type === "batch").flatMap((m) => m.rows).length === (await ok("GET", "/databases/direct/tables/held")).buckets[bucket].highWatermark, "live rows");
    ws.send(JSON.stringify({ ack: { [bucket]: 1 } }));
    ws.send("ping");
    await waitFor(() => messages.includes("pong"), "the pong");
    ws.close();
  });

  it("go through the relay when a lake replay must come first", async () => {
    await createTable("direct", "replayed", definition({ "table.datalake.enabled": "true", "table.log.ttl": "0s" }));
    await ok("POST", "/databases/direct/tables/replayed/rows", Array.from({ length: 30 }, (_, id) => ({ id, note: "old" })));
    await ok("POST", "/tiering/run");
    await ok("POST", "/tiering/run");
    const { tableId, buckets } = await ok("GET", "/databases/direct/tables/replayed");
    const bucket = buckets.findIndex((b: { logStartOffset: number }) => b.logStartOffset > 0);
    expect(bucket).toBeGreaterThanOrEqual(0);
    const { messages, ws } = await open("replayed", { from: "earliest", buckets: [bucket] });
    await waitFor(() => messages.filter((m) => m.type === "batch").flatMap((m) => m.rows).length === buckets[bucket].highWatermark, "the replayed rows");
    expect(await heldBy(tableId, bucket)).toEqual(["relay"]);
    ws.close();
  });

  it("refuse a bad subscribe message with an error message, then close", async () => {
    await createTable("direct", "refused", definition());
    const { messages, closed } = await open("refused", { from: "earliest", buckets: [7] });
    await waitFor(() => closed(), "the close");
    expect(messages[0]).toMatchObject({ type: "error", error: { code: "bad_request", message: expect.stringMatching(/bucket 7 does not exist/) } });
  });
});
