/**
 * The union subscribe: a subscription from "earliest" on a log table whose
 * oldest rows were dropped from the Tablets after tiering gets them from the
 * lake, with their original offsets, and continues from the Tablets with
 * no gap and no overlap, in JSON and in Arrow. On a primary-key table it gets
 * each bucket's state as of the lake snapshot, then the changelog after it,
 * which together rebuild exactly the current state.
 */
import * as arrow from "apache-arrow";
import { exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { subscribe, type ReceivedBatch } from "../../src/client/subscribe.ts";
import { base, createTable, ok, waitFor } from "./helpers.ts";

async function subscribeRaw(table: string, message: unknown) {
  const response = await exports.default.fetch(`${base}/databases/us/tables/${table}/subscribe`, { headers: { Upgrade: "websocket" } });
  const ws = response.webSocket!;
  ws.accept();
  const messages: any[] = [];
  ws.addEventListener("message", async (e) => {
    const data = e.data as string | ArrayBuffer | Blob;
    if (typeof data === "string") messages.push(JSON.parse(data));
    else messages.push(arrow.tableFromIPC(new Uint8Array(data instanceof Blob ? await data.arrayBuffer() : data)));
  });
  ws.send(JSON.stringify(message));
  return { ws, messages };
}

/** Per bucket, the rows of the batch messages received, checking each message continues the previous one. */
function rowsByBucket(messages: any[]): Map<number, any[]> {
  const out = new Map<number, any[]>();
  for (const message of messages) {
    const batch = message instanceof arrow.Table
      ? { bucket: Number(message.schema.metadata.get("floe.bucket")), firstOffset: Number(message.schema.metadata.get("floe.first-offset")), rows: message.toArray().map((r) => r.toJSON()) }
      : message.type === "batch" ? message : undefined;
    if (!batch) continue;
    const rows = out.get(batch.bucket) ?? [];
    expect(batch.firstOffset).toBe(rows.length);
    rows.push(...batch.rows);
    out.set(batch.bucket, rows);
  }
  return out;
}

const definition = {
  columns: [{ name: "id", type: "INT", nullable: false }, { name: "note", type: "STRING" }],
  bucket: { num: 2, key: ["id"] },
  properties: { "table.datalake.enabled": "true", "table.log.ttl": "0s" },
};

describe("union subscribe", () => {
  for (const format of ["json", "arrow"] as const) {
    it(`replays the dropped log from the lake, then continues from the Tablets (${format})`, async () => {
      const table = `history_${format}`;
      await createTable("us", table, definition);
      const rows = (from: number, n: number) => Array.from({ length: n }, (_, i) => ({ id: from + i, note: `n${from + i}` }));
      await ok("POST", `/databases/us/tables/${table}/rows`, rows(0, 3000));
      await ok("POST", "/tiering/run");
      await ok("POST", `/databases/us/tables/${table}/rows`, rows(3000, 40));
      await ok("POST", "/tiering/run");
      await ok("POST", `/databases/us/tables/${table}/rows`, rows(3040, 30));
      const described = await ok("GET", `/databases/us/tables/${table}`);
      expect(described.buckets.every((b: { logStartOffset: number }) => b.logStartOffset > 0)).toBe(true);

      const { ws, messages } = await subscribeRaw(table, { from: "earliest", format, columns: ["note", "id"] });
      await waitFor(() => [...rowsByBucket(messages).values()].reduce((n, r) => n + r.length, 0) === 3070, "history and hot rows");
      await ok("POST", `/databases/us/tables/${table}/rows`, rows(3070, 10));
      await waitFor(() => [...rowsByBucket(messages).values()].reduce((n, r) => n + r.length, 0) === 3080, "live rows");
      ws.close();

      const subscribed = messages.filter((m) => m.type === "subscribed");
      expect(subscribed.map((m) => m.offset)).toEqual([0, 0]);
      const received = rowsByBucket(messages);
      for (const [bucket, list] of received) {
        expect(list.map((r) => Number(r._offset))).toEqual(list.map((_, i) => i));
        expect(Object.keys(list[0]).slice(0, 2)).toEqual(["note", "id"]);
        expect(list.every((r) => r._change === "+I")).toBe(true);
        expect(bucket === 0 || bucket === 1).toBe(true);
      }
      const ids = [...received.values()].flat().map((r) => r.id).sort((a, b) => a - b);
      expect(ids).toEqual(Array.from({ length: 3080 }, (_, i) => i));
    });
  }

  for (const format of ["json", "arrow"] as const) {
    it(`sends a primary-key bucket's state from the lake, then its changelog (${format})`, async () => {
      const table = `state_${format}`;
      await createTable("us", table, {
        columns: [{ name: "id", type: "INT" }, { name: "name", type: "STRING", nullable: false }, { name: "score", type: "BIGINT" }],
        primaryKey: ["id"],
        bucket: { num: 2 },
        properties: { "table.datalake.enabled": "true", "table.log.ttl": "0s" },
      });
      const path = `/databases/us/tables/${table}/rows`;
      await ok("POST", path, Array.from({ length: 40 }, (_, id) => ({ id, name: `a${id}`, score: id })));
      await ok("POST", "/tiering/run");
      await ok("POST", path, Array.from({ length: 10 }, (_, id) => ({ id, name: `b${id}`, score: 100 + id })));
      await ok("POST", `${path}?op=delete`, [{ id: 30 }, { id: 31 }]);
      await ok("POST", "/tiering/run");
      await ok("POST", path, [{ id: 5, name: "hot", score: null }, { id: 50, name: "new", score: 1 }]);
      await ok("POST", `${path}?op=delete`, [{ id: 6 }]);
      const described = await ok("GET", `/databases/us/tables/${table}`);
      expect(described.buckets.every((b: { logStartOffset: number }) => b.logStartOffset > 0)).toBe(true);

      const byBucket = new Map<number, Map<number, unknown>>();
      const lastParts = new Set<number>();
      const apply = (batch: ReceivedBatch) => {
        if (batch.snapshot?.first) byBucket.set(batch.bucket, new Map());
        const state = byBucket.get(batch.bucket) ?? byBucket.set(batch.bucket, new Map()).get(batch.bucket)!;
        const rows = batch.rows ?? batch.table!.toArray().map((r) => r.toJSON());
        for (const { _offset, _timestamp, _change, ...row } of rows as Record<string, any>[]) {
          const normal = { ...row, score: row.score === null ? null : Number(row.score) };
          if (batch.snapshot || _change === "+I" || _change === "+U") state.set(row.id, normal);
          else if (_change === "-D") state.delete(row.id);
        }
        if (batch.snapshot?.last) lastParts.add(batch.bucket);
      };
      const state = { get: (id: number) => [...byBucket.values()].find((m) => m.has(id))?.get(id), get size() { return [...byBucket.values()].reduce((n, m) => n + m.size, 0); } };
      const connect = async (url: string) => {
        const response = await exports.default.fetch(url, { headers: { Upgrade: "websocket" } });
        response.webSocket!.accept();
        return response.webSocket!;
      };
      const subscription = subscribe({ url: `${base}/databases/us/tables/${table}/subscribe`, from: "earliest", format, onBatch: apply, connect });
      const current = async () => (await ok("GET", `/databases/us/tables/${table}/scan`)).rows.sort((a: { id: number }, b: { id: number }) => a.id - b.id);
      const received = () => [...byBucket.values()].flatMap((m) => [...m.values()]).sort((a: any, b: any) => a.id - b.id);
      await waitFor(() => lastParts.size === 2 && state.size === 38, "the state and the changelog after it");
      expect(received()).toEqual(await current());
      await ok("POST", path, [{ id: 7, name: "live", score: 7 }]);
      await waitFor(() => (state.get(7) as { name: string } | undefined)?.name === "live", "a live change");
      subscription.close();
      expect(received()).toEqual(await current());
    });
  }

  it("marks a resumed primary-key subscription's state as replacing what the client held", async () => {
    await createTable("us", "resumed", {
      columns: [{ name: "id", type: "INT" }, { name: "name", type: "STRING" }],
      primaryKey: ["id"],
      bucket: { num: 1 },
      properties: { "table.datalake.enabled": "true", "table.log.ttl": "0s" },
    });
    await ok("POST", "/databases/us/tables/resumed/rows", [{ id: 1, name: "a" }, { id: 2, name: "b" }]);
    await ok("POST", "/databases/us/tables/resumed/rows?op=delete", [{ id: 2 }]);
    await ok("POST", "/tiering/run");
    // A client that had handled offsets 0 and 1 (so it holds ids 1 and 2) resumes from offset 2, now dropped.
    const { ws, messages } = await subscribeRaw("resumed", { from: { offsets: { 0: 2 } } });
    await waitFor(() => messages.some((m) => m.type === "snapshot" && m.last), "the state");
    ws.close();
    const parts = messages.filter((m) => m.type === "snapshot");
    expect(messages[0]).toMatchObject({ type: "subscribed", bucket: 0, offset: 2 });
    expect(parts[0]).toMatchObject({ first: true, offset: 3, rows: [{ id: 1, name: "a" }] });
    expect(parts.at(-1)).toMatchObject({ last: true });
    expect(parts.slice(1).every((p) => !p.first)).toBe(true);
  });
});
