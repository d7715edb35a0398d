/**
 * Arrow as ordinary producers write it (pyarrow, pandas, apache-arrow JS):
 * narrower integers, Float32, other timestamp and time units, zones,
 * LargeUtf8/LargeBinary, dictionaries, Date64, smaller decimals. Each
 * lossless widening stores exactly the value sent; each lossy one is
 * refused naming the Arrow type to send, and writes nothing. Floe's own
 * system columns are skipped only when the writer asks.
 */
import * as arrow from "apache-arrow";
import { beforeAll, describe, expect, it } from "vitest";
import { api, createTable, expectError, highWatermarks, ok } from "./helpers.ts";

const db = "widen";
const definition = {
  columns: [
    { name: "b", type: "BIGINT" },
    { name: "i", type: "INT" },
    { name: "d", type: "DOUBLE" },
    { name: "s", type: "STRING" },
    { name: "y", type: "BYTES" },
    { name: "dt", type: "DATE" },
    { name: "t", type: "TIME" },
    { name: "ts", type: "TIMESTAMP(6)" },
    { name: "tz", type: "TIMESTAMP_LTZ(3)" },
    { name: "dec", type: "DECIMAL(10,2)" },
  ],
  bucket: { num: 1 },
};
const arrowHeaders = { "content-type": "application/vnd.apache.arrow.stream" };
const rowsPath = (table: string, query = "") => `/databases/${db}/tables/${table}/rows${query}`;

/** A column of raw values, built on the buffers (so a test states exactly what is stored, unit for unit). */
function column(type: arrow.DataType, values: ArrayLike<unknown> & { length: number }, valid?: boolean[]): arrow.Vector {
  // A decimal's value is four 32-bit words.
  const length = arrow.DataType.isDecimal(type) ? values.length / 4 : values.length;
  const nullBitmap = valid && Uint8Array.from({ length: Math.ceil(length / 8) }, (_, byte) => valid.slice(byte * 8, byte * 8 + 8).reduce((bits, v, i) => bits | (v ? 1 << i : 0), 0));
  const nullCount = valid ? valid.filter((v) => !v).length : 0;
  return arrow.makeVector(arrow.makeData({ type, length, nullCount, nullBitmap, data: values } as never));
}

function variableWidth(type: arrow.DataType, values: (string | Uint8Array | null)[], large: boolean): arrow.Vector {
  const encoded = values.map((v) => (v === null ? new Uint8Array() : typeof v === "string" ? new TextEncoder().encode(v) : v));
  const ends = [0];
  for (const bytes of encoded) ends.push(ends.at(-1)! + bytes.length);
  const data = new Uint8Array(ends.at(-1)!);
  encoded.forEach((bytes, i) => data.set(bytes, ends[i]));
  const valueOffsets = large ? BigInt64Array.from(ends, BigInt) : Int32Array.from(ends);
  const valid = values.map((v) => v !== null);
  const nullCount = valid.filter((v) => !v).length;
  const nullBitmap = Uint8Array.from({ length: Math.ceil(values.length / 8) }, (_, byte) => valid.slice(byte * 8, byte * 8 + 8).reduce((bits, v, i) => bits | (v ? 1 << i : 0), 0));
  return arrow.makeVector(arrow.makeData({ type, length: values.length, nullCount, nullBitmap, valueOffsets, data } as never));
}

function dictionary(values: string[], indices: Int8Array | Int32Array, valid?: boolean[]): arrow.Vector {
  const type = new arrow.Dictionary(new arrow.Utf8(), indices instanceof Int8Array ? new arrow.Int8() : new arrow.Int32());
  const dictionaryVector = variableWidth(new arrow.Utf8(), values, false);
  const nullBitmap = valid && Uint8Array.from({ length: Math.ceil(valid.length / 8) }, (_, byte) => valid.slice(byte * 8, byte * 8 + 8).reduce((bits, v, i) => bits | (v ? 1 << i : 0), 0));
  const nullCount = valid ? valid.filter((v) => !v).length : 0;
  return arrow.makeVector(arrow.makeData({ type, length: indices.length, nullCount, nullBitmap, data: indices, dictionary: dictionaryVector } as never));
}

const body = (columns: Record<string, arrow.Vector>) => arrow.tableToIPC(new arrow.Table(columns), "stream");

/** Writes one column's values and answers them as the log reads them back (JSON). */
async function roundTrip(name: string, vector: arrow.Vector): Promise<unknown[]> {
  const [before] = await highWatermarks(db, "wide");
  const written = await api("POST", rowsPath("wide"), body({ [name]: vector }), arrowHeaders);
  expect(written.status, JSON.stringify(written.body)).toBe(200);
  const page = await ok("GET", `/databases/${db}/tables/wide/log?bucket=0&offset=${before}&columns=${name}`);
  return page.rows.map((row: Record<string, unknown>) => row[name]);
}

