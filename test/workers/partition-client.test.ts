/**
 * The typed client's partitions: create (idempotent), drop, list page by
 * page and whole, writes that create partitions or are refused without
 * them, and reads of a partition's log and scans of one partition.
 */
import { exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { Floe } from "../../src/client/floe.ts";
import { FloeError } from "../../src/client/errors.ts";
import { base, createTable } from "./helpers.ts";
import { eventsByDay, usersByRegionAndDay } from "./partition-fixtures.ts";

const db = "cpart";
const client = new Floe({ url: base, fetch: ((input: RequestInfo | URL, init?: RequestInit) => exports.default.fetch(input, init)) as typeof fetch });

const refusal = (promise: Promise<unknown>) => promise.then(() => undefined, (error: unknown) => error as FloeError);

describe("the client's partitions", () => {
  it("creates, lists page by page and whole, and drops partitions, a multi-key spec too", async () => {
    // 16 buckets: two partitions' offsets fit one answer of the list (32 buckets).
    await createTable(db, "managed", { ...usersByRegionAndDay, bucket: { num: 16 } });
    const users = client.table(db, "managed");
    const specs = ["region=eu/dt=1", "region=eu/dt=2", "region=us/dt=1", "region=us/dt=2", "region=zz/dt=9"];
    for (const spec of specs) expect(await users.createPartition(spec)).toMatchObject({ created: true, partition: spec });
    // Any order of the pairs names the same partition, which now exists.
    expect(await users.createPartition("dt=1/region=eu")).toMatchObject({ created: false, partition: "region=eu/dt=1", values: { region: "eu", dt: "1" } });
    const first = await users.partitions();
    expect(first.partitions.map((p) => p.partition)).toEqual(specs.slice(0, 2));
    expect(first.next).not.toBeNull();
    const second = await users.partitions({ cursor: first.next! });
    expect(second.partitions.map((p) => p.partition)).toEqual(specs.slice(2, 4));
    const all = [];
    for await (const partition of users.allPartitions()) all.push(partition);
    expect(all.map((p) => p.partition)).toEqual(specs);
    expect(all.every((p) => p.buckets.map((b) => b.bucket).join() === Array.from({ length: 16 }, (_, i) => i).join())).toBe(true);
    expect(await users.dropPartition("region=us/dt=1")).toMatchObject({ partition: "region=us/dt=1", dropped: true });
    const missing = await refusal(users.dropPartition("region=us/dt=1"));
    expect(missing).toBeInstanceOf(FloeError);
    expect(missing!.status).toBe(404);
    const described = await users.describe();
    expect(described.partitionCount).toBe(4);
    expect(described.partitions!.map((p) => p.partition)).toEqual(specs.filter((s) => s !== "region=us/dt=1"));
  });

  it("lists a partition with more buckets than one answer shows once, with all of them", async () => {
    await createTable(db, "wide", { ...eventsByDay, bucket: { num: 40, key: ["user"] } });
    const events = client.table(db, "wide");
    await events.createPartition("dt=a");
    await events.createPartition("dt=b");
    const first = await events.partitions();
    expect(first.partitions.map((p) => [p.partition, p.buckets.length])).toEqual([["dt=a", 32]]);
    const all = [];
    for await (const partition of events.allPartitions()) all.push(partition);
    expect(all.map((p) => [p.partition, p.buckets.map((b) => b.bucket).join()])).toEqual(
      ["dt=a", "dt=b"].map((spec) => [spec, Array.from({ length: 40 }, (_, i) => i).join()]),
    );
  });

  it("writes with dynamicPartitions, is refused without, and reads a partition's log and scans one partition", async () => {
    await createTable(db, "reads", eventsByDay);
    const events = client.table(db, "reads");
    const rows = (dt: string, from: number, count: number) => Array.from({ length: count }, (_, i) => ({ dt, id: from + i, user: `u${i % 3}` }));
    const refused = await refusal(events.write(rows("a", 0, 3)));
    expect(refused!.status).toBe(404);
    const written = await events.write([...rows("a", 0, 6), ...rows("b", 100, 4)], { dynamicPartitions: true });
    expect(new Set(written.buckets.map((b) => b.partition))).toEqual(new Set(["dt=a", "dt=b"]));
    const logged = [];
    for (const bucket of [0, 1]) {
      const page = await events.log({ partition: "dt=a", bucket });
      expect(page.partition).toBe("dt=a");
      logged.push(...page.rows);
      const read = [];
      for await (const row of events.readLog({ partition: "dt=a", bucket, pageRows: 1 })) read.push(row);
      expect(read).toEqual(page.rows);
      expect((await events.logArrow({ partition: "dt=a", bucket })).table.numRows).toBe(page.rows.length);
    }
    expect(logged.map((r) => r.id).sort((x, y) => Number(x) - Number(y))).toEqual([0, 1, 2, 3, 4, 5]);
    expect((await refusal(events.log({ bucket: 0 })))!.status).toBe(400);
    const scan = await events.scan({ partition: "dt=b", source: "hot" });
    expect((await scan.toArray()).map((r) => r.id).sort()).toEqual([100, 101, 102, 103]);
    expect(Object.keys(scan.offsets)).toEqual(["dt=b"]);
    let batched = 0;
    for await (const batch of await events.scanBatches({ partition: "dt=a", source: "hot" })) batched += batch.numRows;
    expect(batched).toBe(6);
    const everything = await events.scan({ source: "hot" });
    expect((await everything.toArray()).length).toBe(10);
    expect(Object.keys(everything.offsets).sort()).toEqual(["dt=a", "dt=b"]);
  });
});
