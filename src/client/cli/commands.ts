/**
 * The CLI's commands, each a thin layer over the typed client
 * (docs/cli.md). Data goes to stdout (JSON lines, or JSON for one answer),
 * progress and summaries to stderr, so output pipes cleanly.
 */
import { spawn } from "node:child_process";
import { readFile } from "node:fs/promises";
import { Floe } from "../floe.ts";
import type { From } from "../../protocol/subscription.ts";
import type { TableDefinition } from "../types.ts";
import { formatOf, readBatches } from "./input.ts";
import { outputFormatOf, writeArrowFile, writeParquetFile } from "./output.ts";
import { UsageError, jsonObject, positiveInteger, tableName } from "./usage.ts";

export interface Context {
  url: string;
  token: string | undefined;
  args: string[];
  options: Record<string, string | boolean | undefined>;
}

export interface Command {
  summary: string;
  usage: string;
  details?: string;
  options?: Record<string, { type: "string" | "boolean"; short?: string; value?: string; help: string }>;
  /** Answers the exit code (0 when it answers nothing). */
  run(context: Context): Promise<number | void>;
}

const client = ({ url, token }: Context) => new Floe({ url, token });
const printJson = (value: unknown) => console.log(JSON.stringify(value, null, 2));
const text = (context: Context, name: string) => context.options[name] as string | undefined;
const list = (value: string | undefined) => value?.split(",").map((s) => s.trim()).filter((s) => s !== "");
const count = (n: number) => n.toLocaleString("en-US");

function table(context: Context) {
  const { database, table } = tableName(context.args[0]);
  return client(context).table(database, table);
}

function expectArgs(context: Context, min: number, max: number): void {
  if (context.args.length < min) throw new UsageError(`expected ${min === max ? min : `at least ${min}`} argument${min === 1 ? "" : "s"}`);
  if (context.args.length > max) throw new UsageError(`unexpected argument '${context.args[max]}'`);
}

/** A partitioned table's partition, for the commands that read one. */
const partitionOption = { type: "string", value: "SPEC", help: "only this partition of a partitioned table, e.g. dt=20261130" } as const;

const scanOptions = {
  partition: partitionOption,
  columns: { type: "string", value: "a,b", help: "only these columns, in this order" },
  filter: { type: "string", value: "EXPR", help: "predicates joined with AND, e.g. \"user = 'ann' AND id >= 2\"" },
  limit: { type: "string", value: "N", help: "stop after N rows" },
  source: { type: "string", value: "union|lake|hot", help: "the lake and the Tablets as one table (default), or either alone" },
  snapshot: { type: "string", value: "ID", help: "read this lake snapshot (time travel)" },
} as const;

