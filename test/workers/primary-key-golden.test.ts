/**
 * Primary-key tables give the same changelog, lookups and hot scan for the
 * same writes, whatever the Tablet's stored row form: a seeded workload over
 * every column type and merge engine, compared with a golden file recorded
 * from an earlier implementation (JSON text rows).
 */
import { describe, expect, it } from "vitest";
import { createTable, ok, readAllBuckets } from "./helpers.ts";
import { random } from "../fixtures.ts";

const buckets = 3;

function definition(properties: Record<string, string> = {}) {
  return {
    columns: [
      { name: "region", type: "STRING" },
      { name: "id", type: "INT" },
      { name: "flag", type: "BOOLEAN" },
      { name: "tiny", type: "TINYINT" },
      { name: "small", type: "SMALLINT" },
      { name: "big", type: "BIGINT" },
      { name: "ratio", type: "FLOAT" },
      { name: "score", type: "DOUBLE" },
      { name: "price", type: "DECIMAL(38,6)" },
      { name: "name", type: "STRING" },
      { name: "blob", type: "BYTES" },
      { name: "day", type: "DATE" },
      { name: "at", type: "TIME" },
      { name: "local", type: "TIMESTAMP(6)" },
      { name: "version", type: "BIGINT", nullable: false },
      { name: "ts", type: "TIMESTAMP_LTZ(3)" },
    ],
    primaryKey: ["region", "id"],
    bucket: { num: buckets, key: ["region"] },
    properties,
  };
}

const engines: Record<string, Record<string, string>> = {
  last_row: {},
  wal: { "table.changelog.image": "wal" },
  first_row: { "table.merge-engine": "first_row" },
  versioned: { "table.merge-engine": "versioned", "table.merge-engine.versioned.ver-column": "version" },
};

async function workload(table: string, seed: number, partialAndDelete: boolean) {
  const next = random(seed);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(next() * items.length)]!;
  const maybe = <T>(value: T) => (next() < 0.2 ? null : value);
  const keys = ["eu", "us", "ap"].flatMap((region) => Array.from({ length: 6 }, (_, id) => ({ region, id })));
  const row = (key: { region: string; id: number }) => ({
    ...key,
    flag: maybe(next() < 0.5),
    tiny: maybe(pick([-128, 0, 127])),
    small: maybe(pick([-32768, 7, 32767])),
    big: maybe(pick([0, 1, -1, "9223372036854775807", "-9223372036854775808", 9007199254740993 - 2])),
    ratio: maybe(pick([0.5, "NaN", "Infinity", 3.4e38])),
    score: maybe(pick([1.25, "-Infinity", "NaN", 1e-300])),
    price: maybe(pick(["0", "12.5", "-99999999999999999999999999999999.999999"])),
    name: maybe(pick(["ann", "", "ünï", "a\u0000b", "x".repeat(40)])),
    blob: maybe(pick(["", "AAEC", "/w=="])),
    day: maybe(pick(["1970-01-01", "2026-11-30", "0001-01-01"])),
    at: maybe(pick(["00:00:00", "23:59:59.999999"])),
    local: maybe(pick(["2026-11-30T10:00:00.123456", "1969-12-31T23:59:59.999999"])),
    version: Math.floor(next() * 5),
    ts: maybe(pick(["2026-11-30T10:00:00.123Z", 0])),
  });
  const lookups: unknown[] = [];
  for (let round = 0; round < 25; round++) {
    const kind = partialAndDelete ? pick(["upsert", "upsert", "partial", "delete"] as const) : "upsert";
    const batch = Array.from({ length: 1 + Math.floor(next() * 8) }, () => pick(keys));
    if (kind === "delete") await ok("POST", `/databases/golden/tables/${table}/rows?op=delete`, batch);
    else if (kind === "partial") {
      await ok("POST", `/databases/golden/tables/${table}/rows?columns=name,score,version`, batch.map((k) => {
        const { name, score, version } = row(k);
        return { ...k, name, score, version };
      }));
    } else await ok("POST", `/databases/golden/tables/${table}/rows`, batch.map(row));
    lookups.push((await ok("POST", `/databases/golden/tables/${table}/lookup`, { keys: keys.slice(0, 9) })).rows);
  }
  const changelog = (await readAllBuckets("golden", table, buckets)).map((rows) => rows.map(({ _timestamp, ...rest }) => rest));
  const scan = await ok("GET", `/databases/golden/tables/${table}/scan?source=hot`);
  const key = (r: { region: string; id: number }) => `${r.region}/${r.id}`;
  return { changelog, lookups, hot: [...scan.rows].sort((a, b) => key(a).localeCompare(key(b))), offsets: scan.offsets };
}

describe("primary-key tables against a golden record", () => {
  for (const [engine, properties] of Object.entries(engines)) {
    it(`gives the recorded changelog, lookups and hot scan (${engine})`, async () => {
      await createTable("golden", engine, definition(properties));
      const result = await workload(engine, 11, engine === "last_row" || engine === "wal");
      // One JSON value per line, so a difference shows as the lines that differ.
      const lines = [
        ...result.changelog.flatMap((rows, bucket) => rows.map((r) => `log ${bucket} ${JSON.stringify(r)}`)),
        ...result.lookups.map((rows) => `lookup ${JSON.stringify(rows)}`),
        ...result.hot.map((r) => `hot ${JSON.stringify(r)}`),
        `offsets ${JSON.stringify(result.offsets)}`,
      ];
      await expect(`${lines.join("\n")}\n`).toMatchFileSnapshot(`./golden/primary-key-${engine}.txt`);
    });
  }
});
