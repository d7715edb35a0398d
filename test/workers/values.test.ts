import { describe, expect, it } from "vitest";
import { buildColumn, firstValueOutOfRange, readScalar } from "../../src/table/columns.ts";
import { formatType, parseType } from "../../src/table/types.ts";
import type { FloeType } from "../../src/table/types.ts";
import { ValueError, scalarFromJson, scalarToJson } from "../../src/table/values.ts";

/** JSON in, through an Arrow column, JSON out. */
function roundTrip(typeText: string, input: unknown): unknown {
  const type = parseType(typeText);
  const column = buildColumn(type, [scalarFromJson(type, input), null]);
  expect(readScalar(type, column, 1)).toBeNull();
  return scalarToJson(type, readScalar(type, column, 0)!);
}

describe("types", () => {
  it("parses and formats every type", () => {
    const names = ["BOOLEAN", "TINYINT", "SMALLINT", "INT", "BIGINT", "FLOAT", "DOUBLE", "DECIMAL(10,2)", "STRING",
      "BYTES", "DATE", "TIME", "TIMESTAMP(3)", "TIMESTAMP_LTZ(6)"];
    for (const name of names) expect(formatType(parseType(name))).toBe(name);
    expect(formatType(parseType("decimal(5)"))).toBe("DECIMAL(5,0)");
    expect(formatType(parseType("timestamp"))).toBe("TIMESTAMP(6)");
    expect(() => parseType("INT(3)")).toThrow(/takes no parameters/);
    expect(() => parseType("DECIMAL(4,5)")).toThrow(/scale 5 exceeds precision 4/);
  });
});