export const commands: Record<string, Command> = {
  tables: {
    summary: "list databases, or the tables of one",
    usage: "[<database>]",
    async run(context) {
      expectArgs(context, 0, 1);
      const floe = client(context);
      const [database] = context.args;
      if (database === undefined) {
        for (const { name } of await floe.databases()) console.log(name);
        return;
      }
      for (const t of await floe.tables(database)) {
        const kind = t.primaryKey.length > 0 ? `primary key (${t.primaryKey.join(", ")})` : "log";
        const partitioned = t.partitionKeys.length > 0 ? `, partitioned by (${t.partitionKeys.join(", ")})` : "";
        const lake = t.properties["table.datalake.enabled"] === "true" ? ", lake" : "";
        console.log(`${t.database}.${t.name}\t${kind}${partitioned}, ${t.bucket.num} bucket${t.bucket.num === 1 ? "" : "s"}${lake}`);
      }
    },
  },

  describe: {
    summary: "a table's columns, keys, properties, bucket offsets and lake snapshot, as JSON",
    usage: "<database>.<table>",
    async run(context) {
      expectArgs(context, 1, 1);
      printJson(await table(context).describe());
    },
  },

  create: {
    summary: "create a table (and its database) from a JSON definition file",
    usage: "<database>.<table> <definition.json>",
    details: 'The file holds {"columns": [...], "primaryKey": [...], "bucket": {...}, "properties": {...}} (docs/http-api.md#creating-a-table).',
    async run(context) {
      expectArgs(context, 2, 2);
      const { database } = tableName(context.args[0]);
      const definition = jsonObject(`the file ${context.args[1]}`, await readFile(context.args[1]!, "utf8")) as unknown as TableDefinition;
      const floe = client(context);
      // Creating a database needs admin; a writer of the table may still create the table in an existing database.
      await floe.createDatabase(database).catch((error: { status?: number }) => {
        if (error.status !== 403) throw error;
      });
      const created = await table(context).create(definition);
      console.error(`${created.created ? "created" : "exists, identical:"} ${created.database}.${created.name}`);
    },
  },

  write: {
    summary: "write rows from an NDJSON, CSV (with a header) or Arrow file, in batches",
    usage: "<database>.<table> <file|-> [--format ndjson|csv|arrow] [--batch-size N]",
    details: [
      "The format comes from the file's name (.ndjson/.jsonl, .csv, .arrow) or --format (needed for stdin, `-`).",
      "CSV values are typed by the table's columns; an empty field is null. Arrow is sent as it is, in slices.",
      "Batches go through one idempotent writer: a batch that got no answer is retried as the same request.",
    ].join("\n"),
    options: {
      format: { type: "string", value: "ndjson|csv|arrow", help: "the input format" },
      "batch-size": { type: "string", value: "N", help: "rows per request (default 10000; at most 100000)" },
      op: { type: "string", value: "delete", help: "delete the keys the rows carry (primary-key tables)" },
      "dynamic-partitions": { type: "boolean", help: "create the partitions the rows name that do not exist (partitioned tables)" },
      columns: { type: "string", value: "a,b", help: "a partial update of these columns (primary-key tables)" },
      quiet: { type: "boolean", short: "q", help: "no progress line" },
    },
    async run(context) {
      expectArgs(context, 2, 2);
      const target = table(context);
      const path = context.args[1]!;
      const format = formatOf(path, text(context, "format"));
      if (path === "-" && text(context, "format") === undefined) throw new UsageError("reading stdin (-) needs --format");
      const batchRows = positiveInteger("batch-size", text(context, "batch-size"), 10_000);
      const op = text(context, "op");
      if (op !== undefined && op !== "delete") throw new UsageError(`--op can only be delete, got '${op}'`);
      const described = await target.describe();
      const writer = target.writer();
      const progress = new Progress(`${target.database}.${target.name}`, context.options.quiet === true);
      for await (const batch of readBatches(path, format, described, batchRows)) {
        await writer.write(batch.body, {
          op: op === "delete" ? "delete" : undefined,
          columns: list(text(context, "columns")),
          dynamicPartitions: context.options["dynamic-partitions"] === true,
        });
        progress.add(batch.rows);
      }
      progress.finish();
    },
  },

  tail: {
    summary: "follow a table: every row as a JSON line, the backlog first, until interrupted",
    usage: "<database>.<table> [--from earliest|latest|TIMESTAMP|B:O,B:O] [--partition SPEC]",
    details: [
      "--from: earliest (default), latest, a time (ISO-8601 or epoch ms: each bucket from its first batch committed then),",
      "or offsets per bucket (0:120,3:7). Each line carries the row's bucket, _offset, _timestamp and _change.",
      "A partitioned table is followed in every partition, also those created meanwhile, or in the one --partition names",
      "(offsets in --from are then that partition's); each line carries its partition, and a dropped partition is told on stderr.",
      "While the server cannot be reached it says so on stderr and retries; a refusal ends it with exit code 1.",
    ].join("\n"),
    options: {
      from: { type: "string", value: "POSITION", help: "where to start (default earliest)" },
      partition: partitionOption,
      buckets: { type: "string", value: "0,1", help: "only these buckets" },
      columns: { type: "string", value: "a,b", help: "only these columns" },
    },
    async run(context) {
      expectArgs(context, 1, 1);
      if (typeof WebSocket === "undefined") return withWebSocket();
      const from = startOf(text(context, "from") ?? "earliest");
      const buckets = list(text(context, "buckets"))?.map(Number);
      let code = 0;
      const subscription = table(context).subscribe({
        from,
        partition: text(context, "partition"),
        buckets,
        columns: list(text(context, "columns")),
        onBatch(batch) {
          const where = { ...(batch.partition === undefined ? {} : { partition: batch.partition }), bucket: batch.bucket, ...(batch.snapshot ? { snapshot: true } : {}) };
          let out = "";
          for (const row of batch.rows ?? []) out += `${JSON.stringify({ ...where, ...row })}\n`;
          process.stdout.write(out);
        },
        onPartitionDropped(dropped) {
          console.error(`floe tail: partition ${dropped.partition} was dropped; following the others`);
        },
        onError(error) {
          console.error(`floe tail: ${error.status} ${error.code}: ${error.message}`);
          code = 1;
        },
        onRetry(retry) {
          console.error(`${retry.reason}; retrying in ${(retry.delayMs / 1000).toFixed(1)} s (attempt ${retry.attempt})`);
        },
      });
      process.once("SIGINT", () => subscription.close());
      process.once("SIGTERM", () => subscription.close());
      await subscription.closed;
      return code;
    },
  },

  lookup: {
    summary: "the current row of primary keys, or the rows under a bucket-key prefix, as JSON lines",
    usage: "<database>.<table> <key JSON>... | --prefix <JSON> [--limit N]",
    details: `Example: floe lookup shop.users '{"region":"eu","id":1}' prints the row, or null when the key has none.`,
    options: {
      prefix: { type: "string", value: "JSON", help: "the bucket-key columns of a prefix lookup" },
      limit: { type: "string", value: "N", help: "rows of a prefix lookup (default 1000, at most 10000)" },
    },
    async run(context) {
      const prefix = text(context, "prefix");
      expectArgs(context, prefix === undefined ? 2 : 1, prefix === undefined ? Infinity : 1);
      const target = table(context);
      if (prefix !== undefined) {
        const limit = text(context, "limit") === undefined ? undefined : positiveInteger("limit", text(context, "limit"), 1);
        const answer = await target.lookupPrefix(jsonObject("--prefix", prefix), { limit });
        for (const row of answer.rows) console.log(JSON.stringify(row));
        if (answer.truncated) console.error(`floe lookup: more rows exist under this prefix than the ${answer.rows.length} shown (--limit)`);
        return;
      }
      const keys = context.args.slice(1).map((key, i) => jsonObject(`key ${i + 1}`, key));
      for (const row of await target.lookup(keys)) console.log(JSON.stringify(row));
    },
  },

  scan: {
    summary: "every row of a table (across the lake and the Tablets) to stdout as NDJSON, or to a file",
    usage: "<database>.<table> [--out FILE.parquet|FILE.arrow|FILE.ndjson] [--filter EXPR] [--columns a,b]",
    details: "A Parquet file is written by parquet-wasm (snappy); an Arrow file is the IPC file format.",
    options: { ...scanOptions, out: { type: "string", value: "FILE", help: "write to this file (.parquet, .arrow or .ndjson)" } },
    async run(context) {
      expectArgs(context, 1, 1);
      const target = table(context);
      const limit = text(context, "limit");
      const snapshot = text(context, "snapshot");
      const source = text(context, "source");
      if (source !== undefined && source !== "union" && source !== "lake" && source !== "hot") throw new UsageError(`--source must be union, lake or hot, got '${source}'`);
      const options = {
        columns: list(text(context, "columns")),
        filter: text(context, "filter"),
        limit: limit === undefined ? undefined : positiveInteger("limit", limit, 1),
        source: source as "union" | "lake" | "hot" | undefined,
        snapshot: snapshot === undefined ? undefined : Number(snapshot),
        partition: text(context, "partition"),
      };
      const out = text(context, "out");
      const format = out === undefined ? "ndjson" : outputFormatOf(out);
      const started = performance.now();
      let rows = 0;
      if (format === "ndjson") {
        const scan = await target.scan(options);
        const lines: string[] = [];
        const { createWriteStream } = await import("node:fs");
        const sink = out === undefined ? process.stdout : createWriteStream(out);
        for await (const row of scan) {
          rows++;
          lines.push(JSON.stringify(row));
          if (lines.length >= 1000) await flush(sink, lines);
        }
        await flush(sink, lines);
        if (sink !== process.stdout) await new Promise<void>((resolve) => sink.end(() => resolve()));
      } else {
        const scan = await target.scanBatches(options);
        rows = format === "parquet" ? await writeParquetFile(out!, scan) : await writeArrowFile(out!, scan);
      }
      if (out !== undefined) console.error(`wrote ${count(rows)} rows to ${out} in ${((performance.now() - started) / 1000).toFixed(1)} s`);
    },
  },

  partitions: {
    summary: "list a partitioned table's partitions (a JSON line each, with its buckets' offsets), or create or drop one",
    usage: "<database>.<table> [list | create <spec> | drop <spec>]",
    details: [
      "A spec names a value for each partition key: dt=20261130, or region=eu/dt=20261130 (docs/partitions.md).",
      "Dropping a partition deletes its rows from the hot tier; its lake rows stay.",
    ].join("\n"),
    async run(context) {
      const [, action = "list", spec, ...rest] = context.args;
      const target = table(context);
      if (action === "list" && spec === undefined) {
        for await (const partition of target.allPartitions()) console.log(JSON.stringify(partition));
      } else if (action === "create" && spec !== undefined && rest.length === 0) {
        const created = await target.createPartition(spec);
        console.error(`${created.created ? "created" : "exists:"} ${created.partition} of ${target.database}.${target.name}`);
      } else if (action === "drop" && spec !== undefined && rest.length === 0) {
        const dropped = await target.dropPartition(spec);
        console.error(`dropped ${dropped.partition} of ${target.database}.${target.name}`);
      } else {
        throw new UsageError("expected list, create <spec> or drop <spec>");
      }
    },
  },

  snapshots: {
    summary: "a table's lake snapshots, each with its buckets' end offsets and file and record counts, as JSON",
    usage: "<database>.<table>",
    async run(context) {
      expectArgs(context, 1, 1);
      printJson(await table(context).snapshots());
    },
  },

  tokens: {
    summary: "create, list or revoke scoped tokens (admin; needs FLOE_ROOT_TOKEN on the server)",
    usage: "create <name> <scope>... | list | revoke <id>",
    details: "Scopes: admin, read:<db>, write:<db>, read:<db>.<table>, write:<db>.<table>. A new token's secret is printed once.",
    async run(context) {
      const [action, ...rest] = context.args;
      const floe = client(context);
      if (action === "create" && rest.length >= 2) printJson(await floe.tokens.create({ name: rest[0]!, scopes: rest.slice(1) }));
      else if (action === "list" && rest.length === 0) printJson(await floe.tokens.list());
      else if (action === "revoke" && rest.length === 1) printJson(await floe.tokens.revoke(rest[0]!));
      else throw new UsageError("expected create <name> <scope>..., list, or revoke <id>");
    },
  },

  tier: {
    summary: "run one tiering pass now over every lake-enabled table (admin), as JSON",
    usage: "",
    async run(context) {
      expectArgs(context, 0, 0);
      printJson(await client(context).tier());
    },
  },
};

