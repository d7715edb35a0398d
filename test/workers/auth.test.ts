/**
 * Access control: every route against every kind of caller (no token, a
 * wrong, unknown or revoked token, tokens scoped to the table, another
 * table or the database, read-only or read-write, admin and root), then the
 * token routes, the access modes, CORS and the error log lines.
 *
 * These tests turn access control on by calling the Worker with
 * FLOE_ROOT_TOKEN set and FLOE_ENV not "development"; the rest of the suite
 * runs open, as `npm start` does.
 */
import { afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { apiWithEnv, base, clientRequest, expectError, fetchWithEnv, waitFor, type Answer } from "./helpers.ts";
import { websocketAuth } from "../../src/vocabulary.ts";
import { UpgradeRefused, subscribe, type SubscriptionError } from "../../src/client/subscribe.ts";

const rootToken = `root-${"r".repeat(40)}`;
const enforcing = { FLOE_ENV: "production", FLOE_ROOT_TOKEN: rootToken };
const requestIdPattern = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

const bearer = (token: string | undefined): Record<string, string> => (token === undefined ? {} : { authorization: `Bearer ${token}` });

function call(token: string | undefined, method: string, path: string, body?: unknown): Promise<Answer> {
  return apiWithEnv(enforcing, method, path, body, bearer(token));
}

async function asRoot(method: string, path: string, body?: unknown): Promise<any> {
  const answer = await call(rootToken, method, path, body);
  if (answer.status >= 300) throw new Error(`${method} ${path} answered ${answer.status}: ${JSON.stringify(answer.body)}`);
  return answer.body;
}

async function newToken(...scopes: string[]): Promise<{ id: string; token: string }> {
  return asRoot("POST", "/tokens", { name: `test ${scopes.join(" ")}`, scopes });
}

const usersDefinition = {
  columns: [{ name: "id", type: "INT" }, { name: "name", type: "STRING" }],
  primaryKey: ["id"],
  bucket: { num: 2 },
};

/** `token`: any valid token; `seeDb`: a scope on database `authz` or on a table in it. */
type Need = "open" | "token" | "admin" | "seeDb" | "readDb" | "writeDb" | "readTable" | "writeTable";

/** What each caller's token grants on database `authz` and its table `users` (every valid token has `token`). */
const callers: Record<string, { grants: Need[] | "unauthenticated" }> = {
  "no token": { grants: "unauthenticated" },
  "a wrong root token": { grants: "unauthenticated" },
  "an unknown token": { grants: "unauthenticated" },
  "a revoked token": { grants: "unauthenticated" },
  "another table's token": { grants: ["token", "seeDb"] },
  "another database's token": { grants: ["token"] },
  "a read-only table token": { grants: ["token", "seeDb", "readTable"] },
  "a table write token": { grants: ["token", "seeDb", "readTable", "writeTable"] },
  "a read-only database token": { grants: ["token", "seeDb", "readDb", "readTable"] },
  "a database write token": { grants: ["token", "seeDb", "readDb", "writeDb", "readTable", "writeTable"] },
  "an admin token": { grants: ["token", "admin", "seeDb", "readDb", "writeDb", "readTable", "writeTable"] },
  "the root token": { grants: ["token", "admin", "seeDb", "readDb", "writeDb", "readTable", "writeTable"] },
};
const secrets: Record<string, string | undefined> = {};

let fresh = 0;
const table = "/databases/authz/tables/users";

/** Each route with the scope it needs and its answer once allowed; `request` prepares whatever the call consumes. */
const routes: { route: string; need: Need; allowed: number; request: () => Promise<[string, string, unknown?]> }[] = [
  { route: "GET /v1/health", need: "open", allowed: 200, request: async () => ["GET", "/health"] },
  { route: "GET /v1/databases", need: "token", allowed: 200, request: async () => ["GET", "/databases"] },
  { route: "PUT /v1/databases/{db}", need: "admin", allowed: 201, request: async () => ["PUT", `/databases/authz_new${fresh++}`] },
  {
    route: "DELETE /v1/databases/{db}",
    need: "admin",
    allowed: 200,
    request: async () => {
      const name = `authz_gone${fresh++}`;
      await asRoot("PUT", `/databases/${name}`);
      return ["DELETE", `/databases/${name}`];
    },
  },
  { route: "GET .../tables", need: "seeDb", allowed: 200, request: async () => ["GET", "/databases/authz/tables"] },
  { route: "PUT .../tables/{table}", need: "writeTable", allowed: 200, request: async () => ["PUT", table, usersDefinition] },
  { route: "GET .../tables/{table}", need: "readTable", allowed: 200, request: async () => ["GET", table] },
  {
    route: "DELETE .../tables/{table}",
    need: "writeDb",
    allowed: 200,
    request: async () => {
      const name = `gone${fresh++}`;
      await asRoot("PUT", `/databases/authz/tables/${name}`, usersDefinition);
      return ["DELETE", `/databases/authz/tables/${name}`];
    },
  },
  { route: "POST .../rows", need: "writeTable", allowed: 200, request: async () => ["POST", `${table}/rows`, [{ id: 2, name: "b" }]] },
  { route: "POST .../lookup", need: "readTable", allowed: 200, request: async () => ["POST", `${table}/lookup`, { keys: [{ id: 1 }] }] },
  { route: "GET .../log", need: "readTable", allowed: 200, request: async () => ["GET", `${table}/log?bucket=0`] },
  { route: "GET .../scan", need: "readTable", allowed: 200, request: async () => ["GET", `${table}/scan?source=hot`] },
  { route: "GET .../snapshots", need: "readTable", allowed: 200, request: async () => ["GET", `${table}/snapshots`] },
  { route: "GET .../subscribe (upgrade)", need: "readTable", allowed: 101, request: async () => ["GET", `${table}/subscribe`] },
  { route: "POST /v1/tiering/run", need: "admin", allowed: 200, request: async () => ["POST", "/tiering/run"] },
  { route: "GET /v1/metrics", need: "admin", allowed: 200, request: async () => ["GET", "/metrics?database=authz"] },
  { route: "GET /v1/tokens", need: "admin", allowed: 200, request: async () => ["GET", "/tokens"] },
  { route: "POST /v1/tokens", need: "admin", allowed: 201, request: async () => ["POST", "/tokens", { name: "t", scopes: ["read:authz"] }] },
  {
    route: "DELETE /v1/tokens/{id}",
    need: "admin",
    allowed: 200,
    request: async () => ["DELETE", `/tokens/${(await newToken("read:authz")).id}`],
  },
  { route: "a route no rule names", need: "admin", allowed: 404, request: async () => ["GET", "/nothing/here"] },
];

/** Sends the request; an upgrade's socket is accepted and closed so no subscription outlives the call. */
async function send(method: string, path: string, body: unknown, headers: Record<string, string>, bindings: Record<string, string> = enforcing): Promise<Response> {
  const upgrade: Record<string, string> = path.endsWith("/subscribe") ? { upgrade: "websocket" } : {};
  const response = await fetchWithEnv(bindings, clientRequest(method, path, body, { ...headers, ...upgrade }));
  if (response.webSocket) {
    response.webSocket.accept();
    response.webSocket.close(1000, "done");
  }
  return response;
}

beforeAll(async () => {
  await asRoot("PUT", "/databases/authz");
  await asRoot("PUT", table, usersDefinition);
  await asRoot("PUT", "/databases/authz/tables/other", usersDefinition);
  await asRoot("POST", `${table}/rows`, [{ id: 1, name: "a" }]);
  secrets["the root token"] = rootToken;
  secrets["a wrong root token"] = `${rootToken.slice(0, -1)}s`;
  secrets["an unknown token"] = `floe_${"A".repeat(43)}`;
  secrets["another table's token"] = (await newToken("write:authz.other")).token;
  secrets["another database's token"] = (await newToken("write:elsewhere")).token;
  secrets["a read-only table token"] = (await newToken("read:authz.users")).token;
  secrets["a table write token"] = (await newToken("write:authz.users")).token;
  secrets["a read-only database token"] = (await newToken("read:authz")).token;
  secrets["a database write token"] = (await newToken("write:authz")).token;
  secrets["an admin token"] = (await newToken("admin")).token;
  const revoked = await newToken("admin");
  await asRoot("DELETE", `/tokens/${revoked.id}`);
  secrets["a revoked token"] = revoked.token;
});

describe("every route against every caller", () => {
  const cases = routes.flatMap((route) => Object.keys(callers).map((caller) => [route.route, caller] as const));

  it.each(cases)("%s by %s", async (routeName, caller) => {
    const route = routes.find((r) => r.route === routeName)!;
    const { grants } = callers[caller]!;
    const [method, path, body] = await route.request();
    const response = await send(method, path, body, bearer(secrets[caller]));
    const expected =
      route.need === "open" ? route.allowed : grants === "unauthenticated" ? 401 : grants.includes(route.need) ? route.allowed : 403;
    const text = response.status === 101 ? "" : await response.text();
    expect(response.status, text).toBe(expected);
    expect(response.headers.get("Floe-Request-Id")).toMatch(requestIdPattern);
    if (expected === 401 || expected === 403) {
      expect(JSON.parse(text).error.code).toBe(expected === 401 ? "unauthorized" : "forbidden");
    }
    if (expected === 401) expect(response.headers.get("WWW-Authenticate")).toBe('Bearer realm="floe"');
  });
});

describe("scopes", () => {
  it("lets a table's writer create its table but not drop it", async () => {
    const writer = (await newToken("write:authz.mine")).token;
    expect((await call(writer, "PUT", "/databases/authz/tables/mine", usersDefinition)).status).toBe(201);
    expectError(await call(writer, "DELETE", "/databases/authz/tables/mine"), 403, "forbidden", /does not grant write:authz$/);
    expect((await call(secrets["a database write token"], "DELETE", "/databases/authz/tables/mine")).status).toBe(200);
  });

  it("refuses before looking anything up, so a 403 does not tell whether a table exists", async () => {
    const reader = secrets["a read-only table token"];
    expectError(await call(reader, "GET", "/databases/authz/tables/nothing"), 403, "forbidden", /read:authz\.nothing/);
    expectError(await call(reader, "GET", "/databases/nowhere/tables/users"), 403, "forbidden");
    expectError(await call(rootToken, "GET", "/databases/authz/tables/nothing"), 404, "not_found");
  });

  it("reads a table's lake side with the table's scope", async () => {
    const reader = secrets["a read-only table token"];
    expect((await call(reader, "GET", `/databases/authz/tables/users$lake/scan`)).status).not.toBe(403);
    expectError(await call(reader, "GET", `/databases/authz/tables/other$lake/scan`), 403, "forbidden");
  });

  it("decodes percent-encoded names the way the router does", async () => {
    const reader = secrets["a read-only table token"];
    expect((await call(reader, "GET", "/databases/auth%7A/tables/user%73/log?bucket=0")).status).toBe(200);
    expectError(await call(reader, "GET", "/databases/authz/tables/users%2Fx/log?bucket=0"), 403, "forbidden");
    expectError(await call(reader, "GET", "/databases/authz/tables/%E0%A4%A/log"), 403, "forbidden");
  });

  it("takes the scheme in any case and refuses other schemes", async () => {
    const reader = secrets["a read-only table token"]!;
    expect((await apiWithEnv(enforcing, "GET", table, undefined, { authorization: `bearer ${reader}` })).status).toBe(200);
    for (const authorization of [`Basic ${btoa(`x:${reader}`)}`, "Bearer", "Bearer ", `Bearer ${reader} extra`, reader]) {
      expectError(await apiWithEnv(enforcing, "GET", table, undefined, { authorization }), 401, "unauthorized");
    }
  });
});

describe("WebSocket tokens", () => {
  it("takes a subscription's token from the floe.bearer subprotocol, and selects the floe subprotocol", async () => {
    const reader = secrets["a read-only table token"]!;
    const offer = (token: string) => ({ "sec-websocket-protocol": websocketAuth.protocolsFor(token).join(", ") });
    const accepted = await send("GET", `${table}/subscribe`, undefined, offer(reader));
    expect(accepted.status).toBe(101);
    expect(accepted.headers.get("sec-websocket-protocol")).toBe("floe");
    expect((await send("GET", `${table}/subscribe`, undefined, offer(rootToken))).status).toBe(101);
    expect((await send("GET", `${table}/subscribe`, undefined, offer("unknown-token"))).status).toBe(401);
    expect((await send("GET", `${table}/subscribe`, undefined, { "sec-websocket-protocol": "floe, floe.bearer.%%%" })).status).toBe(401);
    expect((await send("GET", `${table}/subscribe`, undefined, offer(secrets["another table's token"]!))).status).toBe(403);
    // Outside an upgrade, only the Authorization header counts.
    expectError(await apiWithEnv(enforcing, "GET", table, undefined, offer(reader)), 401, "unauthorized");
  });

  it("lets the subscription client carry its token", async () => {
    const rows: unknown[] = [];
    const subscription = subscribe({
      url: `${base}${table}/subscribe`,
      from: "earliest",
      token: secrets["a read-only table token"]!,
      onBatch: (batch) => void rows.push(...batch.rows!),
      connect: async (url, protocols) => {
        const response = await fetchWithEnv(enforcing, new Request(url, { headers: { upgrade: "websocket", "sec-websocket-protocol": protocols!.join(", ") } }));
        response.webSocket!.accept();
        return response.webSocket!;
      },
    });
    const hasFirstRow = () => rows.some((row) => (row as { id: number }).id === 1);
    await waitFor(hasFirstRow, "the first row");
    subscription.close();
    expect(rows).toContainEqual(expect.objectContaining({ id: 1, name: "a" }));
  });

  it("ends the client's subscription when the upgrade is refused for its token (401, 403), with the server's message", async () => {
    const cases: [string, number, string, RegExp][] = [
      ["unknown-token", 401, "unauthorized", /not valid/],
      [secrets["another table's token"]!, 403, "forbidden", /does not grant read:authz.users/],
    ];
    for (const [token, status, code, message] of cases) {
      const errors: SubscriptionError[] = [];
      const subscription = subscribe({
        url: `${base}${table}/subscribe`,
        from: "earliest",
        token,
        onBatch: () => {},
        onError: (error) => errors.push(error),
        connect: async (url, protocols) => {
          const response = await fetchWithEnv(enforcing, new Request(url, { headers: { upgrade: "websocket", "sec-websocket-protocol": protocols!.join(", ") } }));
          if (!response.webSocket) throw await UpgradeRefused.from(response);
          response.webSocket.accept();
          return response.webSocket;
        },
      });
      await subscription.closed;
      expect(errors).toEqual([{ status, code, message: expect.stringMatching(message) }]);
    }
  });

  it("closes a subscription once the token it was opened with is revoked", async () => {
    const { id, token } = await newToken("read:authz.users");
    const response = await fetchWithEnv(enforcing, clientRequest("GET", `${table}/subscribe`, undefined, { upgrade: "websocket", ...bearer(token) }));
    const ws = response.webSocket!;
    ws.accept();
    const messages: any[] = [];
    let closed = false;
    ws.addEventListener("message", (e) => messages.push(typeof e.data === "string" && e.data !== "pong" ? JSON.parse(e.data) : e.data));
    ws.addEventListener("close", () => (closed = true));
    ws.send(JSON.stringify({ from: "latest" }));
    ws.send("ping");
    await waitFor(() => messages.includes("pong"), "the pong");
    expect(closed).toBe(false);
    await asRoot("DELETE", `/tokens/${id}`);
    ws.send("ping");
    await waitFor(() => closed, "the close");
    expect(messages.find((m) => m?.type === "error")).toMatchObject({ error: { code: "unauthorized", message: expect.stringMatching(/revoked/) } });
  });

  it("round-trips any token through the subprotocol encoding", () => {
    for (const token of [rootToken, "a+b/c==", "floe_xyz-_", "ünï"]) {
      const [protocol, carrier] = websocketAuth.protocolsFor(token);
      expect(protocol).toBe("floe");
      expect(carrier).toMatch(/^floe\.bearer\.[A-Za-z0-9_-]+$/);
      expect(websocketAuth.tokenOf(`floe, ${carrier}`)).toBe(token);
    }
  });
});

describe("the token routes", () => {
  it("answer a new token's secret once, and never list it", async () => {
    const created = await asRoot("POST", "/tokens", { name: "ingest", scopes: ["write:authz.users", "read:authz"] });
    expect(created).toMatchObject({ name: "ingest", scopes: ["write:authz.users", "read:authz"] });
    expect(created.token).toMatch(/^floe_[A-Za-z0-9_-]{43}$/);
    expect(created.createdAt).toMatch(/^\d{4}-\d\d-\d\dT/);
    const listed = await asRoot("GET", "/tokens");
    expect(listed.tokens.find((t: { id: string }) => t.id === created.id)).toEqual({
      id: created.id,
      name: "ingest",
      scopes: ["write:authz.users", "read:authz"],
      createdAt: created.createdAt,
      createdBy: "root",
    });
    expect(JSON.stringify(listed)).not.toContain(created.token);
    expect(JSON.stringify(listed)).not.toMatch(/floe_|sha|hash|secret/i);
  });

  it("revoke a token at once, and answer 404 for an unknown one", async () => {
    const { id, token } = await newToken("read:authz");
    expect((await call(token, "GET", table)).status).toBe(200);
    expect(await asRoot("DELETE", `/tokens/${id}`)).toEqual({ id, revoked: true });
    expectError(await call(token, "GET", table), 401, "unauthorized", /unknown, revoked/);
    expectError(await call(rootToken, "DELETE", `/tokens/${id}`), 404, "not_found");
    expect((await asRoot("GET", "/tokens")).tokens.map((t: { id: string }) => t.id)).not.toContain(id);
  });

  it.each([
    ["no scopes", { name: "x", scopes: [] }, /1\.\.100 scopes/],
    ["too many scopes", { name: "x", scopes: Array.from({ length: 101 }, () => "read:a") }, /1\.\.100 scopes/],
    ["a bad scope", { name: "x", scopes: ["delete:authz"] }, /a scope is admin, read:<db>/],
    ["a bad database name", { name: "x", scopes: ["read:bad name"] }, /scope database name must match/],
    ["a table scope with a dot too many", { name: "x", scopes: ["read:a.b.c"] }, /scope table name must match/],
    ["a scope that is not a string", { name: "x", scopes: [{ admin: true }] }, /a scope is/],
    ["no name", { scopes: ["admin"] }, /token name is 1\.\.128 characters/],
    ["a name too long", { name: "n".repeat(129), scopes: ["admin"] }, /token name is 1\.\.128 characters/],
    ["a control character in the name", { name: "a\nb", scopes: ["admin"] }, /no control characters/],
    ["an unknown field", { name: "x", scopes: ["admin"], expires: 1 }, /unknown field 'expires'/],
    ["not an object", ["admin"], /a token request is/],
  ])("refuse %s", async (_what, body, message) => {
    expectError(await call(rootToken, "POST", "/tokens", body), 400, "bad_request", message);
  });

  it("take a name of exactly 128 characters and exactly 100 scopes", async () => {
    const body = { name: "n".repeat(128), scopes: Array.from({ length: 100 }, (_, i) => `read:db${i}`) };
    expect((await call(rootToken, "POST", "/tokens", body)).status).toBe(201);
  });
});

describe("access modes", () => {
  it("runs open only for callers that are not web pages of other origins", async () => {
    const open = { FLOE_ENV: "development" };
    const evil = { origin: "https://evil.example" };
    expectError(await apiWithEnv(open, "POST", `${table}/rows`, [{ id: 9, name: "x" }], evil), 403, "forbidden", /runs open.*FLOE_CORS_ORIGINS/);
    expect((await send("GET", `${table}/subscribe`, undefined, evil, open)).status).toBe(403);
    expect((await apiWithEnv(open, "GET", `${table}/log?bucket=0`)).status).toBe(200);
    expect((await apiWithEnv(open, "GET", "/health", undefined, evil)).status).toBe(200);
    const listed = { ...open, FLOE_CORS_ORIGINS: "https://app.example" };
    expect((await apiWithEnv(listed, "GET", `${table}/log?bucket=0`, undefined, { origin: "https://app.example" })).status).toBe(200);
    expectError(await apiWithEnv(listed, "GET", `${table}/log?bucket=0`, undefined, evil), 403, "forbidden");
  });

  it("refuses every data route with 503 when deployed without a root token, and keeps health open", async () => {
    const unconfigured: Record<string, string>[] = [{ FLOE_ENV: "production" }, { FLOE_ENV: "" }, { FLOE_ENV: "production", FLOE_ROOT_TOKEN: "" }];
    for (const env of unconfigured) {
      expectError(await apiWithEnv(env, "GET", "/databases"), 503, "unavailable", /no FLOE_ROOT_TOKEN.*wrangler secret put FLOE_ROOT_TOKEN/);
      expectError(await apiWithEnv(env, "GET", `${table}/log?bucket=0`, undefined, bearer(rootToken)), 503, "unavailable");
      const health = await apiWithEnv(env, "GET", "/health");
      expect(health.status).toBe(200);
      expect(health.body.access).toBe("unconfigured");
    }
  });

  it("refuses a root token too short to be safe", async () => {
    const short = { FLOE_ENV: "production", FLOE_ROOT_TOKEN: "r".repeat(31) };
    expectError(await apiWithEnv(short, "GET", "/databases", undefined, bearer("r".repeat(31))), 503, "unavailable", /shorter than 32/);
    const enough = { FLOE_ENV: "production", FLOE_ROOT_TOKEN: "r".repeat(32) };
    expect((await apiWithEnv(enough, "GET", "/databases", undefined, bearer("r".repeat(32)))).status).toBe(200);
  });

  it("runs open only in development without a root token", async () => {
    const open = await apiWithEnv({ FLOE_ENV: "development" }, "GET", "/databases");
    expect(open.status).toBe(200);
    expect((await apiWithEnv({ FLOE_ENV: "development" }, "GET", "/health")).body.access).toBe("open");
    const devWithRoot = { FLOE_ENV: "development", FLOE_ROOT_TOKEN: rootToken };
    expectError(await apiWithEnv(devWithRoot, "GET", "/databases"), 401, "unauthorized");
    expect((await apiWithEnv(devWithRoot, "GET", "/health")).body.access).toBe("tokens");
  });

  it("refuses token management while open, so no token minted by anyone outlives the switch to tokens", async () => {
    const open = { FLOE_ENV: "development" };
    const { id } = await newToken("read:authz");
    const before = (await asRoot("GET", "/tokens")).tokens;
    const attempts: [string, string, unknown?][] = [
      ["POST", "/tokens", { name: "sneaky", scopes: ["admin"] }],
      ["GET", "/tokens"],
      ["DELETE", `/tokens/${id}`],
    ];
    for (const [method, path, body] of attempts) {
      expectError(await apiWithEnv(open, method, path, body), 403, "forbidden", /tokens need FLOE_ROOT_TOKEN/);
    }
    expect((await asRoot("GET", "/tokens")).tokens).toEqual(before);
  });
});

describe("CORS", () => {
  const origin = "https://app.example";
  const withCors = { ...enforcing, FLOE_CORS_ORIGINS: `https://other.example, ${origin}` };

  it("answers a preflight from an allowed origin without a token", async () => {
    const preflight = await fetchWithEnv(
      withCors,
      clientRequest("OPTIONS", `${table}/rows`, undefined, {
        origin,
        "access-control-request-method": "POST",
        "access-control-request-headers": "authorization, content-type",
      }),
    );
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get("access-control-allow-origin")).toBe(origin);
    expect(preflight.headers.get("access-control-allow-headers")).toMatch(/Authorization/);
    expect(preflight.headers.get("access-control-allow-methods")).toMatch(/POST/);
  });

  it("lets the browser read Floe headers, and still checks the token", async () => {
    const reader = secrets["a read-only table token"];
    const answer = await apiWithEnv(withCors, "GET", `${table}/log?bucket=0`, undefined, { ...bearer(reader), origin });
    expect(answer.status).toBe(200);
    expect(answer.headers.get("access-control-allow-origin")).toBe(origin);
    expect(answer.headers.get("access-control-expose-headers")).toMatch(/Floe-Request-Id/);
    expect(answer.headers.get("access-control-expose-headers")).toMatch(/Floe-Next-Offset/);
    expectError(await apiWithEnv(withCors, "GET", `${table}/log?bucket=0`, undefined, { origin }), 401, "unauthorized");
  });

  it("sends no CORS header to other origins, nor to any origin by default", async () => {
    const stranger = await apiWithEnv(withCors, "GET", "/health", undefined, { origin: "https://evil.example" });
    expect(stranger.headers.get("access-control-allow-origin")).toBeNull();
    const byDefault = await apiWithEnv(enforcing, "GET", "/health", undefined, { origin });
    expect(byDefault.headers.get("access-control-allow-origin")).toBeNull();
    const preflight = await apiWithEnv(enforcing, "OPTIONS", "/databases", undefined, { origin, "access-control-request-method": "GET" });
    expect(preflight.status).toBe(401);
  });

  it("allows every origin with *", async () => {
    const answer = await apiWithEnv({ ...enforcing, FLOE_CORS_ORIGINS: "*" }, "GET", "/health", undefined, { origin });
    expect(answer.headers.get("access-control-allow-origin")).toBe("*");
  });
});

