/**
 * `GET /v1/metrics`: each Tablet's counters (exact after writes, retries and
 * lookups, and across a restart), open subscribers, tiering lag before and
 * after a pass, the last tiering error recorded and cleared, admin-only
 * access; and the cap on subscribers per Tablet, at its value and one past
 * it, with the refusal reaching the client.
 *
 * (`metrics.test.ts` is about Iceberg column metrics in manifests.)
 */
import { evictDurableObject, runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { env, exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { lakeSchedulerStub } from "../../src/lake/scheduler.ts";
import { withFaults } from "./lake-faults.ts";
import type { TabletSubscription } from "../../src/protocol/subscription.ts";
import { subscribersPerTokenMax, subscriptionHeader } from "../../src/protocol/subscription.ts";
import { lookupCountsFlushMs } from "../../src/tablet/counters.ts";
import { requestLimits } from "../../src/vocabulary.ts";
import { api, apiWithEnv, base, createTable, expectError, ok, waitFor, tabletOf } from "./helpers.ts";

const users = {
  columns: [{ name: "id", type: "INT" }, { name: "name", type: "STRING" }],
  primaryKey: ["id"],
  bucket: { num: 1 },
};
const numbers = (buckets: number, lake = false) => ({
  columns: [{ name: "n", type: "INT" }],
  bucket: { num: buckets },
  properties: lake ? { "table.datalake.enabled": "true" } : {},
});

async function metricsOf(db: string, table: string): Promise<any> {
  const { tables } = await ok("GET", `/metrics?database=${db}`);
  return tables.find((t: { table: string }) => t.table === table);
}

/** The stored record-batch bytes of every bucket, read from the Tablets' storage. */
async function storedBytes(tableId: string, buckets: number): Promise<number> {
  let bytes = 0;
  for (let bucket = 0; bucket < buckets; bucket++) {
    bytes += await runInDurableObject(tabletOf(tableId, bucket), (_, state) =>
      state.storage.sql.exec<{ bytes: number | null }>("SELECT sum(length(ipc_batch)) AS bytes FROM log_batch").one().bytes ?? 0);
  }
  return bytes;
}

/** A client subscription through the Worker's relay, recording every JSON message and the close. */
async function clientSubscription(path: string): Promise<{ ws: WebSocket; messages: any[]; closed: () => boolean }> {
  const response = await exports.default.fetch(`${base}${path}/subscribe`, { headers: { Upgrade: "websocket" } });
  const ws = response.webSocket!;
  ws.accept();
  const messages: any[] = [];
  let closed = false;
  ws.addEventListener("message", (e) => void messages.push(JSON.parse(e.data as string)));
  ws.addEventListener("close", () => void (closed = true));
  ws.send(JSON.stringify({ from: "latest" }));
  return { ws, messages, closed: () => closed };
}

describe("GET /v1/metrics", () => {
  it("counts rows and bytes written exactly, and a retried writer sequence once", async () => {
    await createTable("m_writes", "events", numbers(3));
    const path = "/databases/m_writes/tables/events/rows";
    await ok("POST", path, Array.from({ length: 10 }, (_, n) => ({ n })));
    const writer = { "Floe-Writer-Id": "w", "Floe-Writer-Seq": "1" };
    await ok("POST", path, Array.from({ length: 5 }, (_, n) => ({ n })), writer);
    await ok("POST", path, Array.from({ length: 5 }, (_, n) => ({ n })), writer);
    const metrics = await metricsOf("m_writes", "events");
    expect(metrics).toMatchObject({ database: "m_writes", table: "events", rowsWritten: 15, lookupCalls: 0, keysLookedUp: 0, subscribers: 0 });
    // A log table stores exactly the record batches it was sent.
    expect(metrics.bytesWritten).toBe(await storedBytes(metrics.tableId, 3));
    expect(metrics.buckets.map((b: { highWatermark: number }) => b.highWatermark).reduce((a: number, b: number) => a + b)).toBe(15);
    expect(metrics.buckets.every((b: { tieringLagRows: null }) => b.tieringLagRows === null)).toBe(true);
  });

  it("counts a primary-key table's input rows, lookup calls and keys, and prefix lookups as calls", async () => {
    await createTable("m_pk", "users", users);
    const path = "/databases/m_pk/tables/users";
    await ok("POST", `${path}/rows`, [{ id: 1, name: "a" }, { id: 2, name: "b" }, { id: 3, name: "c" }]);
    // An unchanged row and a delete log fewer changes than rows sent; both still count as written.
    await ok("POST", `${path}/rows`, [{ id: 1, name: "a" }]);
    await ok("POST", `${path}/rows?op=delete`, [{ id: 3 }]);
    await ok("POST", `${path}/lookup`, { keys: [{ id: 1 }, { id: 2 }, { id: 9 }] });
    await ok("POST", `${path}/lookup`, { keys: [{ id: 3 }] });
    await ok("POST", `${path}/lookup`, { prefix: { id: 1 } });
    await ok("GET", `${path}/scan?source=hot`);
    const metrics = await metricsOf("m_pk", "users");
    expect(metrics).toMatchObject({ rowsWritten: 5, lookupCalls: 3, keysLookedUp: 4 });
    expect(metrics.bytesWritten).toBeGreaterThan(0);
    expect(metrics.buckets[0].highWatermark).toBe(4);
  });

  it("keeps the counters across a Tablet restart", async () => {
    await createTable("m_restart", "users", { ...users, bucket: { num: 2 } });
    const path = "/databases/m_restart/tables/users";
    await ok("POST", `${path}/rows`, Array.from({ length: 20 }, (_, id) => ({ id, name: `u${id}` })));
    await ok("POST", `${path}/lookup`, { keys: Array.from({ length: 20 }, (_, id) => ({ id })) });
    const before = await metricsOf("m_restart", "users");
    expect(before).toMatchObject({ rowsWritten: 20, lookupCalls: 2, keysLookedUp: 20 });
    // Lookup counts reach storage within lookupCountsFlushMs (a lookup's answer never waits for a write).
    await new Promise((r) => setTimeout(r, lookupCountsFlushMs + 250));
    for (const bucket of [0, 1]) await evictDurableObject(tabletOf(before.tableId, bucket));
    expect(await metricsOf("m_restart", "users")).toEqual(before);
  });

  it("counts open subscribers per bucket, and none once they close", async () => {
    await createTable("m_subs", "live", numbers(2));
    const client = await clientSubscription("/databases/m_subs/tables/live");
    await waitFor(() => client.messages.length === 2, "both buckets subscribed");
    const open = await metricsOf("m_subs", "live");
    expect(open.subscribers).toBe(2);
    expect(open.buckets.map((b: { subscribers: number }) => b.subscribers)).toEqual([1, 1]);
    client.ws.close();
    await waitFor(async () => (await metricsOf("m_subs", "live")).subscribers === 0, "subscribers gone");
  });

  it("shows each bucket's tiering lag before a pass, and none after", async () => {
    await createTable("m_lag", "clicks", numbers(2, true));
    await ok("POST", "/databases/m_lag/tables/clicks/rows", Array.from({ length: 12 }, (_, n) => ({ n })));
    const before = await metricsOf("m_lag", "clicks");
    for (const bucket of before.buckets) {
      expect(bucket.tieredOffset).toBe(0);
      expect(bucket.tieringLagRows).toBe(bucket.highWatermark);
      expect(bucket.oldestUntieredAgeMs).toEqual(bucket.highWatermark > 0 ? expect.any(Number) : null);
    }
    expect(before.buckets.reduce((n: number, b: { tieringLagRows: number }) => n + b.tieringLagRows, 0)).toBe(12);
    await ok("POST", "/tiering/run");
    const after = await metricsOf("m_lag", "clicks");
    expect(after.buckets).toEqual(
      before.buckets.map((b: { bucket: number; highWatermark: number }) => ({
        bucket: b.bucket,
        subscribers: 0,
        logStartOffset: 0,
        highWatermark: b.highWatermark,
        tieredOffset: b.highWatermark,
        tieringLagRows: 0,
        oldestUntieredAgeMs: null,
      })),
    );
    await ok("POST", "/databases/m_lag/tables/clicks/rows", [{ n: 99 }]);
    const again = await metricsOf("m_lag", "clicks");
    expect(again.buckets.reduce((n: number, b: { tieringLagRows: number }) => n + b.tieringLagRows, 0)).toBe(1);
  });

  it("records a table's last tiering error, and clears it when a round commits or finds nothing to tier", async () => {
    await createTable("m_fail", "clicks", numbers(1, true));
    await ok("POST", "/databases/m_fail/tables/clicks/rows", [{ n: 1 }, { n: 2 }]);
    expect((await metricsOf("m_fail", "clicks")).lastTieringError).toBeNull();

    const { tableId } = await ok("GET", "/databases/m_fail/tables/clicks");
    const failing = await withFaults(tableId, 1, { putsFailFrom: 1 }, () => ok("POST", "/tiering/run"));
    expect(failing.tables.find((t: { table: string }) => t.table === "m_fail.clicks")).toMatchObject({ kind: "failed" });
    const failed = await metricsOf("m_fail", "clicks");
    expect(failed.lastTieringError).toEqual({ message: expect.stringMatching(/injected R2 failure/), at: expect.any(String) });
    expect(Date.parse(failed.lastTieringError.at)).toBeLessThanOrEqual(Date.now());
    expect(failed.buckets[0].tieringLagRows).toBe(2);

    const committed = await ok("POST", "/tiering/run");
    expect(committed.tables.find((t: { table: string }) => t.table === "m_fail.clicks")).toMatchObject({ kind: "committed" });
    expect(await metricsOf("m_fail", "clicks")).toMatchObject({ lastTieringError: null, buckets: [{ tieringLagRows: 0 }] });

    // Failing again; then a round outside any pass (as the LakeScheduler's alarm runs one) commits, so the next pass finds nothing to tier.
    await ok("POST", "/databases/m_fail/tables/clicks/rows", [{ n: 3 }]);
    await withFaults(tableId, 1, { putsFailFrom: 1 }, () => ok("POST", "/tiering/run"));
    expect((await metricsOf("m_fail", "clicks")).lastTieringError).not.toBeNull();
    expect(await runDurableObjectAlarm(lakeSchedulerStub(env, tableId))).toBe(true);
    expect((await metricsOf("m_fail", "clicks")).lastTieringError).toBeNull();
    const upToDate = await ok("POST", "/tiering/run");
    expect(upToDate.tables.find((t: { table: string }) => t.table === "m_fail.clicks")).toMatchObject({ kind: "up_to_date" });
    expect((await metricsOf("m_fail", "clicks")).lastTieringError).toBeNull();
  });

  it("lists every database's tables without ?database=, and answers 404 for an unknown database", async () => {
    await createTable("m_all_a", "t", numbers(1));
    await createTable("m_all_b", "t", numbers(1));
    const { tables } = await ok("GET", "/metrics");
    const names = tables.map((t: { database: string; table: string }) => `${t.database}.${t.table}`);
    expect(names).toEqual(expect.arrayContaining(["m_all_a.t", "m_all_b.t"]));
    expectError(await api("GET", "/metrics?database=m_nowhere"), 404, "not_found");
    expectError(await api("GET", "/metrics?database=bad%20name"), 400, "bad_request");
  });

  it("answers only admin tokens: 401 without a token, 403 for a data scope", async () => {
    const rootToken = `root-${"m".repeat(40)}`;
    const enforcing = { FLOE_ENV: "production", FLOE_ROOT_TOKEN: rootToken };
    const asRoot = { authorization: `Bearer ${rootToken}` };
    await createTable("m_auth", "t", numbers(1));
    const tokenWith = async (scope: string) =>
      (await apiWithEnv(enforcing, "POST", "/tokens", { name: scope, scopes: [scope] }, asRoot)).body.token as string;
    expectError(await apiWithEnv(enforcing, "GET", "/metrics"), 401, "unauthorized");
    for (const scope of ["read:m_auth", "write:m_auth", "write:m_auth.t"]) {
      const bearer = { authorization: `Bearer ${await tokenWith(scope)}` };
      expectError(await apiWithEnv(enforcing, "GET", "/metrics?database=m_auth", undefined, bearer), 403, "forbidden", /admin/);
    }
    const admin = { authorization: `Bearer ${await tokenWith("admin")}` };
    const answer = await apiWithEnv(enforcing, "GET", "/metrics?database=m_auth", undefined, admin);
    expect(answer.status).toBe(200);
    expect(answer.body.tables.map((t: { table: string }) => t.table)).toEqual(["t"]);
  });
});

describe(`subscribers per Tablet: ${requestLimits.subscribersPerTabletMax}`, () => {
  it("takes exactly the limit, refuses one more with an error the client receives, and takes one again after a close", async () => {
    const max = requestLimits.subscribersPerTabletMax;
    await createTable("m_cap", "busy", numbers(1));
    const { tableId } = await ok("GET", "/databases/m_cap/tables/busy");
    // Straight to the Tablet, without a relay each: the cap is the Tablet's, and 1,000 relays would cost far more.
    const subscription = (i: number): TabletSubscription => ({
      bucket: 0, start: { position: "latest" }, columns: [{ id: 1, name: "n", type: "INT", nullable: true }], format: "json", windowBytes: 1 << 20, heldBy: "relay",
      // Spread over tokens, each within its share of the bucket (subscriber-share.test.ts tests the share).
      principal: `token-${i % Math.ceil(max / subscribersPerTokenMax)}`,
    });
    const direct: WebSocket[] = [];
    for (let i = 0; i < max; i++) {
      const response = await tabletOf(tableId, 0).fetch("https://tablet/subscribe", {
        headers: { upgrade: "websocket", [subscriptionHeader]: JSON.stringify(subscription(i)) },
      });
      expect(response.status).toBe(101);
      response.webSocket!.accept();
      direct.push(response.webSocket!);
    }
    expect((await metricsOf("m_cap", "busy")).subscribers).toBe(max);

    const refused = await clientSubscription("/databases/m_cap/tables/busy");
    await waitFor(refused.closed, "the refused subscription to close");
    expect(refused.messages).toEqual([
      { type: "error", error: { code: "unavailable", message: expect.stringMatching(new RegExp(`bucket 0 already has ${max} subscribers`)) } },
    ]);

    direct.pop()!.close(1000, "done");
    await waitFor(async () => (await metricsOf("m_cap", "busy")).subscribers === max - 1, "one subscriber gone");
    const admitted = await clientSubscription("/databases/m_cap/tables/busy");
    await waitFor(() => admitted.messages.length === 1, "subscribed");
    expect(admitted.messages[0]).toMatchObject({ type: "subscribed", bucket: 0 });
    admitted.ws.close();
    for (const ws of direct) ws.close(1000, "done");
  });
});

/** The test env with every R2 put failing, as `tiering-failures.test.ts` injects it. */