function flush(sink: NodeJS.WritableStream, lines: string[]): Promise<void> {
  if (lines.length === 0) return Promise.resolve();
  const chunk = `${lines.join("\n")}\n`;
  lines.length = 0;
  return new Promise((resolve, reject) => sink.write(chunk, (error) => (error ? reject(error) : resolve())));
}

/** `--from` as a subscription start: earliest, latest, offsets (0:120,3:7), or a time. */
export function startOf(value: string): From {
  if (value === "earliest" || value === "latest") return value;
  if (/^\d+:\d+(,\d+:\d+)*$/.test(value)) {
    return { offsets: Object.fromEntries(value.split(",").map((pair) => pair.split(":").map(Number) as [number, number])) };
  }
  if (/^\d+$/.test(value)) return { timestamp: Number(value) };
  if (!Number.isNaN(Date.parse(value))) return { timestamp: value };
  throw new UsageError(`--from must be earliest, latest, a time (ISO-8601 or epoch ms) or offsets like 0:120,3:7, got '${value}'`);
}

/** Node 20 has a WebSocket only behind a flag: run this command again with it (Node 22 has it by default). */
async function withWebSocket(): Promise<number> {
  if (process.env.FLOE_CLI_WEBSOCKET_FLAG === "1") throw new Error(`this Node (${process.version}) has no WebSocket: use Node 22, or Node 20.10 or later`);
  const child = spawn(process.execPath, ["--experimental-websocket", "--no-warnings", ...process.execArgv, process.argv[1]!, ...process.argv.slice(2)], {
    stdio: "inherit",
    env: { ...process.env, FLOE_CLI_WEBSOCKET_FLAG: "1" },
  });
  for (const signal of ["SIGINT", "SIGTERM"] as const) process.on(signal, () => child.kill(signal));
  return new Promise((resolve) => child.on("exit", (code) => resolve(code ?? 1)));
}

