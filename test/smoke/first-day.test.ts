/**
 * The README's first day, as a person with Node and npm would live it:
 * `npm start` (its banner, no migration tables), then the `floe` CLI as
 * built for Node: create from the README's definition, write its CSV with
 * a progress line, tail, send Arrow from the README's JS recipe (and the
 * pyarrow one where pyarrow is installed), look up, scan to NDJSON,
 * Parquet and Arrow; and the typed client against the same server,
 * including under the machine's Node 20 when it has one.
 */
import * as arrow from "apache-arrow";
import { execFileSync, spawn, spawnSync, type ChildProcess } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parquetReadObjects } from "hyparquet";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Floe, FloeError } from "../../src/client/index.ts";
import { cliPath, floe, recipe, recipeFile } from "./cli.ts";
import { freePort } from "./server.ts";

const state = mkdtempSync(join(tmpdir(), "floe-first-day-"));
const work = mkdtempSync(join(tmpdir(), "floe-first-day-files-"));
let server: ChildProcess | undefined;
let output = "";
let url = "";
const env = () => ({ FLOE_URL: url });
const lines = (text: string) => text.trim().split("\n").filter((l) => l !== "").map((l) => JSON.parse(l));

const hasPyarrow = spawnSync("python3", ["-c", "import pyarrow"], { stdio: "ignore" }).status === 0;
/** A Node 20 on the machine besides the pinned Node 22 the tests run on, if any. */
const node20 = ["/usr/bin/node", "/usr/local/bin/node"].find((path) => {
  const run = spawnSync(path, ["--version"], { encoding: "utf8" });
  return run.status === 0 && run.stdout.startsWith("v20.");
});

