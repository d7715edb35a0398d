/**
 * The union subscribe of a partitioned lake table: a subscription whose
 * start lies below a partition's retained log gets that partition's rows
 * from the lake (its own files and offsets, never another partition's), and
 * continues from its Tablets with no gap and no overlap, every message
 * naming the partition; for a primary-key table, each partition's state as
 * of the snapshot, then its changelog.
 */
import { exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { base, createTable, ok, waitFor } from "./helpers.ts";
import { eventsByDay } from "./partition-fixtures.ts";

const path = (table: string, rest = "") => `/databases/sublake/tables/${table}${rest}`;

/**
 * A socket recording every JSON message, which acks every batch and snapshot part it receives
 * (naming the partition when it follows every partition, as such acks must).
 */
async function subscribe(table: string, message: { from: string; partition?: string }) {
  const response = await exports.default.fetch(`${base}${path(table, "/subscribe")}`, { headers: { Upgrade: "websocket" } });
  const ws = response.webSocket!;
  ws.accept();
  const messages: any[] = [];
  ws.addEventListener("message", (e) => {
    const m = JSON.parse(e.data as string);
    messages.push(m);
    const ack = (position: unknown) => {
      const byBucket = { [m.bucket]: position };
      ws.send(JSON.stringify({ ack: message.partition === undefined ? { [m.partition]: byBucket } : byBucket }));
    };
    if (m.type === "batch") ack(m.lastOffset + 1);
    if (m.type === "snapshot") ack({ parts: m.part + 1 });
  });
  ws.send(JSON.stringify(message));
  return { ws, messages };
}

/** Per partition and bucket, the rows of the batch messages, checking each continues the one before. */
function rowsByTablet(messages: any[]): Map<string, any[]> {
  const out = new Map<string, any[]>();
  for (const m of messages.filter((m) => m.type === "batch")) {
    const key = `${m.partition}/${m.bucket}`;
    const list = out.get(key) ?? [];
    expect(m.firstOffset).toBe(list.length);
    list.push(...m.rows);
    out.set(key, list);
  }
  return out;
}

const lakeProperties = { "table.datalake.enabled": "true", "table.log.ttl": "0s" };
const rows = (from: number, count: number, dt: string) => Array.from({ length: count }, (_, i) => ({ dt, id: from + i, user: `u${(from + i) % 5}` }));

describe("the union subscribe of a partitioned lake table", () => {
  it("replays each partition's dropped log from its own lake files, then continues from its Tablets", async () => {
    await createTable("sublake", "events", { ...eventsByDay, properties: lakeProperties });
    const write = (list: object[]) => ok("POST", path("events", "/rows?dynamicPartitions=true"), list);
    await write([...rows(0, 60, "a"), ...rows(1000, 40, "b")]);
    await ok("POST", "/tiering/run");
    await write([...rows(60, 20, "a"), ...rows(1040, 30, "b")]);
    await ok("POST", "/tiering/run");
    await write([...rows(80, 5, "a"), ...rows(1070, 5, "b")]);
    const { partitions } = await ok("GET", path("events", "/partitions"));
    const starts = partitions.flatMap((p: any) => p.buckets.map((b: any) => b.logStartOffset));
    expect(starts.every((s: number) => s > 0)).toBe(true);

    for (const message of [{ from: "earliest" }, { from: "earliest", partition: "dt=b" }] as { from: string; partition?: string }[]) {
      const { ws, messages } = await subscribe("events", message);
      const expected = message.partition ? 75 : 160;
      const count = () => [...rowsByTablet(messages).values()].reduce((n, list) => n + list.length, 0);
      await waitFor(() => count() === expected, "the lake history and the hot rows");
      ws.close();
      expect(messages.filter((m) => m.type === "error")).toEqual([]);
      expect(messages.filter((m) => m.type === "subscribed").every((m) => typeof m.partition === "string" && m.offset === 0)).toBe(true);
      for (const [tablet, list] of rowsByTablet(messages)) {
        // Every row came from its own partition, with its original offsets.
        expect(list.every((r) => tablet.startsWith(`dt=${r.dt}/`))).toBe(true);
        expect(list.map((r) => Number(r._offset))).toEqual(list.map((_, i) => i));
      }
      const ids = [...rowsByTablet(messages).values()].flat().map((r) => r.id).sort((x, y) => x - y);
      const b = Array.from({ length: 75 }, (_, i) => 1000 + i);
      expect(ids).toEqual(message.partition ? b : [...Array.from({ length: 85 }, (_, i) => i), ...b]);
    }
  });

  it("sends each partition's primary-key state as of the snapshot, then its changelog", async () => {
    await createTable("sublake", "users", {
      columns: [{ name: "dt", type: "STRING" }, { name: "id", type: "INT" }, { name: "name", type: "STRING" }],
      primaryKey: ["dt", "id"],
      partitionKeys: ["dt"],
      bucket: { num: 2 },
      properties: lakeProperties,
    });
    const write = (list: object[], op = "") => ok("POST", path("users", `/rows?dynamicPartitions=true${op}`), list);
    const people = (dt: string, ids: number[], name: string) => ids.map((id) => ({ dt, id, name: `${name}${id}` }));
    const range = (n: number) => Array.from({ length: n }, (_, i) => i);
    await write([...people("a", range(20), "a"), ...people("b", range(20), "b")]);
    await ok("POST", "/tiering/run");
    await write(people("a", [1, 2, 3], "again"));
    await write([{ dt: "b", id: 4 }], "&op=delete");
    await ok("POST", "/tiering/run");
    await write([...people("a", [5], "hot"), ...people("b", [40], "new")]);

    const { ws, messages } = await subscribe("users", { from: "earliest" });
    const state = new Map<string, string>();
    const apply = () => {
      state.clear();
      for (const m of messages) {
        if (m.type !== "snapshot" && m.type !== "batch") continue;
        for (const row of m.rows) {
          const key = `${m.partition}/${row.id}`;
          expect(m.partition).toBe(`dt=${row.dt}`);
          if (m.type === "snapshot" || row._change === "+I" || row._change === "+U") state.set(key, row.name);
          else if (row._change === "-D") state.delete(key);
        }
      }
      return state;
    };
    const lastParts = () => messages.filter((m) => m.type === "snapshot" && m.last).length;
    await waitFor(() => lastParts() === 4 && apply().size === 40, "every partition's state and changelog");
    ws.close();
    const scanned = (await ok("GET", path("users", "/scan"))).rows as { dt: string; id: number; name: string }[];
    expect(new Map([...apply()].sort())).toEqual(new Map(scanned.map((r) => [`dt=${r.dt}/${r.id}`, r.name] as [string, string]).sort()));
  });
});
