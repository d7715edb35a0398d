/**
 * Throws thousands of random malformed requests at the API with access
 * control on: random methods, mangled paths, bad or insufficient tokens,
 * odd headers and malformed bodies. Every answer must be a 4xx JSON error
 * with a request id, the Worker must keep serving, and no database, table,
 * row or token may change.
 */
import { describe, expect, it } from "vitest";
import { apiWithEnv, type Answer } from "./helpers.ts";
import { random } from "../fixtures.ts";

const rootToken = `fuzz-root-${"f".repeat(40)}`;
const enforcing = { FLOE_ENV: "production", FLOE_ROOT_TOKEN: rootToken };

async function asRoot(method: string, path: string, body?: unknown): Promise<any> {
  const answer = await apiWithEnv(enforcing, method, path, body, { authorization: `Bearer ${rootToken}` });
  if (answer.status >= 300) throw new Error(`${method} ${path} answered ${answer.status}: ${JSON.stringify(answer.body)}`);
  return answer.body;
}

/** Everything a malformed request could change, read as root. */
async function state(): Promise<unknown> {
  const tables = ["events", "users"];
  const watermarks = await Promise.all(
    tables.map(async (t) => (await asRoot("GET", `/databases/fuzz/tables/${t}`)).buckets.map((b: { highWatermark: number }) => b.highWatermark)),
  );
  return {
    databases: (await asRoot("GET", "/databases")).databases.map((d: { name: string }) => d.name),
    tables: (await asRoot("GET", "/databases/fuzz/tables")).tables.map((t: { name: string }) => t.name),
    tokens: (await asRoot("GET", "/tokens")).tokens,
    watermarks,
  };
}

