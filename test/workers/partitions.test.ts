/**
 * Partitioned tables in the hot tier: the definition's rules, partitions
 * created, listed and dropped by hand, writes routed to their partition's
 * buckets, refused for a partition that does not exist unless the write
 * may create it (idempotently, also under concurrent writers), idempotent
 * writers across partitions, and a drop under data.
 */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { api, apiWithEnv, createTable, expectError, ok, tabletOf } from "./helpers.ts";
import { eventsByDay, usersByRegionAndDay } from "./partition-fixtures.ts";

const path = (table: string, rest = "") => `/databases/parts/tables/${table}${rest}`;

/** Every row of a partition's buckets, through the log route. */
async function partitionRows(table: string, partition: string, buckets = 2): Promise<any[]> {
  const rows: any[] = [];
  for (let bucket = 0; bucket < buckets; bucket++) {
    const page = await ok("GET", path(table, `/log?partition=${partition}&bucket=${bucket}&limit=10000`));
    expect(page).toMatchObject({ partition, bucket });
    rows.push(...page.rows);
  }
  return rows;
}

describe("a partitioned table's definition", () => {
  it("defaults the bucket key to the primary key without the partition keys, and keeps partition keys NOT NULL", async () => {
    await createTable("parts", "users", usersByRegionAndDay);
    const described = await ok("GET", path("users"));
    expect(described).toMatchObject({ partitionKeys: ["region", "dt"], bucket: { num: 2, key: ["id"] }, buckets: [], partitionCount: 0, partitions: [] });
    expect(described.columns.filter((c: { nullable: boolean }) => !c.nullable).map((c: { name: string }) => c.name)).toEqual(["region", "dt", "id"]);
    // The same definition again is the same table.
    expect((await api("PUT", path("users"), usersByRegionAndDay)).status).toBe(200);
  });

  const refused: [string, unknown, RegExp][] = [
    ["a partition key that is not STRING", { columns: [{ name: "d", type: "INT" }, { name: "v", type: "STRING" }], partitionKeys: ["d"], bucket: { num: 1 } }, /partition key column 'd' must be STRING, not INT/],
    ["an unknown partition key", { ...eventsByDay, partitionKeys: ["day"] }, /partitionKeys names unknown column 'day'/],
    ["a partition key in the bucket key", { ...eventsByDay, bucket: { num: 2, key: ["dt"] } }, /partition key column 'dt' cannot be part of the bucket key/],
    ["a partition key outside the primary key", { ...usersByRegionAndDay, primaryKey: ["dt", "id"] }, /partition key column 'region' must be part of the primary key/],
    ["a primary key of partition keys only", { ...usersByRegionAndDay, primaryKey: ["region", "dt"] }, /needs a column besides the partition keys/],
    ["a nullable partition key", { ...eventsByDay, columns: [{ name: "dt", type: "STRING", nullable: true }, ...eventsByDay.columns.slice(1)] }, /'dt' is a key or partition column and cannot be nullable/],
    ["a partition key named twice", { ...eventsByDay, partitionKeys: ["dt", "dt"] }, /partitionKeys names a column twice/],
    ["table.auto-partition.enabled on an unpartitioned table", { columns: [{ name: "a", type: "STRING" }], bucket: { num: 1 }, properties: { "table.auto-partition.enabled": "true" } }, /applies to partitioned tables only/],
  ];
  it.each(refused)("refuses %s with a 400 naming it, and creates nothing", async (_, definition, message) => {
    await ok("PUT", "/databases/parts");
    expectError(await api("PUT", path("refused"), definition), 400, "bad_request", message);
    expectError(await api("GET", path("refused")), 404, "not_found");
  });

  it("creates a partitioned table tiered to the lake", async () => {
    await ok("PUT", "/databases/parts");
    const lake = { ...eventsByDay, properties: { "table.datalake.enabled": "true" } };
    expect((await api("PUT", path("lake"), lake)).status).toBe(201);
    expect((await ok("GET", path("lake"))).properties).toMatchObject({ "table.datalake.enabled": "true" });
  });
});

