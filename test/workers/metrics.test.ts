/**
 * Data-file metrics in Iceberg's single-value binary form, checked against
 * byte strings written out by hand from the spec (appendix D).
 */
import { describe, expect, it } from "vitest";
import { columnMetrics } from "../../src/iceberg/metrics.ts";
import { buildColumn } from "../../src/table/columns.ts";
import { parseType } from "../../src/table/types.ts";
import { scalarFromJson } from "../../src/table/values.ts";
import { minimalBigEndian } from "../../src/table/bucketing.ts";

/** Metrics of a column whose values come in chunks (one array of JSON values per chunk). */
function chunkedMetricsOf(typeText: string, chunks: unknown[][]) {
  const type = parseType(typeText);
  const data = chunks.map((json) => buildColumn(type, json.map((v) => (v === null ? null : scalarFromJson(type, v)))));
  const m = columnMetrics({ id: 1, name: "c", type, nullable: true }, data);
  return { ...m, lowerBound: m.lowerBound && [...m.lowerBound], upperBound: m.upperBound && [...m.upperBound] };
}

const metricsOf = (typeText: string, json: unknown[]) => chunkedMetricsOf(typeText, [json]);
const float64 = (value: number) => [...new Uint8Array(new Float64Array([value]).buffer)];
const float32 = (value: number) => [...new Uint8Array(new Float32Array([value]).buffer)];

describe("column metrics", () => {
  it("encodes int, long and date bounds little-endian", () => {
    expect(metricsOf("INT", [42, null, -1, 7])).toEqual({
      valueCount: 4, nullCount: 1, lowerBound: [0xff, 0xff, 0xff, 0xff], upperBound: [42, 0, 0, 0],
    });
    expect(metricsOf("BIGINT", ["9223372036854775807", 0])).toMatchObject({
      lowerBound: [0, 0, 0, 0, 0, 0, 0, 0], upperBound: [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f],
    });
    // 2017-11-16 is day 17486 = 0x444e.
    expect(metricsOf("DATE", ["2017-11-16"])).toMatchObject({ lowerBound: [0x4e, 0x44, 0, 0], upperBound: [0x4e, 0x44, 0, 0] });
  });

  it("counts NaN apart and keeps it out of the bounds", () => {
    expect(metricsOf("DOUBLE", [1.5, "NaN", null, -2])).toEqual({
      valueCount: 4, nullCount: 1, nanCount: 1,
      lowerBound: [0, 0, 0, 0, 0, 0, 0, 0xc0], upperBound: [0, 0, 0, 0, 0, 0, 0xf8, 0x3f],
    });
    expect(metricsOf("FLOAT", ["NaN"])).toEqual({ valueCount: 1, nullCount: 0, nanCount: 1 });
  });

  it("encodes decimals as minimal big-endian unscaled values", () => {
    // 14.20 at scale 2 is 1420 = 0x058c; -0.01 is -1 = 0xff.
    expect(metricsOf("DECIMAL(9,2)", ["14.20", "-0.01"])).toMatchObject({ lowerBound: [0xff], upperBound: [0x05, 0x8c] });
  });

  it("orders strings by bytes and truncates long ones to 16 characters", () => {
    expect(metricsOf("STRING", ["iceberg", "Zebra", "ä"])).toMatchObject({
      lowerBound: [...new TextEncoder().encode("Zebra")], upperBound: [...new TextEncoder().encode("ä")],
    });
    const long = "a".repeat(15) + "bc";
    expect(metricsOf("STRING", [long])).toMatchObject({
      lowerBound: [...new TextEncoder().encode("a".repeat(15) + "b")],
      upperBound: [...new TextEncoder().encode("a".repeat(15) + "c")],
    });
  });

  it("rounds a binary upper bound up and omits it when it cannot be", () => {
    const bytes = (values: number[]) => btoa(String.fromCharCode(...values));
    expect(metricsOf("BYTES", [bytes([...new Array(16).fill(1), 9, 9])])).toMatchObject({
      lowerBound: new Array(16).fill(1), upperBound: [...new Array(15).fill(1), 2],
    });
    const high = metricsOf("BYTES", [bytes(new Array(17).fill(0xff))]);
    expect(high.lowerBound).toEqual(new Array(16).fill(0xff));
    expect(high.upperBound).toBeUndefined();
  });

  it("writes booleans as one byte and no bounds for an all-null column", () => {
    expect(metricsOf("BOOLEAN", [true, false])).toMatchObject({ lowerBound: [0], upperBound: [1] });
    expect(metricsOf("STRING", [null, null])).toEqual({ valueCount: 2, nullCount: 2 });
  });

  it("orders floating point by totalOrder: -0.0 is the lower bound of {+0.0, -0.0}, +0.0 the upper", () => {
    expect(metricsOf("DOUBLE", [0, -0])).toMatchObject({ lowerBound: float64(-0), upperBound: float64(0) });
    expect(metricsOf("DOUBLE", [-0, 0])).toMatchObject({ lowerBound: float64(-0), upperBound: float64(0) });
    expect(metricsOf("FLOAT", [-0, "NaN", -0])).toMatchObject({ nanCount: 1, lowerBound: float32(-0), upperBound: float32(-0) });
    expect(metricsOf("DOUBLE", ["-Infinity", 0, "Infinity"])).toMatchObject({ lowerBound: float64(-Infinity), upperBound: float64(Infinity) });
  });

  it("combines chunks, skipping nulls wherever they are", () => {
    expect(chunkedMetricsOf("INT", [[5, null], [], [null, -3, 9]])).toEqual({
      valueCount: 5, nullCount: 2, lowerBound: [0xfd, 0xff, 0xff, 0xff], upperBound: [9, 0, 0, 0],
    });
    expect(chunkedMetricsOf("STRING", [["b", null], ["a", "c"]])).toMatchObject({ nullCount: 1, lowerBound: [0x61], upperBound: [0x63] });
    expect(chunkedMetricsOf("BOOLEAN", [[true], [null, true]])).toMatchObject({ lowerBound: [1], upperBound: [1] });
  });

  it("orders 64-bit and 128-bit values across their words", () => {
    const int64 = (n: bigint) => [...new Uint8Array(new BigInt64Array([n]).buffer)];
    expect(chunkedMetricsOf("BIGINT", [["-9223372036854775808", "4294967296"], ["4294967295", "-1"]])).toMatchObject({
      lowerBound: int64(-(2n ** 63n)), upperBound: int64(2n ** 32n),
    });
    expect(metricsOf("TIMESTAMP(6)", ["1969-12-31T23:59:59.999999", "1970-01-01T00:00:00.000001"])).toMatchObject({ lowerBound: int64(-1n), upperBound: int64(1n) });
    const max38 = "9".repeat(38);
    expect(chunkedMetricsOf("DECIMAL(38,0)", [[max38, "-" + max38], ["18446744073709551616", "-1"]])).toMatchObject({
      lowerBound: [...minimalBigEndian(-(10n ** 38n - 1n))], upperBound: [...minimalBigEndian(10n ** 38n - 1n)],
    });
  });
});