describe("error log lines", () => {
  afterEach(() => vi.restoreAllMocks());

  it("are one JSON line per error, with the answer's request id, and never a secret", async () => {
    const lines: string[] = [];
    for (const level of ["log", "warn", "error"] as const) {
      vi.spyOn(console, level).mockImplementation((...args: unknown[]) => void lines.push(args.map(String).join(" ")));
    }
    const answers = [
      await call(undefined, "GET", table),
      await call(secrets["an unknown token"], "GET", table),
      await call(secrets["a read-only table token"], "POST", `${table}/rows`, [{ id: 3 }]),
      await call(secrets["a revoked token"], "GET", "/tokens"),
      await call(rootToken, "DELETE", `/tokens/${secrets["a read-only table token"]}`),
      await call(rootToken, "GET", `/databases/authz/tables/${secrets["an admin token"]}`),
      await call(rootToken, "POST", `${table}/rows`, "[{"),
    ];
    const failures = lines.map((line) => JSON.parse(line)).filter((entry) => entry.event === "request_failed");
    expect(failures.map((f) => f.requestId)).toEqual(answers.map((a) => a.headers.get("Floe-Request-Id")));
    expect(failures.map((f) => f.status)).toEqual(answers.map((a) => a.status));
    for (const failure of failures) expect(Object.keys(failure)).toEqual(expect.arrayContaining(["method", "path", "code", "message"]));
    const everything = lines.join("\n");
    for (const secret of Object.values(secrets)) if (secret) expect(everything).not.toContain(secret);
  });
});
