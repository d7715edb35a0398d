import * as arrow from "apache-arrow";
import { beforeAll, describe, expect, it } from "vitest";
import { api, createTable, expectError, highWatermarks } from "./helpers.ts";

const path = "/databases/bad/tables/events/rows";
const good = { id: 1, user: "ann", amount: "1.00", ts: 0 };
const json = { "content-type": "application/json" };
const ndjson = { "content-type": "application/x-ndjson" };
const arrowType = { "content-type": "application/vnd.apache.arrow.stream" };

function arrowBody(columns: Record<string, arrow.Vector>): Uint8Array {
  return arrow.tableToIPC(new arrow.Table(columns), "stream");
}

// Each case: [what, body, headers, status, code, message]. The first rows are valid, so a
// partial write would show up in the high watermarks.
const cases: [string, unknown, Record<string, string>, number, string, RegExp][] = [
  ["wrong type", [good, { ...good, id: "one" }], json, 400, "bad_request", /row 1, column 'id': expected BIGINT/],
  ["missing NOT NULL column", [good, { user: "b", amount: "1", ts: 0 }], json, 400, "bad_request", /row 1, column 'id'.*NOT NULL/],
  ["null in NOT NULL column", [good, { ...good, amount: null }], json, 400, "bad_request", /row 1, column 'amount'/],
  ["unknown column", [good, { ...good, color: "red" }], json, 400, "bad_request", /row 1 has unknown column 'color'/],
  ["decimal too precise", [good, { ...good, amount: "1.234" }], json, 400, "bad_request", /more than 2 decimal places/],
  ["decimal too large", [good, { ...good, amount: "123456789.00" }], json, 400, "bad_request", /does not fit DECIMAL\(10,2\)/],
  ["unsafe BIGINT number", [good, { ...good, id: 2 ** 60 }], json, 400, "bad_request", /send BIGINT values beyond 2\^53 as strings/],
  ["bad timestamp", [good, { ...good, ts: "yesterday" }], json, 400, "bad_request", /not an ISO-8601 timestamp/],
  ["bad calendar date", [good, { ...good, ts: "2026-02-30T00:00:00Z" }], json, 400, "bad_request", /not a valid calendar date/],
  ["timestamp past year 9999 once its offset applies", [good, { ...good, ts: "9999-12-31T23:59:59-01:00" }], json, 400, "bad_request", /row 1, column 'ts': .* is outside 0001-01-01T00:00:00 \.\. 9999-12-31T23:59:59\.999999/],
  ["epoch milliseconds past year 9999", [good, { ...good, ts: 253402300800000 }], json, 400, "bad_request", /row 1, column 'ts': 253402300800000 is outside/],
  ["a lone surrogate in a string", [good, { ...good, user: "\ud800x" }], json, 400, "bad_request", /row 1, column 'user': .*lone surrogate \(\\uD800\)/],
  ["row not an object", [good, 5], json, 400, "bad_request", /row 1 must be a JSON object/],
  ["body not an array", good, json, 400, "bad_request", /must be an array/],
  ["malformed JSON", '[{"id": 1', json, 400, "bad_request", /malformed JSON/],
  ["empty array", [], json, 400, "bad_request", /no rows/],
  ["malformed NDJSON", `${JSON.stringify(good)}\n{"id":`, ndjson, 400, "bad_request", /malformed NDJSON on line 2/],
  ["bad NDJSON row", `${JSON.stringify(good)}\n${JSON.stringify({ ...good, id: true })}`, ndjson, 400, "bad_request", /row 1, column 'id'/],
  ["malformed Arrow", new Uint8Array([1, 2, 3, 4, 5]), arrowType, 400, "bad_request", /Arrow/],
  ["Arrow type mismatch", "float64 id", arrowType, 400, "bad_request", /Arrow field 'id' is Float64, but BIGINT takes Int64/],
  ["Arrow null in NOT NULL", "null amount", arrowType, 400, "bad_request", /row 1, column 'amount'/],
  ["Arrow unknown field", "extra field", arrowType, 400, "bad_request", /the Arrow stream has unknown column 'color'/],
  ["Arrow decimal beyond precision", "wide amount", arrowType, 400, "bad_request", /row 1, column 'amount': value does not fit DECIMAL\(10,2\)/],
  ["Arrow timestamp past year 9999", "late ts", arrowType, 400, "bad_request", /row 1, column 'ts': value does not fit TIMESTAMP_LTZ\(3\), which holds 0001-01-01T00:00:00 \.\. 9999/],
  ["unsupported content type", "id=1", { "content-type": "application/x-www-form-urlencoded" }, 415, "unsupported_media_type", /application\/json/],
  ["op on a log table", [good], json, 400, "bad_request", /primary-key tables only/],
];

