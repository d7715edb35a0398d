/**
 * Throws random malformed bodies, parameters and headers at the write,
 * lookup and log routes, and Arrow streams broken in every way a writer can
 * break them: every answer must be a 4xx JSON error, the Worker must keep
 * serving, and no table may change.
 */
import * as arrow from "apache-arrow";
import { describe, expect, it } from "vitest";
import { api, createTable, highWatermarks, ok } from "./helpers.ts";
import { random } from "../fixtures.ts";
import { recordBatchLayout, withBytes, withInt64 } from "./arrow-patch.ts";

describe("fuzzing the API with malformed requests", () => {
  it("answers 4xx JSON errors, keeps serving and changes nothing", async () => {
    const next = random(99);
    const pick = <T>(items: readonly T[]): T => items[Math.floor(next() * items.length)]!;
    await createTable("fuzz", "events");
    await createTable("fuzz", "users", {
      columns: [{ name: "id", type: "INT" }, { name: "name", type: "STRING", nullable: false }],
      primaryKey: ["id"],
      bucket: { num: 2 },
    });
    await ok("POST", "/databases/fuzz/tables/users/rows", [{ id: 1, name: "a" }]);
    const before = [await highWatermarks("fuzz", "events"), await highWatermarks("fuzz", "users")];
    const good = { id: 1, user: "u", amount: "1.00", ts: 0 };
    const values = [null, true, -1, 1.5, 2 ** 64, "", "x".repeat(300), [], {}, [1, [2, [3]]], { a: { b: {} } }, "2026-13-45", "NaN"];
    const bodies: (() => [unknown, Record<string, string>])[] = [
      () => [new Uint8Array(Array.from({ length: Math.floor(next() * 64) }, () => Math.floor(next() * 256))), { "content-type": pick(["application/json", "application/x-ndjson", "application/vnd.apache.arrow.stream"]) }],
      () => [JSON.stringify([good]).slice(0, Math.floor(next() * 40)), { "content-type": "application/json" }],
      () => [[{ ...good, [pick(["id", "user", "amount", "ts", "nope"])]: pick(values) }, pick(values)], { "content-type": "application/json" }],
      () => [pick(values), { "content-type": "application/json" }],
      () => [`${JSON.stringify(good)}\n${JSON.stringify(pick(values))}`, { "content-type": "application/x-ndjson" }],
      () => ["[" + "[".repeat(5000), { "content-type": "application/json" }],
      () => [JSON.stringify([good]), { "content-type": pick(["text/csv", "application/xml", "multipart/form-data", "application/json; charset=latin1; x"]) }],
    ];
    const targets = [
      "/databases/fuzz/tables/events/rows",
      "/databases/fuzz/tables/users/rows?op=delete",
      "/databases/fuzz/tables/users/rows?columns=nope",
      "/databases/fuzz/tables/users/lookup",
      "/databases/fuzz/tables/nope/rows",
      "/databases/fuzz/tables/events/log?bucket=99",
      "/databases/fuzz/tables/events/log?bucket=0&offset=-1",
      "/databases/fuzz/tables/events/log?bucket=x",
      "/databases/fuzz/tables/bad name/rows",
    ];
    const statuses = new Map<number, number>();
    for (let i = 0; i < 600; i++) {
      const [body, headers] = pick(bodies)();
      const target = pick(targets);
      const method = target.includes("/log?") ? "GET" : "POST";
      if (next() < 0.2) headers["Floe-Writer-Seq"] = pick(["-1", "x", "1e9", ""]);
      const answer = await api(method, target, method === "GET" ? undefined : body, headers);
      statuses.set(answer.status, (statuses.get(answer.status) ?? 0) + 1);
      expect(answer.status, `${method} ${target} → ${answer.status}`).toBeGreaterThanOrEqual(400);
      expect(answer.status, `${method} ${target}`).toBeLessThan(500);
      expect(typeof answer.body.error?.code, `${method} ${target}`).toBe("string");
      expect(typeof answer.body.error?.message).toBe("string");
    }
    expect([await highWatermarks("fuzz", "events"), await highWatermarks("fuzz", "users")]).toEqual(before);
    expect((await api("GET", "/health")).status).toBe(200);
    expect(statuses.size).toBeGreaterThan(2);
  });

  it("answers Arrow streams with lying null counts, broken UTF-8, lying lengths or truncated bytes with 4xx JSON errors, and writes nothing", async () => {
    const next = random(7);
    const int = (below: number) => Math.floor(next() * below);
    const pick = <T>(items: readonly T[]): T => items[int(items.length)]!;
    await createTable("fuzz", "arrow_events");
    const path = "/databases/fuzz/tables/arrow_events/rows";
    const headers = { "content-type": "application/vnd.apache.arrow.stream" };
    const text = () => Array.from({ length: 1 + int(6) }, () => pick(["a", "z", "é", "ß", "✓", "🚀", " "])).join("");
    // A valid stream of the events table; tags has a null and a value, so its validity bitmap is present.
    const validStream = (rows: number) => arrow.tableToIPC(new arrow.Table({
      id: arrow.vectorFromArray(Array.from({ length: rows }, (_, i) => BigInt(i)), new arrow.Int64()),
      user: arrow.vectorFromArray(Array.from({ length: rows }, text), new arrow.Utf8()),
      amount: arrow.vectorFromArray(Array.from({ length: rows }, () => new Uint32Array([int(10_000), 0, 0, 0])), new arrow.Decimal(2, 10, 128)),
      ts: arrow.vectorFromArray(Array.from({ length: rows }, () => int(2e12)), new arrow.TimestampMicrosecond("UTC")),
      tags: arrow.vectorFromArray(Array.from({ length: rows }, (_, i) => (i === 0 || (i > 1 && next() < 0.3) ? null : text())), new arrow.Utf8()),
    }), "stream");
    expect((await api("POST", path, validStream(3), headers)).status).toBe(200);
    const before = await highWatermarks("fuzz", "arrow_events");
    // Buffers per field: [validity, data], or [validity, offsets, data] for the strings (user, tags).
    const strings = [{ field: 1, offsets: 3, data: 4 }, { field: 4, offsets: 10, data: 11 }];
    /** Bytes that never occur in UTF-8. */
    const neverUtf8 = [0xc0, 0xc1, 0xf5, 0xf8, 0xfe, 0xff];
    // Each mutation breaks a valid stream in a way that can never leave it valid.
    const mutations: Record<string, (stream: Uint8Array, rows: number) => Uint8Array> = {
      "null count": (stream, rows) => {
        const node = pick(recordBatchLayout(stream).nodes);
        const lies = Array.from({ length: rows + 3 }, (_, n) => n - 1).filter((n) => n !== node.nullCount);
        return withInt64(stream, node.at + 8, pick(lies));
      },
      "invalid UTF-8": (stream, rows) => {
        const layout = recordBatchLayout(stream);
        const { offsets } = pick(strings);
        const offsetsAt = layout.bodyAt + layout.buffers[offsets]!.offset;
        const view = new DataView(stream.buffer, stream.byteOffset);
        // Row 1 is never null and never empty in either string column.
        const row = offsets === 3 ? int(rows) : 1;
        const start = view.getInt32(offsetsAt + 4 * row, true);
        const end = view.getInt32(offsetsAt + 4 * row + 4, true);
        const dataAt = layout.bodyAt + layout.buffers[offsets + 1]!.offset;
        return withBytes(stream, dataAt + start + int(end - start), [pick(neverUtf8)]);
      },
      truncated: (stream) => stream.slice(0, int(stream.byteLength - 8)),
      "buffer past the body": (stream) => {
        const layout = recordBatchLayout(stream);
        const bodyBytes = stream.byteLength - 8 - layout.bodyAt;
        const region = pick(layout.buffers);
        return next() < 0.5 ? withInt64(stream, region.at, bodyBytes + 1 + int(1 << 20)) : withInt64(stream, region.at + 8, pick([bodyBytes + 1 + int(1 << 20), -1 - int(100)]));
      },
      "offset past the data": (stream, rows) => {
        const layout = recordBatchLayout(stream);
        const { offsets, data } = pick(strings);
        const at = layout.bodyAt + layout.buffers[offsets]!.offset + 4 * (1 + int(rows));
        const end = layout.buffers[data]!.length + 1 + int(1000);
        return withBytes(stream, at, [end & 0xff, (end >> 8) & 0xff, (end >> 16) & 0xff, 0]);
      },
      "field node length": (stream, rows) => {
        const node = pick(recordBatchLayout(stream).nodes);
        return withInt64(stream, node.at, pick([0, rows - 1, rows + 1 + int(1000)]));
      },
      "vector length": (stream) => {
        const layout = recordBatchLayout(stream);
        const at = pick([layout.nodes[0]!.at, layout.buffers[0]!.at]) - 4;
        return withBytes(stream, at, [0xff, 0xff, 0xff, pick([0x7f, 0x00, 0x10])]);
      },
    };
    const kinds = Object.keys(mutations);
    const refused = new Map<string, number>();
    for (let i = 0; i < 350; i++) {
      const rows = 2 + int(30);
      const kind = pick(kinds);
      const body = mutations[kind]!(validStream(rows), rows);
      const answer = await api("POST", path, body, headers);
      expect(answer.status, `${kind}: ${JSON.stringify(answer.body)}`).toBeGreaterThanOrEqual(400);
      expect(answer.status, `${kind}: ${JSON.stringify(answer.body)}`).toBeLessThan(500);
      expect(typeof answer.body.error?.message, kind).toBe("string");
      refused.set(kind, (refused.get(kind) ?? 0) + 1);
    }
    expect([...refused.keys()].sort()).toEqual([...kinds].sort());
    expect(await highWatermarks("fuzz", "arrow_events")).toEqual(before);
    expect((await api("GET", "/health")).status).toBe(200);
  });
});
