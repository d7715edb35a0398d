/**
 * Throws random malformed bodies, parameters and headers at the write,
 * lookup and log routes: every answer must be a 4xx JSON error, the Worker
 * must keep serving, and no table may change.
 */
import { describe, expect, it } from "vitest";
import { api, createTable, highWatermarks, ok } from "./helpers.ts";
import { random } from "../fixtures.ts";

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
});