function arrowCase(name: string): Uint8Array {
  const base = {
    id: arrow.vectorFromArray([1n, 2n], new arrow.Int64()),
    user: arrow.vectorFromArray(["a", "b"], new arrow.Utf8()),
    amount: arrow.vectorFromArray([new Uint32Array([100, 0, 0, 0]), new Uint32Array([100, 0, 0, 0])], new arrow.Decimal(2, 10, 128)),
    ts: arrow.vectorFromArray([0, 0], new arrow.TimestampMicrosecond("UTC")),
  };
  if (name === "float64 id") return arrowBody({ ...base, id: arrow.vectorFromArray([1, 2], new arrow.Float64()) });
  if (name === "null amount") {
    return arrowBody({ ...base, amount: arrow.vectorFromArray([new Uint32Array([1, 0, 0, 0]), null], new arrow.Decimal(2, 10, 128)) });
  }
  if (name === "wide amount") {
    const wide = new Uint32Array([0, 0, 1, 0]); // 2^64, far beyond 10 digits
    return arrowBody({ ...base, amount: arrow.vectorFromArray([new Uint32Array([1, 0, 0, 0]), wide], new arrow.Decimal(2, 10, 128)) });
  }
  if (name === "late ts") {
    // apache-arrow's builders take epoch milliseconds: this is 10000-01-01T00:00:00Z.
    return arrowBody({ ...base, ts: arrow.vectorFromArray([0, 253402300800000], new arrow.TimestampMicrosecond("UTC")) });
  }
  return arrowBody({ ...base, color: arrow.vectorFromArray(["r", "g"], new arrow.Utf8()) });
}

describe("bad input is refused whole", () => {
  beforeAll(async () => {
    await createTable("bad", "events");
    await api("POST", path, [good, good, good]);
  });

  it.each(cases)("%s", async (what, body, headers, status, code, message) => {
    const before = await highWatermarks("bad", "events");
    const payload = headers === arrowType && typeof body === "string" ? arrowCase(body) : body;
    const target = what === "op on a log table" ? `${path}?op=delete` : path;
    expectError(await api("POST", target, payload, headers), status, code, message);
    expect(await highWatermarks("bad", "events")).toEqual(before);
  });

  it("refuses numbers FLOAT and DOUBLE cannot hold, and takes the named infinities", async () => {
    await createTable("bad", "floats", { columns: [{ name: "f", type: "FLOAT" }, { name: "d", type: "DOUBLE" }], bucket: { num: 1 } });
    const floats = "/databases/bad/tables/floats/rows";
    // As text: JSON.stringify cannot write 1e400, and JSON.parse reads it as Infinity.
    expectError(await api("POST", floats, '[{"f":1,"d":1},{"f":1,"d":1e400}]', json), 400, "bad_request", /row 1, column 'd': a number is out of range for DOUBLE/);
    expectError(await api("POST", floats, '[{"f":1e39,"d":1}]', json), 400, "bad_request", /row 0, column 'f': 1e\+39 is out of range for FLOAT/);
    expect(await highWatermarks("bad", "floats")).toEqual([0]);
    expect((await api("POST", floats, '[{"f":"Infinity","d":"-Infinity"},{"f":3.4e38,"d":1e308}]', json)).status).toBe(200);
    expect(await highWatermarks("bad", "floats")).toEqual([2]);
  });

  it("answers 404 for an unknown table or database", async () => {
    expectError(await api("POST", "/databases/bad/tables/nope/rows", [good]), 404, "not_found", /table 'bad.nope'/);
    expectError(await api("POST", "/databases/nope/tables/events/rows", [good]), 404, "not_found", /database 'nope'/);
  });

  it("answers 413 for a body over the limit, by declared length and by streamed length", async () => {
    const before = await highWatermarks("bad", "events");
    const huge = `[${Array.from({ length: 17 * 1024 }, () => `${JSON.stringify({ ...good, user: "x".repeat(1000) })}`).join(",")}]`;
    expectError(await api("POST", path, huge, json), 413, "payload_too_large", /exceeds 16777216 bytes/);
    const stream = new ReadableStream({
      start(controller) {
        const chunk = new TextEncoder().encode(" ".repeat(1024 * 1024));
        for (let i = 0; i < 17; i++) controller.enqueue(chunk);
        controller.close();
      },
    });
    expectError(await api("POST", path, stream, json), 413, "payload_too_large");
    expect(await highWatermarks("bad", "events")).toEqual(before);
  });

  it("answers 413 for too many rows", async () => {
    const many = Array.from({ length: 100_001 }, () => ({ id: 1, user: "a", amount: "1", ts: 0 }));
    expectError(await api("POST", path, many), 413, "payload_too_large", /at most 100000 rows/);
  });

  it("answers JSON 404 for unknown routes", async () => {
    expectError(await api("GET", "/nothing/here"), 404, "not_found", /no route/);
  });
});