describe("fuzzing the API with access control on", () => {
  it("answers every malformed request with a 4xx JSON error and changes nothing", async () => {
    const next = random(7);
    const pick = <T>(items: readonly T[]): T => items[Math.floor(next() * items.length)]!;
    const randomText = (length: number) => Array.from({ length }, () => String.fromCharCode(32 + Math.floor(next() * 95))).join("");

    await asRoot("PUT", "/databases/fuzz");
    await asRoot("PUT", "/databases/fuzz/tables/events", {
      columns: [{ name: "id", type: "BIGINT", nullable: false }, { name: "user", type: "STRING" }],
      bucket: { num: 2, key: ["user"] },
    });
    await asRoot("PUT", "/databases/fuzz/tables/users", {
      columns: [{ name: "id", type: "INT" }, { name: "name", type: "STRING" }],
      primaryKey: ["id"],
      bucket: { num: 2 },
    });
    await asRoot("POST", "/databases/fuzz/tables/users/rows", [{ id: 1, name: "a" }]);
    const reader = (await asRoot("POST", "/tokens", { name: "reader", scopes: ["read:fuzz.users"] })).token;
    const writer = (await asRoot("POST", "/tokens", { name: "writer", scopes: ["write:fuzz.events"] })).token;
    const revoked = await asRoot("POST", "/tokens", { name: "revoked", scopes: ["admin"] });
    await asRoot("DELETE", `/tokens/${revoked.id}`);
    const before = await state();

    // Tokens that can never do what a request asks; a scoped token only meets requests it may not
    // make, or bodies no route accepts, so every answer is an error.
    const unauthenticated = [
      undefined,
      "",
      "Bearer",
      "Bearer ",
      `Bearer ${rootToken.slice(1)}`,
      `Bearer ${rootToken}x`,
      `Basic ${btoa(`root:${rootToken}`)}`,
      `Bearer\t${rootToken}`,
      `Bearer floe_${"A".repeat(43)}`,
      `Bearer floe_${"A".repeat(42)}`,
      `Bearer ${revoked.token}`,
      () => `Bearer ${randomText(Math.floor(next() * 80))}`,
      () => `Bearer ${"x".repeat(20_000)}`,
      () => randomText(Math.floor(next() * 40)),
    ];
    const paths = [
      "/v1/databases",
      "/v1/databases/fuzz",
      "/v1/databases/fuzz/tables",
      "/v1/databases/fuzz/tables/events",
      "/v1/databases/fuzz/tables/users",
      "/v1/databases/fuzz/tables/events/rows",
      "/v1/databases/fuzz/tables/users/rows?op=delete",
      "/v1/databases/fuzz/tables/users/lookup",
      "/v1/databases/fuzz/tables/users/log?bucket=0",
      "/v1/databases/fuzz/tables/users/scan",
      "/v1/databases/fuzz/tables/users$lake/scan",
      "/v1/databases/fuzz/tables/users/subscribe",
      "/v1/databases/fuzz/tables/events/snapshots",
      "/v1/tiering/run",
      "/v1/tokens",
      `/v1/tokens/${revoked.id}`,
    ];
    const mangle = [
      (p: string) => p,
      (p: string) => `${p}/`,
      (p: string) => p.replace("/v1", pick(["/V1", "/v2", "", "/v1/", "/v1/v1"])),
      (p: string) => p.replace("fuzz", pick(["fuzz%00", "fu%2Fzz", "%66uzz", "..", "bad name", "%E0%A4%A", "d".repeat(5000), "fuzz$lake"])),
      (p: string) => p.replace(/\/[^/]*$/, `/${encodeURIComponent(randomText(1 + Math.floor(next() * 30)))}`),
      (p: string) => `${p}${p.includes("?") ? "&" : "?"}${pick(["bucket=-1", "offset=x", "limit=0", "columns=,,", "format=xml", "op=nope"])}`,
      (p: string) => `${p}/${pick(["rows", "lookup", "log", "..", "%2e%2e", "extra"])}`,
    ];
    const bodies: (() => [unknown, string | undefined])[] = [
      () => [undefined, undefined],
      () => [new Uint8Array([0, 1, ...Array.from({ length: Math.floor(next() * 64) }, () => Math.floor(next() * 256))]), pick(["application/json", "application/x-ndjson", "application/vnd.apache.arrow.stream"])],
      () => ['[{"id": 1, "user": "u"}]'.slice(0, Math.floor(next() * 23)), "application/json"],
      () => [pick(["null", "1", '"x"', "{}", "[]", "[1]", "[[]]", '[{"nope":1}]', '{"keys":1}', '{"keys":[],"prefix":{}}', '{"name":1}']), "application/json"],
      () => ["[".repeat(Math.floor(next() * 5000)), "application/json"],
      () => ['[{"id": 1, "user": "u"}]', pick(["text/csv", "multipart/form-data", "application/xml", "application/jsonx"])],
    ];
    const methods = ["GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS"];

    const statuses = new Map<number, number>();
    for (let i = 0; i < 3000; i++) {
      const roll = next();
      // Scoped tokens never GET (a read could succeed) and never send a body a route accepts.
      const [authorization, method] =
        roll < 0.15 ? [`Bearer ${reader}`, pick(methods.slice(2))] : roll < 0.3 ? [`Bearer ${writer}`, pick(methods.slice(2))] : [pick(unauthenticated), pick(methods)];
      const headers: Record<string, string> = {};
      const header = typeof authorization === "function" ? authorization() : authorization;
      if (header !== undefined) headers.authorization = header;
      const [body, type] = method === "GET" || method === "HEAD" ? [undefined, undefined] : pick(bodies)();
      if (type) headers["content-type"] = type;
      if (next() < 0.2) headers[pick(["Floe-Writer-Seq", "Floe-Writer-Id", "origin", "upgrade"])] = pick(["-1", "", "websocket", "x".repeat(300), "https://evil.example"]);
      const path = pick(mangle)(pick(paths)).replace(/^\/v1/, "");
      let answer: Answer;
      try {
        answer = await apiWithEnv(enforcing, method, path.startsWith("/") ? path : `/${path}`, body, headers);
      } catch (error) {
        throw new Error(`${method} ${path} threw: ${error}`);
      }
      const what = `${method} ${path.slice(0, 200)} (${header?.slice(0, 30)}) → ${answer.status}`;
      statuses.set(answer.status, (statuses.get(answer.status) ?? 0) + 1);
      expect(answer.status, what).toBeGreaterThanOrEqual(400);
      expect(answer.status, what).toBeLessThan(500);
      expect(answer.headers.get("Floe-Request-Id"), what).toMatch(/^[0-9a-f-]{36}$/);
      if (method !== "HEAD") {
        expect(typeof answer.body.error?.code, what).toBe("string");
        expect(typeof answer.body.error?.message, what).toBe("string");
      }
    }
    expect(await state()).toEqual(before);
    expect((await apiWithEnv(enforcing, "GET", "/health")).status).toBe(200);
    expect([...statuses.keys()]).toEqual(expect.arrayContaining([400, 401, 403, 415]));
  });
});
