/**
 * A randomised model test of primary-key tables: thousands of mixed upserts,
 * partial updates and deletes over a small key space in several buckets,
 * checked after every batch against an in-memory model, through lookups,
 * the hot scan, and a replay of each bucket's changelog.
 */
import { describe, expect, it } from "vitest";
import { createTable, ok } from "./helpers.ts";
import { random } from "../fixtures.ts";

type Row = { region: string; id: number; name: string; score: number | null; note: string | null };
const keyOf = (r: { region: string; id: number }) => `${r.region}/${r.id}`;
const buckets = 3;

describe("primary-key model", () => {
  it("matches the model after every batch of random upserts, partial updates and deletes", async () => {
    const next = random(7);
    const pick = <T>(items: readonly T[]): T => items[Math.floor(next() * items.length)]!;
    await createTable("model", "t", {
      columns: [
        { name: "region", type: "STRING" },
        { name: "id", type: "INT" },
        { name: "name", type: "STRING", nullable: false },
        { name: "score", type: "BIGINT" },
        { name: "note", type: "STRING" },
      ],
      primaryKey: ["region", "id"],
      bucket: { num: buckets, key: ["region"] },
    });
    const regions = ["eu", "us", "ap", "sa"];
    const keys = regions.flatMap((region) => Array.from({ length: 12 }, (_, id) => ({ region, id })));
    const model = new Map<string, Row>();
    const replayed = Array.from({ length: buckets }, () => new Map<string, Row>());
    const replayOffsets = new Array<number>(buckets).fill(0);
    let operations = 0;
    while (operations < 2500) {
      const kind = pick(["upsert", "upsert", "partial", "delete"] as const);
      const size = 1 + Math.floor(next() ** 2 * 40);
      const batch = Array.from({ length: size }, () => pick(keys));
      let query = "";
      let body: object[];
      if (kind === "delete") {
        query = "?op=delete";
        body = batch;
        for (const k of batch) model.delete(keyOf(k));
      } else if (kind === "partial") {
        const columns = ["name", ...(next() < 0.5 ? ["score"] : []), ...(next() < 0.5 ? ["note"] : [])];
        query = `?columns=${columns.join(",")}`;
        body = batch.map((k) => {
          const row: Record<string, unknown> = { ...k, name: `p${Math.floor(next() * 5)}` };
          if (columns.includes("score")) row.score = next() < 0.2 ? null : Math.floor(next() * 10);
          if (columns.includes("note")) row.note = next() < 0.3 ? null : pick(["x", "y", "z"]);
          const base = model.get(keyOf(k)) ?? { ...k, name: "", score: null, note: null };
          model.set(keyOf(k), { ...base, ...row } as Row);
          return row;
        });
      } else {
        body = batch.map((k) => {
          const row: Row = {
            ...k,
            name: `n${Math.floor(next() * 3)}`,
            score: next() < 0.2 ? null : Math.floor(next() * 4),
            note: next() < 0.5 ? null : pick(["a", "b"]),
          };
          model.set(keyOf(k), row);
          return row;
        });
      }
      await ok("POST", `/databases/model/tables/t/rows${query}`, body);
      operations += size;

      const found = await ok("POST", "/databases/model/tables/t/lookup", { keys });
      expect(found.rows).toEqual(keys.map((k) => model.get(keyOf(k)) ?? null));

      const scan = await ok("GET", "/databases/model/tables/t/scan?source=hot");
      const byKey = (a: Row, b: Row) => keyOf(a).localeCompare(keyOf(b));
      expect([...scan.rows].sort(byKey)).toEqual([...model.values()].sort(byKey));

      for (let bucket = 0; bucket < buckets; bucket++) {
        const page = await ok("GET", `/databases/model/tables/t/log?bucket=${bucket}&offset=${replayOffsets[bucket]}&limit=10000`);
        expect(page.nextOffset).toBe(page.highWatermark);
        expect(scan.offsets[String(bucket)]).toBe(page.highWatermark);
        const state = replayed[bucket]!;
        for (const { _offset, _timestamp, _change, ...row } of page.rows) {
          const key = keyOf(row);
          if (_change === "+I") expect(state.has(key)).toBe(false);
          if (_change === "-U" || _change === "-D") expect(state.get(key)).toEqual(row);
          if (_change === "+I" || _change === "+U") state.set(key, row);
          else state.delete(key);
        }
        replayOffsets[bucket] = page.nextOffset;
      }
      const replayedAll = replayed.flatMap((state) => [...state.values()]);
      expect(replayedAll.sort((a, b) => keyOf(a).localeCompare(keyOf(b)))).toEqual(
        [...model.values()].sort((a, b) => keyOf(a).localeCompare(keyOf(b))),
      );
    }
  });
});