describe("partitions by hand", () => {
  it("are created once, listed in spec order with their buckets' offsets, described, and dropped", async () => {
    await createTable("parts", "byhand", eventsByDay);
    const created = await api("PUT", path("byhand", "/partitions/dt=20261130"));
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ created: true, partition: "dt=20261130", values: { dt: "20261130" } });
    const again = await api("PUT", path("byhand", "/partitions/dt=20261130"));
    expect(again.status).toBe(200);
    expect(again.body).toMatchObject({ created: false, partitionId: created.body.partitionId });
    await ok("PUT", path("byhand", "/partitions/dt=20261129"));
    await ok("POST", path("byhand", "/rows"), [{ dt: "20261130", id: 1, user: "ann" }, { dt: "20261130", id: 2, user: "bob" }]);
    const listed = await ok("GET", path("byhand", "/partitions"));
    expect(listed.next).toBeNull();
    expect(listed.partitions.map((p: { partition: string }) => p.partition)).toEqual(["dt=20261129", "dt=20261130"]);
    const offsets = listed.partitions[1].buckets;
    expect(offsets.map((b: { bucket: number }) => b.bucket)).toEqual([0, 1]);
    expect(offsets.reduce((n: number, b: { highWatermark: number }) => n + b.highWatermark, 0)).toBe(2);
    const described = await ok("GET", path("byhand"));
    expect(described).toMatchObject({ partitionCount: 2, partitions: [{ partition: "dt=20261129" }, { partition: "dt=20261130" }] });
    // Metrics do not ask partitions' Tablets yet: the table is listed with null counters and no buckets.
    const metrics = (await ok("GET", "/metrics?database=parts")).tables.find((t: { table: string }) => t.table === "byhand");
    expect(metrics).toMatchObject({ rowsWritten: null, subscribers: null, buckets: [] });
    expectError(await api("GET", path("byhand", "?buckets=0-1")), 400, "bad_request", /partitioned/);

    expect(await ok("DELETE", path("byhand", "/partitions/dt=20261130"))).toMatchObject({ partition: "dt=20261130", dropped: true });
    expectError(await api("DELETE", path("byhand", "/partitions/dt=20261130")), 404, "not_found", /partition dt=20261130 of parts.byhand does not exist/);
    expect((await ok("GET", path("byhand", "/partitions"))).partitions.map((p: { partition: string }) => p.partition)).toEqual(["dt=20261129"]);
    // Its Tablets hold a tombstone; created again, the partition has a new id and none of the old rows.
    expect(await tabletOf(described.tableId, 0, created.body.partitionId).status()).toEqual({ kind: "dropped" });
    const recreated = await ok("PUT", path("byhand", "/partitions/dt=20261130"));
    expect(recreated.partitionId).not.toBe(created.body.partitionId);
    expect(await partitionRows("byhand", "dt=20261130")).toEqual([]);
  });

  it("names a multi-key partition by key=value pairs in key order, sent with / or %2F, in any order", async () => {
    await createTable("parts", "multi", usersByRegionAndDay);
    const created = await ok("PUT", path("multi", "/partitions/dt=20261130/region=eu"));
    expect(created).toMatchObject({ partition: "region=eu/dt=20261130", values: { region: "eu", dt: "20261130" } });
    expect((await api("PUT", path("multi", "/partitions/region=eu%2Fdt=20261130"))).status).toBe(200);
    await ok("DELETE", path("multi", "/partitions/region=eu/dt=20261130"));
  });

  const badSpecs: [string, string, RegExp][] = [
    ["an empty value", "dt=", /a partition value cannot be empty/],
    ["a character outside [A-Za-z0-9_-]", "dt=2026.11", /may hold only the characters A-Z a-z 0-9 _ -/],
    ["a value starting with __", "dt=__x", /cannot start with __/],
    ["a value of 201 characters", `dt=${"a".repeat(201)}`, /at most 200 characters, got 201/],
    ["an unknown key", "day=1", /a partition is named dt=<value>/],
    ["a key named twice", "dt=1/dt=2", /partition key 'dt' is named twice/],
    ["no key=value pair", "20261130", /a partition is named dt=<value>/],
  ];
  it.each(badSpecs)("refuses a spec with %s, creating nothing", async (_, spec, message) => {
    await createTable("parts", "specs", eventsByDay);
    expectError(await api("PUT", path("specs", `/partitions/${spec}`)), 400, "bad_request", message);
    expect((await ok("GET", path("specs", "/partitions"))).partitions).toEqual([]);
  });

  it("takes a value of 200 characters", async () => {
    await createTable("parts", "long", eventsByDay);
    expect((await api("PUT", path("long", `/partitions/dt=${"a".repeat(200)}`))).status).toBe(201);
  });

  it("are refused on an unpartitioned table", async () => {
    await createTable("parts", "flat", { columns: [{ name: "a", type: "STRING" }], bucket: { num: 1 } });
    expectError(await api("PUT", path("flat", "/partitions/a=1")), 400, "bad_request", /is not partitioned/);
    expectError(await api("GET", path("flat", "/partitions")), 400, "bad_request", /is not partitioned/);
    expectError(await api("GET", path("flat", "/log?bucket=0&partition=a=1")), 400, "bad_request", /is not partitioned/);
  });

  it("need write on the table to create or drop, read to list", async () => {
    const enforcing = { FLOE_ENV: "production", FLOE_ROOT_TOKEN: `root-${"r".repeat(40)}` };
    const root = { authorization: `Bearer ${enforcing.FLOE_ROOT_TOKEN}` };
    await createTable("parts", "guarded", eventsByDay);
    const token = async (scopes: string[]) => {
      const minted = await apiWithEnv(enforcing, "POST", "/tokens", { name: scopes.join(" "), scopes }, root);
      return { authorization: `Bearer ${minted.body.token}` };
    };
    const reader = await token(["read:parts.guarded"]);
    const writer = await token(["write:parts.guarded"]);
    expectError(await apiWithEnv(enforcing, "PUT", path("guarded", "/partitions/dt=1"), undefined, reader), 403, "forbidden", /does not grant write:parts.guarded/);
    expect((await apiWithEnv(enforcing, "PUT", path("guarded", "/partitions/dt=1"), undefined, writer)).status).toBe(201);
    expect((await apiWithEnv(enforcing, "GET", path("guarded", "/partitions"), undefined, reader)).status).toBe(200);
    expectError(await apiWithEnv(enforcing, "DELETE", path("guarded", "/partitions/dt=1"), undefined, reader), 403, "forbidden");
    expect((await apiWithEnv(enforcing, "DELETE", path("guarded", "/partitions/dt=1"), undefined, writer)).status).toBe(200);
  });
});