describe("JSON values through Arrow columns", () => {
  const cases: [string, unknown, unknown][] = [
    ["BOOLEAN", true, true],
    ["TINYINT", -128, -128],
    ["SMALLINT", 32767, 32767],
    ["INT", -2147483648, -2147483648],
    ["BIGINT", 42, 42],
    ["BIGINT", "9223372036854775807", "9223372036854775807"],
    ["BIGINT", "-9223372036854775808", "-9223372036854775808"],
    ["FLOAT", 1.5, 1.5],
    ["DOUBLE", "NaN", "NaN"],
    ["DOUBLE", "-Infinity", "-Infinity"],
    ["DECIMAL(10,2)", "12.5", "12.50"],
    ["DECIMAL(10,2)", 0.1, "0.10"],
    ["DECIMAL(10,2)", "-0.05", "-0.05"],
    ["DECIMAL(38,0)", "99999999999999999999999999999999999999", "99999999999999999999999999999999999999"],
    ["DECIMAL(38,10)", "-1234567890123456789012345678.0123456789", "-1234567890123456789012345678.0123456789"],
    ["DECIMAL(5,2)", "1.2e2", "120.00"],
    ["DECIMAL(5,2)", "1.500", "1.50"],
    ["STRING", "ünïcödé ✓ 🚀", "ünïcödé ✓ 🚀"],
    ["BYTES", "AAEC/w==", "AAEC/w=="],
    ["DATE", "2017-11-16", "2017-11-16"],
    ["DATE", "1969-12-31", "1969-12-31"],
    ["TIME", "22:31:08", "22:31:08"],
    ["TIME", "00:00:00.000001", "00:00:00.000001"],
    ["TIMESTAMP(6)", "2017-11-16T22:31:08.123456", "2017-11-16T22:31:08.123456"],
    ["TIMESTAMP(3)", "2017-11-16 22:31:08.123999", "2017-11-16T22:31:08.123"],
    ["TIMESTAMP(0)", "2017-11-16T22:31:08.9Z", "2017-11-16T22:31:08"],
    ["TIMESTAMP(3)", "2017-11-16T22:31", "2017-11-16T22:31:00.000"],
    ["TIMESTAMP_LTZ(3)", "2017-11-16T14:31:08-08:00", "2017-11-16T22:31:08.000Z"],
    ["TIMESTAMP_LTZ(3)", 1510871468123, "2017-11-16T22:31:08.123Z"],
    ["TIMESTAMP_LTZ(3)", -1, "1969-12-31T23:59:59.999Z"],
    ["TIMESTAMP_LTZ(6)", "1969-12-31T23:59:59.999999Z", "1969-12-31T23:59:59.999999Z"],
    // The range's ends: years 0001..9999 once the offset is applied.
    ["TIMESTAMP(6)", "9999-12-31T23:59:59.999999", "9999-12-31T23:59:59.999999"],
    ["TIMESTAMP_LTZ(3)", "0001-01-01T01:00:00+01:00", "0001-01-01T00:00:00.000Z"],
    ["TIMESTAMP_LTZ(3)", -62135596800000, "0001-01-01T00:00:00.000Z"],
    ["TIMESTAMP_LTZ(3)", 253402300799999, "9999-12-31T23:59:59.999Z"],
    ["DATE", "0001-01-01", "0001-01-01"],
    ["DATE", "9999-12-31", "9999-12-31"],
    ["FLOAT", 3.4e38, Math.fround(3.4e38)],
    ["FLOAT", "Infinity", "Infinity"],
    ["DOUBLE", 1.7976931348623157e308, 1.7976931348623157e308],
  ];
  it.each(cases)("%s %j → %j", (type, input, output) => {
    expect(roundTrip(type, input)).toEqual(output);
  });

  const refused: [string, unknown, RegExp][] = [
    ["BOOLEAN", "true", /expected BOOLEAN/],
    ["TINYINT", 128, /out of range for TINYINT/],
    ["INT", 1.5, /expected INT/],
    ["BIGINT", "9223372036854775808", /out of range for BIGINT/],
    ["BIGINT", 2 ** 53, /not an exact integer/],
    ["DECIMAL(3,1)", "100", /does not fit/],
    ["DECIMAL(3,1)", "abc", /not a decimal number/],
    ["BYTES", "not base64!", /base64/],
    ["DATE", "2017-13-01", /not a valid calendar date/],
    ["TIME", "24:00:00", /not a valid time/],
    ["TIMESTAMP(3)", true, /expected TIMESTAMP\(3\)/],
    ["STRING", 5, /expected STRING, got 5/],
    ["STRING", "\ud800x", /lone surrogate/],
    ["STRING", "ok \udc00", /lone surrogate/],
    ["TIMESTAMP(6)", "9999-12-31T23:59:59-01:00", /outside 0001-01-01T00:00:00 \.\. 9999-12-31T23:59:59\.999999/],
    ["TIMESTAMP_LTZ(3)", "0001-01-01T00:30:00+01:00", /outside 0001-01-01/],
    ["TIMESTAMP_LTZ(3)", 253402300800000, /outside 0001-01-01/],
    ["TIMESTAMP(3)", -62135596800001, /outside 0001-01-01/],
    ["DATE", "0000-12-31", /outside 0001-01-01 \.\. 9999-12-31/],
    ["FLOAT", 1e39, /out of range for FLOAT/],
    ["FLOAT", -1e39, /out of range for FLOAT/],
  ];
  it.each(refused)("refuses %s %j", (type, input, message) => {
    expect(() => scalarFromJson(parseType(type) as FloeType, input)).toThrow(ValueError);
    expect(() => scalarFromJson(parseType(type), input)).toThrow(message);
  });

  it("refuses a JSON number too large for FLOAT or DOUBLE, which JSON.parse makes an infinity", () => {
    const [huge, hugeNegative] = JSON.parse("[1e400, -1e400]") as number[];
    expect(() => scalarFromJson(parseType("DOUBLE"), huge)).toThrow(/a number is out of range for DOUBLE; send infinities as the strings/);
    expect(() => scalarFromJson(parseType("FLOAT"), hugeNegative)).toThrow(/out of range for FLOAT/);
  });
});

describe("Arrow values the type cannot hold", () => {
  // Each case: the type, then values in range followed by the first one out of it.
  const outOfRange: [string, string, (number | bigint)[]][] = [
    ["DATE", "after 9999-12-31", [0, -719162, 2932896, 2932897]],
    ["DATE", "before 0001-01-01", [-719163]],
    ["TIME", "a day or more", [0n, 86_399_999_999n, 86_400_000_000n]],
    ["TIME", "negative", [-1n]],
    ["TIMESTAMP(6)", "after 9999-12-31T23:59:59.999999", [0n, 253402300799999999n, 253402300800000000n]],
    ["TIMESTAMP_LTZ(3)", "before 0001-01-01T00:00:00", [-62135596800000000n, -62135596800000001n]],
  ];
  it.each(outOfRange)("finds the first %s value %s", (typeText, _, values) => {
    const type = parseType(typeText);
    expect(firstValueOutOfRange(type, buildColumn(type, [null, ...values]))).toBe(values.length);
    expect(firstValueOutOfRange(type, buildColumn(type, [null, ...values.slice(0, -1)]))).toBe(-1);
  });
});