describe("Arrow input widening", () => {
  beforeAll(async () => {
    await createTable(db, "wide", definition);
    await createTable(db, "copy", definition);
  });

  it.each([
    ["b", "Int8", () => column(new arrow.Int8(), Int8Array.of(-128, 127, 0), [true, true, false]), [-128, 127, null]],
    ["b", "Int16", () => column(new arrow.Int16(), Int16Array.of(-32768, 32767)), [-32768, 32767]],
    ["b", "Int32", () => column(new arrow.Int32(), Int32Array.of(-2147483648, 2147483647)), [-2147483648, 2147483647]],
    ["b", "UInt32", () => column(new arrow.Uint32(), Uint32Array.of(0, 4294967295)), [0, 4294967295]],
    ["i", "Int16", () => column(new arrow.Int16(), Int16Array.of(-32768, 5)), [-32768, 5]],
    ["i", "UInt16", () => column(new arrow.Uint16(), Uint16Array.of(65535)), [65535]],
    ["d", "Float32", () => column(new arrow.Float32(), Float32Array.of(1.5, -0.25)), [1.5, -0.25]],
    ["s", "LargeUtf8", () => variableWidth(new arrow.LargeUtf8(), ["a", null, "ünïcödé ✓", ""], true), ["a", null, "ünïcödé ✓", ""]],
    ["s", "Dictionary<Int32, Utf8>", () => dictionary(["x", "yy"], Int32Array.of(1, 0, 1, 0), [true, true, true, false]), ["yy", "x", "yy", null]],
    ["s", "Dictionary<Int8, Utf8>", () => dictionary(["only"], Int8Array.of(0, 0)), ["only", "only"]],
    ["y", "LargeBinary", () => variableWidth(new arrow.LargeBinary(), [Uint8Array.of(0, 255), null], true), ["AP8=", null]],
    ["dt", "Date64", () => column(new arrow.DateMillisecond(), BigInt64Array.of(3n * 86_400_000n, -86_400_000n)), ["1970-01-04", "1969-12-31"]],
    ["t", "Time32 ms", () => column(new arrow.TimeMillisecond(), Int32Array.of(3_723_004)), ["01:02:03.004000"]],
    ["t", "Time64 ns", () => column(new arrow.TimeNanosecond(), BigInt64Array.of(1_000n)), ["00:00:00.000001"]],
    ["ts", "Timestamp s", () => column(new arrow.TimestampSecond(), BigInt64Array.of(1n)), ["1970-01-01T00:00:01.000000"]],
    ["ts", "Timestamp ms", () => column(new arrow.TimestampMillisecond(), BigInt64Array.of(1_764_000_000_123n)), ["2025-11-24T16:00:00.123000"]],
    ["ts", "Timestamp ns, whole µs", () => column(new arrow.TimestampNanosecond(), BigInt64Array.of(1_764_000_000_123_456_000n)), ["2025-11-24T16:00:00.123456"]],
    ["tz", "Timestamp ms UTC", () => column(new arrow.TimestampMillisecond("UTC"), BigInt64Array.of(1_764_000_000_123n)), ["2025-11-24T16:00:00.123Z"]],
    ["tz", "Timestamp s +01:00", () => column(new arrow.TimestampSecond("+01:00"), BigInt64Array.of(60n)), ["1970-01-01T00:01:00.000Z"]],
    ["tz", "Timestamp ns Europe/Paris", () => column(new arrow.TimestampNanosecond("Europe/Paris"), BigInt64Array.of(1_500_000n)), ["1970-01-01T00:00:00.001Z"]],
    ["dec", "Decimal(5,2)", () => column(new arrow.Decimal(2, 5, 128), Uint32Array.of(1250, 0, 0, 0)), ["12.50"]],
    ["dec", "Decimal(3,0), rescaled", () => column(new arrow.Decimal(0, 3, 128), Uint32Array.of(7, 0, 0, 0, ...new Uint32Array(BigInt64Array.of(-999n, -1n).buffer))), ["7.00", "-999.00"]],
  ] as const)("stores %s sent as %s exactly", async (name, _type, vector, expected) => {
    expect(await roundTrip(name, vector())).toEqual(expected);
  });

  it.each([
    ["b", "Float64", () => column(new arrow.Float64(), Float64Array.of(1)), /Arrow field 'b' is Float64, but BIGINT takes Int64 \(or Int8, Int16, Int32, UInt8, UInt16, UInt32\)/],
    ["b", "UInt64", () => column(new arrow.Uint64(), BigUint64Array.of(1n)), /Arrow field 'b' is Uint64, but BIGINT takes Int64/],
    ["i", "Int64", () => column(new arrow.Int64(), BigInt64Array.of(1n)), /Arrow field 'i' is Int64, but INT takes Int32 \(or Int8, Int16, UInt8, UInt16\)/],
    ["d", "Int32", () => column(new arrow.Int32(), Int32Array.of(1)), /DOUBLE takes Float64 \(or Float32\)/],
    ["tz", "a timestamp without a zone", () => column(new arrow.TimestampMillisecond(), BigInt64Array.of(1n)), /TIMESTAMP_LTZ\(3\) takes Timestamp<MICROSECOND, UTC> \(or a Timestamp of any unit with a time zone\)/],
    ["ts", "a timestamp with a zone", () => column(new arrow.TimestampMicrosecond("UTC"), BigInt64Array.of(1n)), /TIMESTAMP\(6\) takes Timestamp<MICROSECOND> \(or a Timestamp of any unit without a time zone\)/],
    ["dec", "a decimal of a larger scale", () => column(new arrow.Decimal(3, 10, 128), Uint32Array.of(1, 0, 0, 0)), /DECIMAL\(10,2\) takes Decimal\[10e\+2\] \(or a Decimal128 of scale at most 2 and at most 8 integral digits\)/],
    ["dec", "a decimal of more integral digits", () => column(new arrow.Decimal(0, 9, 128), Uint32Array.of(1, 0, 0, 0)), /DECIMAL\(10,2\) takes/],
    ["ts", "nanoseconds that are not whole microseconds", () => column(new arrow.TimestampNanosecond(), BigInt64Array.of(1000n, 1001n)), /row 1, column 'ts': nanosecond timestamp 1001 is not a whole microsecond/],
    ["dt", "a Date64 that is not a whole day", () => column(new arrow.DateMillisecond(), BigInt64Array.of(0n, 5n)), /row 1, column 'dt': Date64 value 5 is not a whole day/],
    ["tz", "seconds beyond year 9999", () => column(new arrow.TimestampSecond("UTC"), BigInt64Array.of(0n, 1n << 62n)), /row 1, column 'tz': value does not fit TIMESTAMP_LTZ\(3\)/],
    ["s", "a dictionary index past its dictionary", () => dictionary(["x"], Int32Array.of(0, 3)), /row 1, column 's': its dictionary index 3 is outside the 1 values its dictionary holds/],
    ["s", "a dictionary value that is not UTF-8", () => {
      const values = variableWidth(new arrow.Utf8(), ["ok", "bad"], false);
      (values.data[0]!.values as Uint8Array)[2] = 0xff;
      return arrow.makeVector(arrow.makeData({ type: new arrow.Dictionary(new arrow.Utf8(), new arrow.Int32()), length: 1, data: Int32Array.of(0), dictionary: values } as never));
    }, /column 's': its dictionary \(value 1\): the value is not valid UTF-8/],
  ] as const)("refuses %s sent as %s, writing nothing", async (name, _what, vector, message) => {
    const before = await highWatermarks(db, "wide");
    expectError(await api("POST", rowsPath("wide"), body({ [name]: vector() }), arrowHeaders), 400, "bad_request", message);
    expect(await highWatermarks(db, "wide")).toEqual(before);
  });

  it("takes a log read's Arrow body back only with ?ignoreSystemColumns=true", async () => {
    await ok("POST", rowsPath("wide"), [{ b: 1, s: "one", tz: 0, dec: "1.50" }, { b: 2, s: null, tz: 1000, dec: "2" }]);
    const read = await api("GET", `/databases/${db}/tables/wide/log?bucket=0&format=arrow`);
    const stream = read.body as Uint8Array;
    expect(arrow.tableFromIPC(stream).schema.fields.map((f) => f.name)).toContain("_offset");
    const before = await highWatermarks(db, "copy");
    expectError(await api("POST", rowsPath("copy"), stream, arrowHeaders), 400, "bad_request", /unknown column '_offset' \(a system column .*\?ignoreSystemColumns=true/);
    expectError(await api("POST", rowsPath("copy", "?ignoreSystemColumns=maybe"), stream, arrowHeaders), 400, "bad_request", /ignoreSystemColumns/);
    expect(await highWatermarks(db, "copy")).toEqual(before);
    expect((await api("POST", rowsPath("copy", "?ignoreSystemColumns=true"), stream, arrowHeaders)).status).toBe(200);
    const strip = (rows: Record<string, unknown>[]) => rows.map(({ _offset, _timestamp, _change, ...row }) => row);
    const original = await ok("GET", `/databases/${db}/tables/wide/log?bucket=0`);
    const copied = await ok("GET", `/databases/${db}/tables/copy/log?bucket=0`);
    expect(strip(copied.rows)).toEqual(strip(original.rows));
    // Other unknown fields are still refused with it.
    const extra = body({ b: column(new arrow.Int64(), BigInt64Array.of(1n)), color: variableWidth(new arrow.Utf8(), ["red"], false) });
    expectError(await api("POST", rowsPath("copy", "?ignoreSystemColumns=true"), extra, arrowHeaders), 400, "bad_request", /unknown column 'color'/);
  });
});