describe("writes to a partitioned table", () => {
  it("refuse a row of a partition that does not exist, naming it, and write nothing anywhere", async () => {
    await createTable("parts", "strict", eventsByDay);
    await ok("PUT", path("strict", "/partitions/dt=1"));
    const answer = await api("POST", path("strict", "/rows"), [{ dt: "1", id: 1, user: "ann" }, { dt: "2", id: 2, user: "bob" }]);
    expectError(answer, 404, "not_found", /partition dt=2 of parts.strict does not exist, so nothing was written/);
    expect(await partitionRows("strict", "dt=1")).toEqual([]);
    expect((await ok("GET", path("strict", "/partitions"))).partitions.length).toBe(1);
    // A value that cannot name a partition is the row's fault.
    expectError(await api("POST", path("strict", "/rows?dynamicPartitions=true"), [{ dt: "1", id: 1, user: "a" }, { dt: "a/b", id: 2, user: "b" }]), 400, "bad_request", /row 1, column 'dt': partition value 'a\/b' may hold only/);
    expect((await ok("GET", path("strict", "/partitions"))).partitions.length).toBe(1);
  });

  it("route each row to its partition's bucket, in request order", async () => {
    await createTable("parts", "routed", eventsByDay);
    const rows = Array.from({ length: 60 }, (_, id) => ({ dt: `d${id % 3}`, id, user: `u${id % 7}` }));
    const answer = await ok("POST", path("routed", "/rows?dynamicPartitions=true"), rows);
    expect(answer.buckets.map((b: { partition: string }) => b.partition)).toEqual([...answer.buckets.map((b: { partition: string }) => b.partition)].sort());
    expect(answer.buckets.reduce((n: number, b: { count: number }) => n + b.count, 0)).toBe(60);
    for (const dt of ["d0", "d1", "d2"]) {
      const stored = await partitionRows("routed", `dt=${dt}`);
      expect(stored.map((r) => r.id).sort((a, b) => a - b)).toEqual(rows.filter((r) => r.dt === dt).map((r) => r.id));
      // Within a bucket the rows keep request order, and a user's rows share a bucket.
      for (let bucket = 0; bucket < 2; bucket++) {
        const ids = (await ok("GET", path("routed", `/log?partition=dt=${dt}&bucket=${bucket}`))).rows.map((r: { id: number }) => r.id);
        expect(ids).toEqual([...ids].sort((a, b) => a - b));
      }
    }
  });

  it("create missing partitions with ?dynamicPartitions=true or table.auto-partition.enabled, and not otherwise", async () => {
    // No pre-created partitions: the scheduler's pass would add today's beside the written one.
    await createTable("parts", "auto", { ...eventsByDay, properties: { "table.auto-partition.enabled": "true", "table.auto-partition.num-precreate": "0" } });
    await ok("POST", path("auto", "/rows"), [{ dt: "a", id: 1, user: "x" }]);
    await createTable("parts", "manual", eventsByDay);
    expectError(await api("POST", path("manual", "/rows?dynamicPartitions=false"), [{ dt: "a", id: 1, user: "x" }]), 404, "not_found");
    await ok("POST", path("manual", "/rows?dynamicPartitions=true"), [{ dt: "a", id: 1, user: "x" }]);
    for (const table of ["auto", "manual"]) {
      expect((await ok("GET", path(table, "/partitions"))).partitions.map((p: { partition: string }) => p.partition)).toEqual(["dt=a"]);
      expect((await partitionRows(table, "dt=a")).map((r) => r.id)).toEqual([1]);
    }
    expectError(await api("POST", path("manual", "/rows?dynamicPartitions=yes"), [{ dt: "a", id: 1, user: "x" }]), 400, "bad_request", /dynamicPartitions/);
  });

  it("create a partition once when concurrent writers all need it", async () => {
    await createTable("parts", "race", eventsByDay);
    const writers = Array.from({ length: 12 }, (_, w) =>
      api("POST", path("race", "/rows?dynamicPartitions=true"), Array.from({ length: 5 }, (_, i) => ({ dt: "new", id: w * 5 + i, user: `u${w}` }))),
    );
    const answers = await Promise.all(writers);
    expect(answers.map((a) => a.status)).toEqual(new Array(12).fill(200));
    const { partitions } = await ok("GET", path("race", "/partitions"));
    expect(partitions.map((p: { partition: string }) => p.partition)).toEqual(["dt=new"]);
    expect((await partitionRows("race", "dt=new")).map((r) => r.id).sort((a, b) => a - b)).toEqual(Array.from({ length: 60 }, (_, i) => i));
    // Creation by hand racing too: one 201 at most, the rest 200, one partition.
    const puts = await Promise.all(Array.from({ length: 8 }, () => api("PUT", path("race", "/partitions/dt=other"))));
    expect(puts.filter((p) => p.status === 201).length).toBe(1);
    expect(new Set(puts.map((p) => p.body.partitionId)).size).toBe(1);
  });

  it("keep the writer's idempotence per Tablet across partitions: a retry writes nothing twice", async () => {
    await createTable("parts", "retried", usersByRegionAndDay);
    const rows = Array.from({ length: 30 }, (_, id) => ({ region: id % 2 ? "eu" : "us", dt: `d${id % 3}`, id, name: `n${id}` }));
    const writer = { "Floe-Writer-Id": "w1", "Floe-Writer-Seq": "7" };
    const first = await ok("POST", path("retried", "/rows?dynamicPartitions=true"), rows, writer);
    expect(new Set(first.buckets.map((b: { partition: string }) => b.partition)).size).toBe(6);
    const retry = await ok("POST", path("retried", "/rows?dynamicPartitions=true"), rows, writer);
    expect(retry.buckets).toEqual(first.buckets.map((b: object) => ({ ...b, duplicate: true })));
    expectError(await api("POST", path("retried", "/rows"), rows, { ...writer, "Floe-Writer-Seq": "6" }), 409, "conflict", /of partition region=/);
    const state = (await ok("GET", path("retried", "/scan?source=hot"))).rows;
    expect(state.length).toBe(30);
    // A retry after an attempt that committed in one partition only (the other partitions' Tablets never got it, as after a
    // crash): each Tablet's state is what the same sequence sent to that partition alone leaves, so send that first.
    const more = rows.map((r) => ({ ...r, name: `m${r.id}` }));
    const seq8 = { ...writer, "Floe-Writer-Seq": "8" };
    const partial = await ok("POST", path("retried", "/rows"), more.filter((r) => r.region === "eu" && r.dt === "d0"), seq8);
    const retried = await ok("POST", path("retried", "/rows"), more, seq8);
    const duplicated = retried.buckets.filter((b: { duplicate?: boolean }) => b.duplicate);
    expect(duplicated.map(({ duplicate, ...b }: { duplicate: boolean }) => b)).toEqual(partial.buckets);
    expect(retried.buckets.length).toBeGreaterThan(duplicated.length);
    const after = (await ok("GET", path("retried", "/scan?source=hot"))).rows;
    expect(after.map((r: { name: string }) => r.name).sort()).toEqual(more.map((r) => r.name).sort());
    const changelog = await ok("GET", path("retried", "/log?partition=region=eu/dt=d0&bucket=" + partial.buckets[0].bucket));
    // One +I per key, then one -U/+U pair per key (the partial write's count): the retry wrote nothing twice.
    const keys = partial.buckets[0].count / 2;
    expect(changelog.rows.map((r: { _change: string }) => r._change).sort()).toEqual([...Array(keys).fill("+I"), ...Array(keys).fill("+U"), ...Array(keys).fill("-U")].sort());
  });

  it("reach a partition created again behind this isolate's back, writing every other part once", async () => {
    await createTable("parts", "stale", eventsByDay);
    await ok("POST", path("stale", "/rows?dynamicPartitions=true"), [{ dt: "a", id: 1, user: "x" }, { dt: "b", id: 2, user: "y" }]);
    const { tableId } = await ok("GET", path("stale"));
    // As another isolate would: drop dt=a (its Tablets too) and create it again; this isolate still caches the old id.
    const old = await env.CATALOG.prepare("DELETE FROM partitions WHERE table_id = ? AND spec = 'dt=a' RETURNING partition_id AS id").bind(tableId).first<{ id: number }>();
    for (const bucket of [0, 1]) await tabletOf(tableId, bucket, old!.id).drop("partition dt=a of parts.stale");
    await env.CATALOG.prepare("INSERT INTO partitions (table_id, spec, created_at_ms) VALUES (?, 'dt=a', ?)").bind(tableId, Date.now()).run();
    // dt=b commits from the cache, dt=a's stale Tablets refuse, and only dt=a's part is sent again, to the new partition.
    const answer = await ok("POST", path("stale", "/rows"), [{ dt: "a", id: 3, user: "x" }, { dt: "b", id: 4, user: "y" }]);
    expect(answer.buckets.map((b: { partition: string; count: number }) => [b.partition, b.count])).toEqual([["dt=a", 1], ["dt=b", 1]]);
    expect((await partitionRows("stale", "dt=a")).map((r) => r.id)).toEqual([3]);
    expect((await partitionRows("stale", "dt=b")).map((r) => r.id)).toEqual([2, 4]);
    // Reads find the new partition too.
    const again = await env.CATALOG.prepare("DELETE FROM partitions WHERE table_id = ? AND spec = 'dt=a' RETURNING partition_id AS id").bind(tableId).first<{ id: number }>();
    for (const bucket of [0, 1]) await tabletOf(tableId, bucket, again!.id).drop("partition dt=a of parts.stale");
    await env.CATALOG.prepare("INSERT INTO partitions (table_id, spec, created_at_ms) VALUES (?, 'dt=a', ?)").bind(tableId, Date.now()).run();
    expect(await partitionRows("stale", "dt=a")).toEqual([]);
  });

  it("drop a partition under data: its rows are gone, the other partitions keep theirs", async () => {
    await createTable("parts", "dropped", eventsByDay);
    await ok("POST", path("dropped", "/rows?dynamicPartitions=true"), Array.from({ length: 40 }, (_, id) => ({ dt: `d${id % 2}`, id, user: `u${id}` })));
    const { tableId } = await ok("GET", path("dropped"));
    const { partitions } = await ok("GET", path("dropped", "/partitions"));
    await ok("DELETE", path("dropped", "/partitions/dt=d0"));
    expectError(await api("GET", path("dropped", "/log?partition=dt=d0&bucket=0")), 404, "not_found", /partition dt=d0 of parts.dropped does not exist/);
    expectError(await api("POST", path("dropped", "/rows"), [{ dt: "d0", id: 1, user: "x" }]), 404, "not_found");
    for (let bucket = 0; bucket < 2; bucket++) expect(await tabletOf(tableId, bucket, partitions[0].partitionId).status()).toEqual({ kind: "dropped" });
    expect((await partitionRows("dropped", "dt=d1")).length).toBe(20);
    expect((await ok("GET", path("dropped", "/scan"))).rows.length).toBe(20);
  });

  it("dropping the table drops every partition's Tablets", async () => {
    await createTable("parts", "whole", eventsByDay);
    await ok("POST", path("whole", "/rows?dynamicPartitions=true"), [{ dt: "a", id: 1, user: "x" }, { dt: "b", id: 2, user: "y" }]);
    const { tableId } = await ok("GET", path("whole"));
    const ids = (await ok("GET", path("whole", "/partitions"))).partitions.map((p: { partitionId: number }) => p.partitionId);
    await ok("DELETE", path("whole"));
    for (const id of ids) for (const bucket of [0, 1]) expect(await tabletOf(tableId, bucket, id).status()).toEqual({ kind: "dropped" });
    const rows = await env.CATALOG.prepare("SELECT COUNT(*) AS n FROM partitions WHERE table_id = ?").bind(tableId).first<{ n: number }>();
    expect(rows!.n).toBe(0);
    // Created again under the name, the table starts with no partitions.
    await ok("PUT", path("whole"), eventsByDay);
    expect((await ok("GET", path("whole"))).partitionCount).toBe(0);
  });
});
