/**
 * A partition dropped, and maybe created again, by another isolate while
 * this one still has it cached: a write that committed in other partitions
 * says so (409, not a 404 claiming nothing was written), and a
 * subscription of the partition finds the new one. "Another isolate" is
 * played by deleting the catalog row and dropping the Tablets directly,
 * which leaves this isolate's partition cache stale. And a Tablet whose
 * drop fails once is dropped by the second try, so a stale cache meets a
 * dropped Tablet rather than one that takes writes no read will reach.
 */
import { env, exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { dropTablets } from "../../src/tablet/stub.ts";
import { api, base, createTable, expectError, ok, tabletOf } from "./helpers.ts";
import { eventsByDay } from "./partition-fixtures.ts";

const path = (table: string, rest = "") => `/databases/stale/tables/${table}${rest}`;

/** Every row of a partition's two buckets. */
async function rowsOf(table: string, spec: string): Promise<{ id: number }[]> {
  const out: { id: number }[] = [];
  for (const bucket of [0, 1]) out.push(...(await ok("GET", path(table, `/log?partition=${spec}&bucket=${bucket}`))).rows);
  return out;
}

/** Another isolate drops `spec` (its catalog row, then its Tablets), and maybe creates it again. */
async function dropElsewhere(tableId: string, spec: string, createAgain = false): Promise<void> {
  const row = await env.CATALOG.prepare("DELETE FROM partitions WHERE table_id = ? AND spec = ? RETURNING partition_id AS id").bind(tableId, spec).first<{ id: number }>();
  for (const bucket of [0, 1]) await tabletOf(tableId, bucket, row!.id).drop(`partition ${spec}`);
  if (createAgain) await env.CATALOG.prepare("INSERT INTO partitions (table_id, spec, created_at_ms) VALUES (?, ?, ?)").bind(tableId, spec, Date.now()).run();
}

describe("a partition dropped elsewhere", () => {
  it("under a write that committed in another partition: 409 saying what was and was not written", async () => {
    await createTable("stale", "writes", eventsByDay);
    await ok("POST", path("writes", "/rows?dynamicPartitions=true"), [{ dt: "a", id: 1, user: "x" }, { dt: "b", id: 2, user: "x" }]);
    const { tableId } = await ok("GET", path("writes"));
    await dropElsewhere(tableId, "dt=a");
    const answer = await api("POST", path("writes", "/rows"), [{ dt: "a", id: 3, user: "x" }, { dt: "b", id: 4, user: "x" }]);
    expectError(answer, 409, "conflict", /partition dt=a of stale\.writes was dropped while this write ran: its rows were not written, the other partitions' were/);
    expect((await rowsOf("writes", "dt=b")).map((r) => r.id).sort()).toEqual([2, 4]);
    expectError(await api("GET", path("writes", "/log?partition=dt=a&bucket=0")), 404, "not_found");
  });

  it("and created again: a subscription of it finds the new partition", async () => {
    await createTable("stale", "subs", eventsByDay);
    await ok("POST", path("subs", "/rows?dynamicPartitions=true"), [{ dt: "a", id: 1, user: "x" }]);
    const { tableId } = await ok("GET", path("subs"));
    await dropElsewhere(tableId, "dt=a", true);
    const response = await exports.default.fetch(`${base}${path("subs", "/subscribe")}`, { headers: { Upgrade: "websocket" } });
    const ws = response.webSocket!;
    ws.accept();
    const messages: any[] = [];
    ws.addEventListener("message", (e) => void messages.push(JSON.parse(e.data as string)));
    ws.send(JSON.stringify({ from: "earliest", partition: "dt=a" }));
    await ok("POST", path("subs", "/rows"), [{ dt: "a", id: 5, user: "x" }]);
    const start = Date.now();
    while (!messages.some((m) => m.type === "batch") && Date.now() - start < 5000) await new Promise((r) => setTimeout(r, 20));
    ws.close();
    expect(messages.filter((m) => m.type === "error")).toEqual([]);
    expect(messages.filter((m) => m.type === "subscribed").map((m) => m.partition)).toEqual(["dt=a", "dt=a"]);
    expect(messages.filter((m) => m.type === "batch").flatMap((m) => m.rows.map((r: { id: number }) => r.id))).toEqual([5]);
  });

  it("under a failed Tablet drop: the drop is tried again, and the Tablet refuses writes", async () => {
    await createTable("stale", "drops", eventsByDay);
    await ok("POST", path("drops", "/rows?dynamicPartitions=true"), [{ dt: "a", id: 1, user: "x" }, { dt: "a", id: 2, user: "y" }]);
    const { tableId, definition } = { ...(await ok("GET", path("drops"))), definition: { partitionKeys: ["dt"] } };
    const { partitions } = await ok("GET", path("drops", "/partitions"));
    const partitionId = partitions[0].partitionId as number;
    let failures = 0;
    const flaky = {
      idFromName: (name: string) => env.TABLET.idFromName(name),
      get: (id: DurableObjectId) => {
        const stub = env.TABLET.get(id);
        return new Proxy(stub, {
          get: (target, key) => (key === "drop" && failures++ < 2 ? () => Promise.reject(new Error("network lost")) : Reflect.get(target, key)),
        });
      },
    };
    await dropTablets({ ...env, TABLET: flaky } as unknown as Env, [{ tableId, definition, partition: { partitionId } }], 2, "partition dt=a");
    expect(failures).toBeGreaterThanOrEqual(2);
    for (const bucket of [0, 1]) expect(await tabletOf(tableId, bucket, partitionId).status()).toEqual({ kind: "dropped" });
  });
});
