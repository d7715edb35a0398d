/**
 * Scan projection, filters, limits and formats: every filter operator gives
 * the rows a plain JavaScript filter gives, and statistics prune: data
 * files by their manifest bounds, row groups by their Parquet statistics.
 * Bad scan requests get clear errors.
 */
import { tableFromIPC } from "apache-arrow";
import { beforeAll, describe, expect, it } from "vitest";
import { api, createTable, expectError, ok } from "./helpers.ts";
import { rowGroupRowsMax } from "../../src/lake/parquet.ts";
import { filterLengthMax } from "../../src/read/filter.ts";

type Row = { id: number; city: string; score: number | null };

const rows: Row[] = [];
const cities = ["Zürich", "Aarau", "Basel", "Bern", "Chur"];

beforeAll(async () => {
  await createTable("f", "visits", {
    columns: [
      { name: "id", type: "INT", nullable: false },
      { name: "city", type: "STRING", nullable: false },
      { name: "score", type: "DOUBLE" },
    ],
    bucket: { num: 1 },
    properties: { "table.datalake.enabled": "true" },
  });
  // Three tiering rounds of disjoint id ranges make three data files; the last has two row groups (10,000 rows, then the rest).
  for (const [start, count] of [[0, 100], [100, 100], [200, rowGroupRowsMax + 2000]] as const) {
    const batch = Array.from({ length: count }, (_, i) => {
      const id = start + i;
      return { id, city: cities[id % cities.length]!, score: id % 7 === 0 ? null : id / 2 };
    });
    await ok("POST", "/databases/f/tables/visits/rows", batch);
    await ok("POST", "/tiering/run");
    rows.push(...batch);
  }
  const hot = Array.from({ length: 20 }, (_, i) => ({ id: 50_000 + i, city: "Genf", score: i }));
  await ok("POST", "/databases/f/tables/visits/rows", hot);
  rows.push(...hot);
});

const scan = (query: string) => ok("GET", `/databases/f/tables/visits/scan?${query}`);
const byId = (a: { id: number }, b: { id: number }) => a.id - b.id;

