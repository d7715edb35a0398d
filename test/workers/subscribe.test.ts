import * as arrow from "apache-arrow";
import { evictDurableObject } from "cloudflare:test";
import { env, exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { UpgradeRefused, subscribe, type ReceivedBatch, type RetryNotice, type SubscriptionError } from "../../src/client/subscribe.ts";
import { windowRows } from "../../src/protocol/subscription.ts";
import { tabletName } from "../../src/vocabulary.ts";
import { base, createTable, highWatermarks, ok, waitFor } from "./helpers.ts";

async function connect(url: string): Promise<WebSocket> {
  const response = await exports.default.fetch(url, { headers: { Upgrade: "websocket" } });
  if (!response.webSocket) throw new Error(`no upgrade: ${response.status} ${await response.text()}`);
  response.webSocket.accept();
  return response.webSocket;
}

/** A raw socket that records every message, JSON parsed or Arrow decoded. */
async function rawSubscribe(table: string, message: unknown): Promise<{ ws: WebSocket; messages: any[]; closed: () => boolean }> {
  const ws = await connect(`${base}/databases/sub/tables/${table}/subscribe`);
  const messages: any[] = [];
  let closed = false;
  ws.addEventListener("message", async (e) => {
    const data = e.data as string | ArrayBuffer | Blob;
    if (data === "pong") return;
    if (typeof data === "string") messages.push(JSON.parse(data));
    else messages.push(arrow.tableFromIPC(new Uint8Array(data instanceof Blob ? await data.arrayBuffer() : data)));
  });
  ws.addEventListener("close", () => {
    closed = true;
  });
  ws.send(JSON.stringify(message));
  return { ws, messages, closed: () => closed };
}

const events = (n: number, from = 0) =>
  Array.from({ length: n }, (_, i) => ({ id: from + i, user: `u${(from + i) % 5}`, amount: "1.00", ts: from + i }));

function collect() {
  const rows: Record<number, any[]> = {};
  const onBatch = (batch: ReceivedBatch) => {
    const list = (rows[batch.bucket] ??= []);
    const batchRows = batch.rows ?? batch.table!.toArray().map((r) => r.toJSON());
    expect(batchRows.length).toBe(batch.lastOffset - batch.firstOffset + 1);
    list.push(...batchRows);
  };
  const count = () => Object.values(rows).reduce((n, list) => n + list.length, 0);
  return { rows, onBatch, count };
}

const url = (table: string) => `${base}/databases/sub/tables/${table}/subscribe`;

/**
 * A stand-in for `ws` that forwards its messages up to and including the first
 * one `isLast` picks, then acts as if the connection dropped: it closes `ws`
 * and says so, and forwards nothing more.
 */
function forwardUntil(ws: WebSocket, isLast: (data: unknown) => boolean): WebSocket {
  const events = new EventTarget();
  let open = true;
  ws.addEventListener("message", (e) => {
    if (!open) return;
    events.dispatchEvent(Object.assign(new Event("message"), { data: e.data }));
    if (!isLast(e.data)) return;
    open = false;
    ws.close(1000, "test drops the connection");
    events.dispatchEvent(Object.assign(new Event("close"), { code: 1006, reason: "" }));
  });
  return Object.assign(events, {
    send: (data: string) => open && ws.send(data),
    close: () => ws.close(),
    get readyState() {
      return open ? WebSocket.OPEN : WebSocket.CLOSED;
    },
  }) as unknown as WebSocket;
}

describe("subscriptions", () => {
  it("sends the backlog, then every new commit", async () => {
    await createTable("sub", "live");
    await ok("POST", "/databases/sub/tables/live/rows", events(10));
    const seen = collect();
    const subscription = subscribe({ url: url("live"), from: "earliest", onBatch: seen.onBatch, connect });
    await waitFor(() => seen.count() === 10, "the backlog");
    await ok("POST", "/databases/sub/tables/live/rows", events(5, 10));
    await waitFor(() => seen.count() === 15, "live rows");
    for (const [bucket, list] of Object.entries(seen.rows)) {
      expect(list.map((r) => r._offset)).toEqual(list.map((_, i) => i));
      expect(list.every((r) => r._change === "+I" && typeof r._timestamp === "string")).toBe(true);
      expect(subscription.positions()[Number(bucket)]).toBe(list.length);
    }
    subscription.close();
  });

  it("starts at latest, at given offsets, or at a timestamp", async () => {
    await createTable("sub", "starts", { ...{ columns: [{ name: "n", type: "INT" }] }, bucket: { num: 1 } });
    await ok("POST", "/databases/sub/tables/starts/rows", [{ n: 0 }, { n: 1 }, { n: 2 }]);
    await new Promise((r) => setTimeout(r, 20));
    const middle = Date.now();
    await new Promise((r) => setTimeout(r, 20));
    await ok("POST", "/databases/sub/tables/starts/rows", [{ n: 3 }, { n: 4 }]);
    const latest = await rawSubscribe("starts", { from: "latest" });
    const fromOffset = await rawSubscribe("starts", { from: { offsets: { "0": 2 } } });
    const fromTime = await rawSubscribe("starts", { from: { timestamp: new Date(middle).toISOString() } });
    await ok("POST", "/databases/sub/tables/starts/rows", [{ n: 5 }]);
    const ns = (messages: any[]) => messages.filter((m) => m.type === "batch").flatMap((m) => m.rows.map((r: { n: number }) => r.n));
    await waitFor(() => ns(latest.messages).length === 1 && ns(fromOffset.messages).length === 4 && ns(fromTime.messages).length === 3, "all three");
    expect(ns(latest.messages)).toEqual([5]);
    expect(ns(fromOffset.messages)).toEqual([2, 3, 4, 5]);
    expect(ns(fromTime.messages)).toEqual([3, 4, 5]);
    expect(latest.messages[0]).toEqual({ type: "subscribed", bucket: 0, offset: 5, highWatermark: 5 });
    for (const s of [latest, fromOffset, fromTime]) s.ws.close();
  });

  it("projects columns, in JSON and as Arrow", async () => {
    await createTable("sub", "projected");
    await ok("POST", "/databases/sub/tables/projected/rows", events(8));
    const json = await rawSubscribe("projected", { from: "earliest", columns: ["amount", "id"], buckets: [0, 1, 2, 3] });
    const arrowSub = await rawSubscribe("projected", { from: "earliest", columns: ["id"], format: "arrow" });
    const jsonRows = () => json.messages.filter((m) => m.type === "batch").flatMap((m) => m.rows);
    const tables = () => arrowSub.messages.filter((m) => m instanceof arrow.Table) as arrow.Table[];
    await waitFor(() => jsonRows().length === 8 && tables().reduce((n, t) => n + t.numRows, 0) === 8, "8 rows each way");
    expect(Object.keys(jsonRows()[0])).toEqual(["amount", "id", "_offset", "_timestamp", "_change"]);
    const first = tables()[0]!;
    expect(first.schema.fields.map((f) => f.name)).toEqual(["id", "_offset", "_timestamp", "_change"]);
    expect(Number(first.schema.metadata.get("floe.last-offset")) - Number(first.schema.metadata.get("floe.first-offset")) + 1).toBe(first.numRows);
    json.ws.close();
    arrowSub.ws.close();
  });

  it("resumes after disconnects with no row missing and none repeated, under concurrent writes", async () => {
    await createTable("sub", "resume");
    const seen = collect();
    let connections = 0;
    // Every connection is cut after a few batches; the client must resume from its offsets.
    const flaky = async (target: string) => {
      const ws = await connect(target);
      connections++;
      let batches = 0;
      ws.addEventListener("message", (e) => {
        if (typeof e.data === "string" && e.data.startsWith('{"type":"batch"') && ++batches === 3) ws.close(1000, "test cuts the connection");
      });
      return ws;
    };
    const subscription = subscribe({ url: url("resume"), from: "earliest", onBatch: seen.onBatch, connect: flaky, reconnectDelayMs: 5 });
    await waitFor(() => Object.keys(subscription.positions()).length === 4, "subscribed to every bucket");
    let written = 0;
    for (let round = 0; round < 40; round++) {
      const size = 1 + ((round * 7) % 25);
      await ok("POST", "/databases/sub/tables/resume/rows", events(size, written));
      written += size;
      await new Promise((r) => setTimeout(r, 15)); // let some batches arrive between writes, and cuts happen mid-stream
    }
    await waitFor(() => seen.count() >= written, `${written} rows`, 20_000);
    const hw = await highWatermarks("sub", "resume");
    for (let bucket = 0; bucket < 4; bucket++) {
      expect((seen.rows[bucket] ?? []).map((r) => r._offset)).toEqual(Array.from({ length: hw[bucket]! }, (_, i) => i));
    }
    expect(Object.values(seen.rows).flat().map((r) => r.id).sort((a, b) => a - b)).toEqual(Array.from({ length: written }, (_, i) => i));
    expect(connections).toBeGreaterThan(2);
    subscription.close();
  });

  it("resumes every bucket asked for when the connection drops between subscribed messages", async () => {
    await createTable("sub", "between");
    await ok("POST", "/databases/sub/tables/between/rows", events(20));
    const seen = collect();
    let connections = 0;
    // The first connection delivers one bucket's subscribed message, then drops before the others'.
    const cutAfterFirstSubscribed = async (target: string): Promise<WebSocket> => {
      const ws = await connect(target);
      if (++connections > 1) return ws;
      return forwardUntil(ws, (data) => typeof data === "string" && data.startsWith('{"type":"subscribed"'));
    };
    const subscription = subscribe({ url: url("between"), from: "earliest", onBatch: seen.onBatch, connect: cutAfterFirstSubscribed, reconnectDelayMs: 5 });
    await waitFor(() => seen.count() === 20, "the backlog of every bucket");
    await ok("POST", "/databases/sub/tables/between/rows", events(20, 20));
    await waitFor(() => seen.count() === 40, "new rows in every bucket");
    expect(connections).toBe(2);
    const hw = await highWatermarks("sub", "between");
    for (let bucket = 0; bucket < 4; bucket++) {
      expect((seen.rows[bucket] ?? []).map((r) => r._offset)).toEqual(Array.from({ length: hw[bucket]! }, (_, i) => i));
    }
    subscription.close();
  });

  it("resumes buckets never confirmed from the original start: a timestamp, or offsets", async () => {
    await createTable("sub", "starts_kept", { columns: [{ name: "n", type: "INT" }], bucket: { num: 2, key: ["n"] } });
    await ok("POST", "/databases/sub/tables/starts_kept/rows", Array.from({ length: 20 }, (_, n) => ({ n })));
    const [rows0, rows1] = await highWatermarks("sub", "starts_kept");
    expect(rows0! * rows1!).toBeGreaterThan(0);
    for (const from of [{ timestamp: 0 }, { offsets: { "0": 1, "1": 2 } }] as const) {
      const seen = collect();
      let connections = 0;
      const cut = async (target: string): Promise<WebSocket> => {
        const ws = await connect(target);
        if (++connections > 1) return ws;
        return forwardUntil(ws, (data) => typeof data === "string" && data.startsWith('{"type":"subscribed"'));
      };
      const subscription = subscribe({ url: url("starts_kept"), from, onBatch: seen.onBatch, connect: cut, reconnectDelayMs: 5 });
      const expected = "offsets" in from ? 20 - 3 : 20;
      await waitFor(() => seen.count() === expected, `${expected} rows from ${JSON.stringify(from)}`);
      expect(connections).toBe(2);
      subscription.close();
    }
  });

  it("streams a primary-key table's changelog", async () => {
    await createTable("sub", "users", {
      columns: [{ name: "id", type: "INT" }, { name: "name", type: "STRING" }],
      primaryKey: ["id"],
      bucket: { num: 1 },
    });
    const sub = await rawSubscribe("users", { from: "earliest" });
    await ok("POST", "/databases/sub/tables/users/rows", [{ id: 1, name: "a" }]);
    await ok("POST", "/databases/sub/tables/users/rows", [{ id: 1, name: "b" }]);
    await ok("POST", "/databases/sub/tables/users/rows?op=delete", [{ id: 1 }]);
    const changes = () => sub.messages.filter((m) => m.type === "batch").flatMap((m) => m.rows.map((r: any) => `${r._change}${r.name}`));
    await waitFor(() => changes().length === 4, "4 changes");
    expect(changes()).toEqual(["+Ia", "-Ua", "+Ub", "-Db"]);
    sub.ws.close();
  });

  it("keeps pushing after the Tablet hibernates with the socket open", async () => {
    await createTable("sub", "sleepy", { columns: [{ name: "n", type: "INT" }], bucket: { num: 1 } });
    const sub = await rawSubscribe("sleepy", { from: "latest" });
    await waitFor(() => sub.messages.length === 1, "subscribed");
    const { tableId } = await ok("GET", "/databases/sub/tables/sleepy");
    await evictDurableObject(env.TABLET.get(env.TABLET.idFromName(tabletName(tableId, 0))), { webSockets: "hibernate" });
    await ok("POST", "/databases/sub/tables/sleepy/rows", [{ n: 1 }, { n: 2 }]);
    await waitFor(() => sub.messages.length === 2, "a push after hibernation");
    expect(sub.messages[1].rows.map((r: { n: number }) => r.n)).toEqual([1, 2]);
    sub.ws.close();
  });

  it("sends no more than the window beyond the last ack", async () => {
    await createTable("sub", "window", { columns: [{ name: "n", type: "INT" }], bucket: { num: 1 } });
    const total = windowRows + 5_000;
    for (let from = 0; from < total; from += 25_000) {
      await ok("POST", "/databases/sub/tables/window/rows", Array.from({ length: Math.min(25_000, total - from) }, (_, i) => ({ n: from + i })));
    }
    const sub = await rawSubscribe("window", { from: "earliest" });
    const received = () => sub.messages.filter((m) => m.type === "batch").reduce((n, m) => n + m.rows.length, 0);
    await waitFor(() => received() === windowRows, "a full window");
    await new Promise((r) => setTimeout(r, 100));
    expect(received()).toBe(windowRows);
    sub.ws.send(JSON.stringify({ ack: { "0": windowRows } }));
    await waitFor(() => received() === total, "the rest after an ack");
    sub.ws.close();
  });

  it.each([
    ["unknown column", { from: "earliest", columns: ["nope"] }, /unknown column 'nope'/],
    ["bucket out of range", { from: "earliest", buckets: [9] }, /bucket 9 does not exist/],
    ["offset beyond the high watermark", { from: { offsets: { "0": 999 } } }, /offset 999 is outside the log/],
    ["one bucket's offset beyond its log", { from: { offsets: { "0": 0, "1": 999 } } }, /bucket 1: offset 999 is outside the log/],
    ["bad from", { from: "yesterday" }, /from must be/],
    ["else beside a timestamp", { from: { timestamp: 0, else: "earliest" } }, /from.else goes with from.offsets only/],
    ["offsets in else", { from: { offsets: { "0": 0 }, else: { offsets: { "1": 0 } } } }, /from.else must be "earliest", "latest" or \{ timestamp \}/],
    ["a bad else", { from: { offsets: { "0": 0 }, else: "yesterday" } }, /from must be/],
    ["not JSON", "hello", /must be JSON/],
  ])("refuses a subscribe message with %s", async (_, message, pattern) => {
    await createTable("sub", "bad");
    const ws = await connect(url("bad"));
    const messages: any[] = [];
    let closed = false;
    ws.addEventListener("message", (e) => {
      messages.push(JSON.parse(e.data as string));
    });
    ws.addEventListener("close", () => {
      closed = true;
    });
    ws.send(typeof message === "string" ? message : JSON.stringify(message));
    await waitFor(() => closed, "the close");
    expect(messages.at(-1).type).toBe("error");
    expect(messages.at(-1).error.message).toMatch(pattern);
  });

  it("answers ping with pong, and closes on a message that is neither ping nor ack", async () => {
    await createTable("sub", "ping", { columns: [{ name: "n", type: "INT" }], bucket: { num: 1 } });
    const sub = await rawSubscribe("ping", { from: "earliest" });
    await waitFor(() => sub.messages.length === 1, "subscribed");
    const pong = new Promise<string>((resolve) => sub.ws.addEventListener("message", (e) => {
      if (e.data === "pong") resolve(e.data);
    }));
    sub.ws.send("ping");
    expect(await pong).toBe("pong");
    sub.ws.send("not json");
    await waitFor(() => sub.closed(), "a close after a malformed message");
  });

  it("refuses a subscription whose options do not fit a socket attachment", async () => {
    const columns = Array.from({ length: 200 }, (_, i) => ({ name: `c${i}_${"x".repeat(100)}`, type: "STRING" }));
    await createTable("sub", "wide", { columns, bucket: { num: 1 } });
    const sub = await rawSubscribe("wide", { from: "earliest" });
    await waitFor(() => sub.closed(), "the close");
    expect(sub.messages.at(-1).error.message).toMatch(/too many columns for one subscription/);
    const narrow = await rawSubscribe("wide", { from: "earliest", columns: ["c0_" + "x".repeat(100)] });
    await waitFor(() => narrow.messages.length === 1, "subscribed");
    expect(narrow.messages[0].type).toBe("subscribed");
    narrow.ws.close();
  });

  it("answers a plain GET on subscribe with 426 where it would upgrade, and with the refusal where it would not", async () => {
    await createTable("sub", "plain");
    const response = await exports.default.fetch(url("plain"));
    expect(response.status).toBe(426);
    expect(response.headers.get("upgrade")).toBe("websocket");
    expect(((await response.json()) as any).error).toMatchObject({ code: "upgrade_required", message: expect.stringMatching(/WebSocket/) });
    const missing = await exports.default.fetch(url("nope"));
    expect(missing.status).toBe(404);
    expect(((await missing.json()) as any).error.message).toMatch(/table 'sub.nope'/);
  });
});

describe("the subscription client's failures", () => {
  /** Connects as the default `connect` does after a failure: the server's HTTP answer becomes an UpgradeRefused. */
  const connectOrRefuse = async (target: string): Promise<WebSocket> => {
    const response = await exports.default.fetch(target, { headers: { Upgrade: "websocket" } });
    if (!response.webSocket) throw await UpgradeRefused.from(response);
    response.webSocket.accept();
    return response.webSocket;
  };

  it("ends on a refused upgrade with the server's error, without retrying", async () => {
    await ok("PUT", "/databases/sub");
    const errors: SubscriptionError[] = [];
    const retries: RetryNotice[] = [];
    let attempts = 0;
    const subscription = subscribe({
      url: url("nope"),
      from: "earliest",
      onBatch: () => {},
      onError: (error) => errors.push(error),
      onRetry: (retry) => retries.push(retry),
      connect: (target) => (attempts++, connectOrRefuse(target)),
      reconnectDelayMs: 5,
    });
    await subscription.closed;
    expect(errors).toEqual([{ status: 404, code: "not_found", message: expect.stringMatching(/table 'sub.nope'/) }]);
    expect(retries).toEqual([]);
    await new Promise((r) => setTimeout(r, 50));
    expect(attempts).toBe(1);
  });

  it("ends on an error message with its code and status", async () => {
    await createTable("sub", "refusing");
    const errors: SubscriptionError[] = [];
    const subscription = subscribe({ url: url("refusing"), from: "earliest", columns: ["nope"], onBatch: () => {}, onError: (e) => errors.push(e), connect: connectOrRefuse });
    await subscription.closed;
    expect(errors).toEqual([{ status: 400, code: "bad_request", message: expect.stringMatching(/unknown column 'nope'/) }]);
  });

  it("retries transient failures with exponential backoff, jitter and a cap, reporting each, and starts over once connected", async () => {
    await createTable("sub", "flappy", { columns: [{ name: "n", type: "INT" }], bucket: { num: 1 } });
    await ok("POST", "/databases/sub/tables/flappy/rows", [{ n: 1 }]);
    const failures = [
      () => new Error("could not connect to the server"),
      async () => UpgradeRefused.from(Response.json({ error: { code: "unavailable", message: "catalog is migrating" } }, { status: 503 })),
      async () => UpgradeRefused.from(new Response("slow down", { status: 429, statusText: "Too Many Requests" })),
      () => new Error("could not connect to the server"),
      () => new Error("could not connect to the server"),
    ];
    let attempts = 0;
    let live: WebSocket | undefined;
    const flaky = async (target: string): Promise<WebSocket> => {
      const failure = failures[attempts++];
      if (failure) throw await failure();
      return (live = await connectOrRefuse(target));
    };
    const retries: RetryNotice[] = [];
    const rows: unknown[] = [];
    const subscription = subscribe({
      url: url("flappy"),
      from: "earliest",
      onBatch: (batch) => void rows.push(...batch.rows!),
      onRetry: (retry) => retries.push(retry),
      connect: flaky,
      reconnectDelayMs: 8,
      reconnectDelayMaxMs: 40,
    });
    await waitFor(() => rows.length === 1, "the row once connected");
    // Ceilings 8, 16, 32, then the cap of 40; each delay lies in the upper half of its ceiling.
    expect(retries.map((r) => r.attempt)).toEqual([1, 2, 3, 4, 5]);
    [8, 16, 32, 40, 40].forEach((ceiling, i) => {
      expect(retries[i]!.delayMs).toBeGreaterThanOrEqual(ceiling / 2);
      expect(retries[i]!.delayMs).toBeLessThanOrEqual(ceiling);
    });
    expect(retries.map((r) => r.reason)).toEqual([
      "could not connect to the server",
      "503 unavailable: catalog is migrating",
      "429 http_429: HTTP 429 Too Many Requests",
      "could not connect to the server",
      "could not connect to the server",
    ]);
    // A connection that delivered messages and then dropped starts the backoff over.
    live!.close(1011, "test drops the connection");
    await waitFor(() => retries.length === 6, "the retry after the drop");
    expect(retries[5]).toMatchObject({ attempt: 1, reason: expect.stringMatching(/^connection closed/) });
    expect(retries[5]!.delayMs).toBeLessThanOrEqual(8);
    await ok("POST", "/databases/sub/tables/flappy/rows", [{ n: 2 }]);
    await waitFor(() => rows.length === 2, "the row after the resume");
    subscription.close();
  });
});
