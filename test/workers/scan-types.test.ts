/**
 * Values come back from the lake exactly as they went in: every Floe type,
 * with extremes a lossy decoder would round (38-digit decimals, microsecond
 * timestamps, 64-bit integers, NaN, binary), reads the same through a union
 * scan after tiering as from the hot log before it, and filters on them
 * compare exactly.
 */
import { describe, expect, it } from "vitest";
import { api, createTable, expectError, ok } from "./helpers.ts";

const definition = {
  columns: [
    { name: "id", type: "INT", nullable: false },
    { name: "flag", type: "BOOLEAN" },
    { name: "tiny", type: "TINYINT" },
    { name: "small", type: "SMALLINT" },
    { name: "big", type: "BIGINT" },
    { name: "real", type: "FLOAT" },
    { name: "wide", type: "DOUBLE" },
    { name: "money", type: "DECIMAL(38,10)" },
    { name: "cents", type: "DECIMAL(9,2)" },
    { name: "label", type: "STRING" },
    { name: "blob", type: "BYTES" },
    { name: "day", type: "DATE" },
    { name: "clock", type: "TIME" },
    { name: "at", type: "TIMESTAMP(6)" },
    { name: "seen", type: "TIMESTAMP_LTZ(3)" },
  ],
  bucket: { num: 2, key: ["id"] },
  properties: { "table.datalake.enabled": "true" },
};

const rows = [
  {
    id: 1, flag: true, tiny: -128, small: 32767, big: "9223372036854775807", real: 1.5, wide: "NaN",
    money: "1234567890123456789012345678.0123456789", cents: "-9999999.99", label: "grüezi 🌍", blob: "AAEC/w==",
    day: "1970-01-01", clock: "23:59:59.999999", at: "2024-02-29T12:34:56.123456", seen: "2024-02-29T12:34:56.789Z",
  },
  {
    id: 2, flag: false, tiny: 127, small: -32768, big: "-9223372036854775808", real: -0.25, wide: "-Infinity",
    money: "-0.0000000001", cents: "0.01", label: "", blob: "", day: "2262-04-11", clock: "00:00:00",
    at: "1969-12-31T23:59:59.999999", seen: "1900-01-01T00:00:00.001Z",
  },
  {
    id: 3, flag: null, tiny: null, small: null, big: "9007199254740993", real: null, wide: 1e-300, money: null, cents: null,
    label: null, blob: null, day: null, clock: null, at: null, seen: null,
  },
];

describe("exact values through the lake", () => {
  it("reads every type back from the lake as the hot log answered it", async () => {
    await createTable("x", "typed", definition);
    await ok("POST", "/databases/x/tables/typed/rows", rows);
    const hot = await ok("GET", "/databases/x/tables/typed/scan?source=hot");
    await ok("POST", "/tiering/run");
    const lake = await ok("GET", "/databases/x/tables/typed/scan?source=lake");
    const byId = (a: { id: number }, b: { id: number }) => a.id - b.id;
    expect(lake.rows.sort(byId)).toEqual(hot.rows.sort(byId));
    expect(lake.rows[0].money).toBe("1234567890123456789012345678.0123456789");
    expect(lake.rows[0].at).toBe("2024-02-29T12:34:56.123456");
    expect(lake.rows[0].big).toBe("9223372036854775807");
    expect(lake.rows[2].big).toBe("9007199254740993");
    expect(lake.rows[0].blob).toBe("AAEC/w==");
  });

  it("compares decimals, timestamps and big integers exactly in filters over the lake", async () => {
    const query = async (filter: string) =>
      (await ok("GET", `/databases/x/tables/typed/scan?source=lake&columns=id&filter=${encodeURIComponent(filter)}`)).rows.map((r: { id: number }) => r.id).sort();
    expect(await query("money > 1234567890123456789012345678.0123456788")).toEqual([1]);
    expect(await query("money >= 1234567890123456789012345678.012345679")).toEqual([]);
    expect(await query("money < 0")).toEqual([2]);
    expect(await query("at > '2024-02-29T12:34:56.123455'")).toEqual([1]);
    expect(await query("at <= '1969-12-31T23:59:59.999999'")).toEqual([2]);
    expect(await query("big = 9007199254740993")).toEqual([3]);
    expect(await query("big IN (9007199254740992, -9223372036854775808)")).toEqual([2]);
    expect(await query("day = '2262-04-11' AND flag = false")).toEqual([2]);
    expect(await query("label = 'grüezi 🌍'")).toEqual([1]);
    expect(await query("money IS NULL")).toEqual([3]);
    // NaN is unequal to everything: `!=` holds for it, and a NaN literal is refused.
    expect(await query("wide != 1e-300")).toEqual([1, 2]);
    expect(await query("wide < 0")).toEqual([2]);
    expect(await query("seen >= '2024-02-29T12:34:56.789Z'")).toEqual([1]);
    const refused = async (filter: string, message: RegExp) =>
      expectError(await api("GET", `/databases/x/tables/typed/scan?filter=${encodeURIComponent(filter)}`), 400, "bad_request", message);
    await refused("wide = 'NaN'", /NaN/);
    await refused("wide IN (1, 'NaN')", /NaN/);
    // Literals finer than the column would be truncated, changing what < and = mean.
    await refused("seen > '2024-02-29T12:34:56.7895Z'", /more precise than TIMESTAMP_LTZ\(3\)/);
    await refused("clock < '10:00:00.0000005'", /more precise than TIME/);
  });
});