beforeAll(async () => {
  const port = await freePort();
  url = `http://127.0.0.1:${port}`;
  server = spawn(process.execPath, ["scripts/start.ts", "--ip", "127.0.0.1", "--port", String(port), "--persist-to", state], {
    env: { ...process.env, WRANGLER_SEND_METRICS: "false", NO_COLOR: "1" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  server.stdout!.on("data", (chunk) => (output += String(chunk)));
  server.stderr!.on("data", (chunk) => (output += String(chunk)));
  const deadline = Date.now() + 90_000;
  while (!output.includes(`is running on ${url}`)) {
    if (server.exitCode !== null || Date.now() > deadline) throw new Error(`npm start did not come up:\n${output}`);
    await new Promise((r) => setTimeout(r, 100));
  }
});

afterAll(async () => {
  if (server && server.exitCode === null) {
    const exited = new Promise((resolve) => server!.on("exit", resolve));
    server.kill("SIGTERM");
    await exited;
  }
  rmSync(state, { recursive: true, force: true });
  rmSync(work, { recursive: true, force: true });
});

describe("the README's first day", () => {
  it("starts with a short banner, not pages of migration tables", () => {
    expect(output).toMatch(/^floe: applied \d+ catalog migrations/m);
    expect(output).toMatch(new RegExp(`^Floe \\S+ is running on ${url}$`, "m"));
    expect(output).toMatch(/^ {2}access {3}open: no token needed/m);
    expect(output).toMatch(new RegExp(`^ {2}state {4}${state}`, "m"));
    expect(output).not.toContain("┌");
  });

  it("creates from the README's definition, writes its CSV with a progress line, and tails it", async () => {
    writeFileSync(join(work, "events.json"), recipe("events.json"));
    writeFileSync(join(work, "events.csv"), recipe("events.csv"));
    const created = await floe(["create", "shop.events", join(work, "events.json")], env());
    expect(created.stderr).toBe("created shop.events\n");
    expect(created.code).toBe(0);
    const again = await floe(["create", "shop.events", join(work, "events.json")], env());
    expect(again.stderr).toBe("exists, identical: shop.events\n");

    const written = await floe(["write", "shop.events", join(work, "events.csv"), "--batch-size", "2"], env());
    expect(written.code, written.stderr).toBe(0);
    expect(written.stderr).toMatch(/^shop\.events: 2 rows, [\d,]+ rows\/s$/m);
    expect(written.stderr).toMatch(/^wrote 4 rows to shop\.events in 2 requests, \d+\.\d s \([\d,]+ rows\/s\)$/m);

    const tailed = await floe(["tail", "shop.events"], env(), (run) => run.stdout.split("\n").length > 4);
    expect(tailed.code).toBe(0);
    const rows = lines(tailed.stdout);
    expect(rows.map((r) => r.id).sort()).toEqual([1, 2, 3, 4]);
    expect(rows.find((r) => r.id === 3)).toMatchObject({ user: "cid", amount: "0.01", tags: "vip,new", _change: "+I" });
    expect(rows.find((r) => r.id === 2)).toMatchObject({ ts: "2025-11-24T16:00:00.000Z", tags: null });
  });

  it("sends the Arrow file the README's JavaScript recipe writes", async () => {
    const dir = mkdtempSync(join(work, "js-"));
    execFileSync(process.execPath, [recipeFile("arrow-js", "mjs")], { cwd: dir });
    const written = await floe(["write", "shop.events", join(dir, "events.arrow")], env());
    expect(written.code, written.stderr).toBe(0);
    expect(written.stderr).toMatch(/^wrote 2 rows to shop\.events in 1 request/m);
    const hal = lines((await floe(["scan", "shop.events", "--filter", "user = 'hal'"], env())).stdout);
    expect(hal).toEqual([{ id: 30, user: "hal", amount: "7.00", ts: "2026-11-24T13:00:00.000Z", tags: null }]);
  });

  it.skipIf(!hasPyarrow)("sends the Arrow file the README's pyarrow recipe writes", async () => {
    const dir = mkdtempSync(join(work, "py-"));
    execFileSync("python3", [recipeFile("pyarrow", "py")], { cwd: dir });
    const written = await floe(["write", "shop.events", join(dir, "events.arrow")], env());
    expect(written.code, written.stderr).toBe(0);
    const gus = lines((await floe(["scan", "shop.events", "--filter", "user = 'gus'"], env())).stdout);
    expect(gus).toEqual([{ id: 20, user: "gus", amount: "12.50", ts: "2026-11-24T12:00:00.000Z", tags: null }]);
  });

  it("looks up keys and prefixes, and scans to NDJSON, Parquet and Arrow files", async () => {
    const users = { columns: [{ name: "region", type: "STRING" }, { name: "id", type: "BIGINT" }, { name: "name", type: "STRING" }], primaryKey: ["region", "id"], bucket: { num: 4, key: ["region"] } };
    writeFileSync(join(work, "users.json"), JSON.stringify(users));
    writeFileSync(join(work, "users.ndjson"), '{"region":"eu","id":1,"name":"ann"}\n{"region":"eu","id":2,"name":"bob"}\n');
    expect((await floe(["create", "shop.users", join(work, "users.json")], env())).code).toBe(0);
    expect((await floe(["write", "shop.users", join(work, "users.ndjson")], env())).code).toBe(0);
    const found = await floe(["lookup", "shop.users", '{"region":"eu","id":1}', '{"region":"us","id":1}'], env());
    expect(lines(found.stdout)).toEqual([{ region: "eu", id: 1, name: "ann" }, null]);
    const prefix = await floe(["lookup", "shop.users", "--prefix", '{"region":"eu"}'], env());
    expect(lines(prefix.stdout).map((r) => r.name)).toEqual(["ann", "bob"]);

    const all = lines((await floe(["scan", "shop.events"], env())).stdout);
    const ann = lines((await floe(["scan", "shop.events", "--filter", "user = 'ann'", "--columns", "id,user"], env())).stdout);
    expect(ann.length).toBeGreaterThanOrEqual(2);
    expect(ann.every((r) => r.user === "ann" && Object.keys(r).join() === "id,user")).toBe(true);

    const parquetFile = join(work, "events.parquet");
    const toParquet = await floe(["scan", "shop.events", "--out", parquetFile], env());
    expect(toParquet.stderr).toMatch(new RegExp(`^wrote ${all.length} rows to ${parquetFile}`, "m"));
    const bytes = readFileSync(parquetFile);
    const fromParquet = (await parquetReadObjects({ file: bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) })) as Record<string, unknown>[];
    expect(fromParquet.map((r) => Number(r.id)).sort()).toEqual(all.map((r) => r.id).sort());

    const arrowFile = join(work, "events.arrow");
    expect((await floe(["scan", "shop.events", "--out", arrowFile, "--columns", "id"], env())).code).toBe(0);
    const fromArrow = arrow.tableFromIPC(readFileSync(arrowFile));
    expect([...fromArrow.getChild("id")!].map(Number).sort()).toEqual(all.map((r) => r.id).sort());
  });

  it("tiers a lake table and lists its snapshots; refusals exit 1 with the server's message", async () => {
    writeFileSync(join(work, "clicks.json"), JSON.stringify({ columns: [{ name: "id", type: "BIGINT" }], bucket: { num: 2 }, properties: { "table.datalake.enabled": "true" } }));
    const clicks = await floe(["create", "shop.clicks", join(work, "clicks.json")], env());
    expect(clicks.code, clicks.stderr).toBe(0);
    writeFileSync(join(work, "clicks.ndjson"), '{"id":1}\n{"id":2}\n');
    expect((await floe(["write", "shop.clicks", join(work, "clicks.ndjson")], env())).code).toBe(0);
    const tiered = await floe(["tier"], env());
    expect(JSON.parse(tiered.stdout).tables).toEqual(expect.arrayContaining([expect.objectContaining({ table: "shop.clicks", kind: "committed" })]));
    const snapshots = JSON.parse((await floe(["snapshots", "shop.clicks"], env())).stdout);
    expect(snapshots.snapshots[0].totalRecords).toBe(2);

    const missing = await floe(["describe", "shop.nope"], env());
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/^floe describe: 404 not_found: table 'shop\.nope' does not exist \(request [0-9a-f-]{36}\)$/m);
    const usage = await floe(["write", "shop.events"], env());
    expect(usage.code).toBe(2);
    expect(usage.stderr).toMatch(/usage: floe write/);
    for (const command of ["tables", "describe", "create", "write", "tail", "lookup", "scan", "partitions", "snapshots", "tokens", "tier"]) {
      const help = await floe([command, "--help"], env());
      expect(help.code, command).toBe(0);
      expect(help.stdout).toMatch(new RegExp(`^usage: floe ${command}`));
    }
  });

  it("manages a partitioned table's partitions, and writes, scans and tails it by partition", async () => {
    const definition = { columns: [{ name: "dt", type: "STRING" }, { name: "id", type: "BIGINT" }], partitionKeys: ["dt"], bucket: { num: 2 } };
    writeFileSync(join(work, "daily.json"), JSON.stringify(definition));
    expect((await floe(["create", "parts.daily", join(work, "daily.json")], env())).code).toBe(0);
    expect((await floe(["tables", "parts"], env())).stdout).toBe("parts.daily\tlog, partitioned by (dt), 2 buckets\n");
    const created = await floe(["partitions", "parts.daily", "create", "dt=a"], env());
    expect(created.stderr).toBe("created dt=a of parts.daily\n");
    expect((await floe(["partitions", "parts.daily", "create", "dt=a"], env())).stderr).toBe("exists: dt=a of parts.daily\n");
    writeFileSync(join(work, "daily.ndjson"), '{"dt":"a","id":1}\n{"dt":"a","id":2}\n{"dt":"b","id":3}\n');
    const refused = await floe(["write", "parts.daily", join(work, "daily.ndjson")], env());
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/404 not_found: .*dt=b/);
    expect((await floe(["write", "parts.daily", join(work, "daily.ndjson"), "--dynamic-partitions"], env())).code).toBe(0);
    const listed = lines((await floe(["partitions", "parts.daily"], env())).stdout);
    expect(listed.map((p) => [p.partition, p.buckets.reduce((n: number, b: { highWatermark: number }) => n + b.highWatermark, 0)])).toEqual([["dt=a", 2], ["dt=b", 1]]);
    expect(lines((await floe(["scan", "parts.daily", "--partition", "dt=a"], env())).stdout).map((r) => r.id).sort()).toEqual([1, 2]);
    const one = await floe(["tail", "parts.daily", "--partition", "dt=b"], env(), (run) => run.stdout.includes('"id":3'));
    expect(lines(one.stdout)).toEqual([expect.objectContaining({ partition: "dt=b", id: 3, dt: "b" })]);
    const every = await floe(["tail", "parts.daily"], env(), (run) => run.stdout.split("\n").length > 3);
    expect(lines(every.stdout).map((r) => `${r.partition}:${r.id}`).sort()).toEqual(["dt=a:1", "dt=a:2", "dt=b:3"]);
    expect((await floe(["partitions", "parts.daily", "drop", "dt=a"], env())).stderr).toBe("dropped dt=a of parts.daily\n");
    expect(lines((await floe(["partitions", "parts.daily", "list"], env())).stdout).map((p) => p.partition)).toEqual(["dt=b"]);
    const usage = await floe(["partitions", "parts.daily", "drop"], env());
    expect(usage.code).toBe(2);
    expect(usage.stderr).toMatch(/usage: floe partitions/);
  });

  it("serves the typed client: writes, lookups, logs, scans as rows and Arrow, subscriptions and typed errors", async () => {
    const client = new Floe({ url: `${url}/v1`, retryDelayMs: 10 });
    expect((await client.health()).access).toBe("open");
    expect((await client.tables("shop")).map((t) => t.name)).toEqual(expect.arrayContaining(["events", "users", "clicks"]));
    const users = client.table("shop", "users");
    const first = await users.write([{ region: "us", id: 5n, name: "cy" }]);
    expect(first.buckets[0]!.count).toBe(1);
    expect(await users.lookup([{ region: "us", id: 5 }])).toEqual([{ region: "us", id: 5, name: "cy" }]);
    await users.delete([{ region: "us", id: 5 }]);
    expect(await users.lookup([{ region: "us", id: 5 }])).toEqual([null]);

    const events = client.table("shop", "events");
    const described = await events.describe();
    const page = await events.log({ bucket: described.buckets.find((b) => b.highWatermark > 0)!.bucket, limit: 1 });
    expect(page.rows).toHaveLength(1);
    const scan = await events.scan({ columns: ["id"] });
    expect(Object.keys(scan.offsets)).toHaveLength(4);
    const ids = (await scan.toArray()).map((r) => r.id);
    let arrowRows = 0;
    for await (const batch of await events.scanBatches()) arrowRows += batch.numRows;
    expect(arrowRows).toBe(ids.length);

    const error = await client.table("shop", "nope").describe().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(FloeError);
    expect(error).toMatchObject({ code: "not_found", status: 404 });
    expect((error as FloeError).requestId).toMatch(/^[0-9a-f-]{36}$/);

    // A subscription from where the scan ended sees only what comes after it.
    const received: unknown[] = [];
    const subscription = events.subscribe({ from: { offsets: scan.offsets }, onBatch: (batch) => void received.push(...batch.rows!) });
    await events.write([{ id: 99, user: "zed", amount: "1", ts: 0 }]);
    const deadline = Date.now() + 15_000;
    while (received.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    subscription.close();
    expect(received).toEqual([expect.objectContaining({ id: 99, user: "zed" })]);

    const unreachable = new Floe({ url: `http://127.0.0.1:${await freePort()}`, retries: 1, retryDelayMs: 1 });
    await expect(unreachable.health()).rejects.toMatchObject({ code: "network", status: 0 });
  });

  it.skipIf(node20 === undefined)("runs the built CLI and client under Node 20", async () => {
    const listed = await floe(["tables", "shop"], env(), undefined, node20);
    expect(listed.stdout).toMatch(/^shop\.events\tlog, 4 buckets$/m);
    const tailed = await floe(["tail", "shop.users", "--from", "earliest"], env(), (run) => run.stdout.includes('"bob"'), node20);
    expect(tailed.stdout).toContain('"name":"bob"');
    const script = `import { Floe } from "floe/client"; const t = await new Floe({ url: process.env.FLOE_URL }).tables("shop"); console.log(t.length);`;
    const imported = spawnSync(node20!, ["--input-type=module", "-e", script], { env: { ...process.env, ...env() }, encoding: "utf8" });
    expect(imported.stderr).toBe("");
    expect(Number(imported.stdout)).toBeGreaterThanOrEqual(3);
    expect(cliPath.endsWith(".js")).toBe(true);
  });
});