describe("scan filters", () => {
  const cases: [string, (r: Row) => boolean][] = [
    ["id = 150", (r) => r.id === 150],
    ["id != 3", (r) => r.id !== 3],
    ["id < 50", (r) => r.id < 50],
    ["id <= 50", (r) => r.id <= 50],
    ["id > 12150", (r) => r.id > 12150],
    ["id >= 50010", (r) => r.id >= 50010],
    ["id IN (1, 150, 50001)", (r) => [1, 150, 50001].includes(r.id)],
    ["score IS NULL", (r) => r.score === null],
    ["score IS NOT NULL AND score < 10", (r) => r.score !== null && r.score < 10],
    ["city = 'Zürich' AND id < 300", (r) => r.city === "Zürich" && r.id < 300],
    ["city > 'Bern'", (r) => r.city > "Bern"],
    ["city in ('Chur','Genf') and id >= 12195", (r) => ["Chur", "Genf"].includes(r.city) && r.id >= 12195],
  ];
  for (const [filter, predicate] of cases) {
    it(`filters ${filter}`, async () => {
      const answer = await scan(`filter=${encodeURIComponent(filter)}`);
      expect(answer.rows.sort(byId)).toEqual(rows.filter(predicate));
    });
  }

  it("prunes data files by their bounds and row groups by their statistics", async () => {
    const all = await scan("");
    expect(all.stats).toMatchObject({ filesRead: 3, filesSkipped: 0, rowGroupsRead: 4, rowGroupsSkipped: 0, hotRowsRead: 20 });
    const oneFile = await scan(`filter=${encodeURIComponent("id >= 100 AND id < 200")}`);
    expect(oneFile.rows).toHaveLength(100);
    // The Tablet filters its 20 hot rows itself: none of them crosses to the Worker.
    expect(oneFile.stats).toMatchObject({ filesRead: 1, filesSkipped: 2, rowGroupsRead: 1, rowGroupsSkipped: 0, hotRowsRead: 0 });
    const oneRowGroup = await scan(`filter=${encodeURIComponent("id > 11000")}`);
    expect(oneRowGroup.stats).toMatchObject({ filesRead: 1, filesSkipped: 2, rowGroupsRead: 1, rowGroupsSkipped: 1, hotRowsRead: 20 });
    expect(oneRowGroup.rows.sort(byId)).toEqual(rows.filter((r) => r.id > 11000));
    const none = await scan(`filter=${encodeURIComponent("id IN (99999)")}`);
    expect(none.rows).toEqual([]);
    expect(none.stats.filesRead).toBe(0);
  });

  it("projects, limits and answers in NDJSON and Arrow with the same rows", async () => {
    const projected = await scan("columns=score,id&filter=id%3C5");
    expect(projected.rows).toEqual(rows.filter((r) => r.id < 5).map((r) => ({ score: r.score, id: r.id })));
    expect(Object.keys(projected.rows[0])).toEqual(["score", "id"]);
    expect((await scan("limit=7")).rows).toHaveLength(7);
    expect((await scan("limit=1000000")).rows).toHaveLength(rows.length);

    const ndjson = await api("GET", "/databases/f/tables/visits/scan?format=ndjson&filter=id%3E%3D12000");
    expect(ndjson.headers.get("content-type")).toBe("application/x-ndjson");
    const lines = new TextDecoder().decode(ndjson.body).trim().split("\n").map((l) => JSON.parse(l));
    expect(lines.sort(byId)).toEqual(rows.filter((r) => r.id >= 12000));

    const arrow = await api("GET", "/databases/f/tables/visits/scan?format=arrow&columns=id,city");
    expect(arrow.headers.get("content-type")).toBe("application/vnd.apache.arrow.stream");
    const table = tableFromIPC(arrow.body);
    expect(table.numRows).toBe(rows.length);
    expect(table.batches.length).toBeGreaterThan(1);
    const ids = [...table.getChild("id")!].map(Number).sort((a, b) => a - b);
    expect(ids).toEqual(rows.map((r) => r.id));
    expect(arrow.headers.get("Floe-Lake-Snapshot")).toMatch(/^\d+$/);
    expect(JSON.parse(arrow.headers.get("Floe-Scan-Offsets")!)).toEqual({ "0": rows.length });
  });

  it("reads the lake alone through the $lake table name", async () => {
    const lake = await scan("source=lake");
    const alias = await ok("GET", "/databases/f/tables/visits$lake/scan");
    expect(alias.rows).toEqual(lake.rows);
    expect(lake.rows).toHaveLength(rowGroupRowsMax + 2200);
    expect(lake.offsets).toEqual({ "0": rowGroupRowsMax + 2200 });
  });

  it("answers bad scans with clear errors", async () => {
    const bad = async (query: string, status: number, code: string, message: RegExp) =>
      expectError(await api("GET", `/databases/f/tables/visits/scan?${query}`), status, code, message);
    await bad("columns=nope", 400, "bad_request", /unknown column 'nope'/);
    await bad("filter=nope%3D1", 400, "bad_request", /unknown column 'nope'/);
    await bad("filter=id%3E", 400, "bad_request", /expected a value/);
    await bad("filter=id%3D'x'", 400, "bad_request", /column 'id'/);
    await bad("filter=id%3D1%20OR%20id%3D2", 400, "bad_request", /joined with AND/);
    await bad("filter=id%20LIKE%201", 400, "bad_request", /expected an operator/);
    await bad("filter=id%20IN%201", 400, "bad_request", /expected \( after IN/);
    await bad("filter=id%3D%3B", 400, "bad_request", /unexpected text/);
    await bad("source=sideways", 400, "bad_request", /source/);
    await bad("format=xml", 400, "bad_request", /format/);
    await bad("limit=0", 400, "bad_request", /at least 1/);
    await bad("snapshot=abc", 400, "bad_request", /snapshot/);
    // The filter's length limit, at and one past it.
    const inList = (length: number) => `id IN (${"1,".repeat((length - "id IN (1)".length) / 2)}1)`;
    expect(inList(filterLengthMax)).toHaveLength(filterLengthMax - 1);
    expect((await api("GET", `/databases/f/tables/visits/scan?columns=id&filter=${encodeURIComponent(`${inList(filterLengthMax)} `)}`)).status).toBe(200);
    await bad(`filter=${encodeURIComponent(`${inList(filterLengthMax)}  `)}`, 400, "bad_request", /longer than 4096/);
    await bad("snapshot=1", 404, "not_found", /no lake snapshot 1/);
    await bad("source=hot&snapshot=1", 400, "bad_request", /source=lake or source=union/);
    expectError(await api("GET", "/databases/f/tables/visits$lake/scan?source=hot"), 400, "bad_request", /source can only be lake/);
    expectError(await api("GET", "/databases/f/tables/nothing/scan"), 404, "not_found");
  });
});