/** The progress line of `floe write` (rows so far and rows/s, on stderr) and its final summary. */
class Progress {
  private rows = 0;
  private requests = 0;
  private readonly started = performance.now();
  private lastShownMs = -Infinity;
  private readonly live = process.stderr.isTTY === true;
  private readonly target: string;
  private readonly quiet: boolean;

  constructor(target: string, quiet: boolean) {
    this.target = target;
    this.quiet = quiet;
  }

  add(rows: number): void {
    this.rows += rows;
    this.requests++;
    const now = performance.now();
    // On a terminal the line is redrawn at most 10 times a second; into a file or pipe, a line at most every second.
    if (this.quiet || now - this.lastShownMs < (this.live ? 100 : 1000)) return;
    this.lastShownMs = now;
    const line = `${this.target}: ${count(this.rows)} rows, ${count(this.rate())} rows/s`;
    process.stderr.write(this.live ? `\r\x1b[K${line}` : `${line}\n`);
  }

  finish(): void {
    if (this.live && !this.quiet && this.requests > 0) process.stderr.write("\r\x1b[K");
    const seconds = (performance.now() - this.started) / 1000;
    console.error(`wrote ${count(this.rows)} rows to ${this.target} in ${count(this.requests)} request${this.requests === 1 ? "" : "s"}, ${seconds.toFixed(1)} s (${count(this.rate())} rows/s)`);
  }

  private rate(): number {
    return Math.round(this.rows / Math.max(0.001, (performance.now() - this.started) / 1000));
  }
}
