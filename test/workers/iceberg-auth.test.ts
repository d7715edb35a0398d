/**
 * Access control on the Iceberg REST catalog: every route against every
 * kind of caller (no token, a wrong token, a read token of the database, a
 * table's read and write tokens, a write token of another database, a
 * database writer, admin). Refusals are in the spec's shape: 401
 * NotAuthorizedException with WWW-Authenticate, 403 ForbiddenException.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { apiWithEnv } from "./helpers.ts";
import { appendCommit, appendSnapshot, eventSchema, iceberg, lakeTableDefinition } from "./iceberg-helpers.ts";
import { expectIcebergError, expectShape } from "./iceberg-spec.ts";

const rootToken = `root-${"i".repeat(40)}`;
const enforcing = { FLOE_ENV: "production", FLOE_ROOT_TOKEN: rootToken };
const bearer = (token: string | undefined): Record<string, string> => (token === undefined ? {} : { authorization: `Bearer ${token}` });
const p = "/v1/floe";
const db = "authz_ice";
const tables = `${p}/namespaces/${db}/tables`;

async function asRoot(method: string, path: string, body?: unknown): Promise<any> {
  const answer = await iceberg(method, path, body, bearer(rootToken), enforcing);
  if (answer.status >= 300) throw new Error(`${method} ${path} answered ${answer.status}: ${answer.text}`);
  return answer.body;
}

async function floeAsRoot(method: string, path: string, body?: unknown): Promise<any> {
  const answer = await apiWithEnv(enforcing, method, path, body, bearer(rootToken));
  if (answer.status >= 300) throw new Error(`${method} ${path} answered ${answer.status}: ${JSON.stringify(answer.body)}`);
  return answer.body;
}

type Need = "open" | "admin" | "readDb" | "writeDb" | "readTable" | "writeTable";

const callers: Record<string, { scopes: string[] | null; grants: Need[] | "unauthenticated" }> = {
  "no token": { scopes: null, grants: "unauthenticated" },
  "a wrong token": { scopes: null, grants: "unauthenticated" },
  "a read token of the database": { scopes: [`read:${db}`], grants: ["readDb", "readTable"] },
  "a read token of the table": { scopes: [`read:${db}.ext`], grants: ["readTable"] },
  "a write token of the table": { scopes: [`write:${db}.ext`], grants: ["readTable", "writeTable"] },
  "a write token of another database": { scopes: ["write:elsewhere"], grants: [] },
  "a write token of the database": { scopes: [`write:${db}`], grants: ["readDb", "writeDb", "readTable", "writeTable"] },
  "an admin token": { scopes: ["admin"], grants: ["admin", "readDb", "writeDb", "readTable", "writeTable"] },
};
const secrets: Record<string, string | undefined> = {};

let fresh = 0;
let registeredLocation = "";

/** Each route with the need it declares and its answer once allowed; `request` prepares what the call consumes. */
const routes: { route: string; need: Need; allowed: number; request: () => Promise<[string, string, unknown?]> }[] = [
  { route: "GET /v1/config", need: "open", allowed: 200, request: async () => ["GET", "/v1/config"] },
  { route: "POST /v1/oauth/tokens", need: "open", allowed: 400, request: async () => ["POST", "/v1/oauth/tokens", "grant_type=client_credentials"] },
  { route: "GET namespaces", need: "admin", allowed: 200, request: async () => ["GET", `${p}/namespaces`] },
  { route: "POST namespaces", need: "admin", allowed: 200, request: async () => ["POST", `${p}/namespaces`, { namespace: [`authz_new${fresh++}`] }] },
  { route: "GET namespaces/{ns}", need: "readDb", allowed: 200, request: async () => ["GET", `${p}/namespaces/${db}`] },
  { route: "HEAD namespaces/{ns}", need: "readDb", allowed: 204, request: async () => ["HEAD", `${p}/namespaces/${db}`] },
  {
    route: "DELETE namespaces/{ns}",
    need: "admin",
    allowed: 204,
    request: async () => {
      const name = `authz_gone${fresh++}`;
      await asRoot("POST", `${p}/namespaces`, { namespace: [name] });
      return ["DELETE", `${p}/namespaces/${name}`];
    },
  },
  { route: "POST namespaces/{ns}/properties", need: "writeDb", allowed: 200, request: async () => ["POST", `${p}/namespaces/${db}/properties`, { updates: { a: "1" } }] },
  { route: "GET namespaces/{ns}/tables", need: "readDb", allowed: 200, request: async () => ["GET", tables] },
  { route: "POST namespaces/{ns}/tables", need: "writeDb", allowed: 200, request: async () => ["POST", tables, { name: `created${fresh++}`, schema: eventSchema }] },
  {
    route: "POST namespaces/{ns}/register",
    need: "writeDb",
    allowed: 200,
    request: async () => ["POST", `${p}/namespaces/${db}/register`, { name: `registered${fresh++}`, "metadata-location": registeredLocation }],
  },
  { route: "GET tables/{table}", need: "readTable", allowed: 200, request: async () => ["GET", `${tables}/ext`] },
  { route: "HEAD tables/{table}", need: "readTable", allowed: 204, request: async () => ["HEAD", `${tables}/ext`] },
  {
    route: "POST tables/{table} (commit)",
    need: "writeTable",
    allowed: 200,
    request: async () => ["POST", `${tables}/ext`, { requirements: [], updates: [{ action: "set-properties", updates: { n: String(fresh++) } }] }],
  },
  {
    route: "DELETE tables/{table}",
    need: "writeDb",
    allowed: 204,
    request: async () => {
      const name = `dropped${fresh++}`;
      await asRoot("POST", tables, { name, schema: eventSchema });
      return ["DELETE", `${tables}/${name}`];
    },
  },
  { route: "POST tables/{table}/metrics", need: "readTable", allowed: 204, request: async () => ["POST", `${tables}/ext/metrics`, { "report-type": "scan-report" }] },
  { route: "GET tables/{table}/credentials", need: "readTable", allowed: 200, request: async () => ["GET", `${tables}/ext/credentials`] },
  {
    route: "POST tables/rename",
    need: "writeDb",
    allowed: 204,
    request: async () => {
      const name = `renamed${fresh++}`;
      await asRoot("POST", tables, { name, schema: eventSchema });
      return ["POST", `${p}/tables/rename`, { source: { namespace: [db], name }, destination: { namespace: [db], name: `${name}_to` } }];
    },
  },
  {
    route: "POST transactions/commit",
    need: "writeTable",
    allowed: 204,
    request: async () => [
      "POST",
      `${p}/transactions/commit`,
      { "table-changes": [{ identifier: { namespace: [db], name: "ext" }, requirements: [], updates: [{ action: "set-properties", updates: { t: String(fresh++) } }] }] },
    ],
  },
  { route: "a path no route takes", need: "admin", allowed: 404, request: async () => ["GET", "/v1/nothing/here"] },
];

beforeAll(async () => {
  await floeAsRoot("PUT", `/databases/${db}`);
  await floeAsRoot("PUT", `/databases/${db}/tables/floe_table`, lakeTableDefinition);
  const created = await asRoot("POST", tables, { name: "ext", schema: eventSchema });
  await asRoot("POST", `${tables}/ext`, appendCommit(appendSnapshot(1, 1), null));
  registeredLocation = created["metadata-location"];
  secrets["a wrong token"] = `${rootToken.slice(0, -1)}x`;
  for (const [caller, { scopes }] of Object.entries(callers)) {
    if (scopes === null) continue;
    secrets[caller] = (await floeAsRoot("POST", "/tokens", { name: caller, scopes })).token;
  }
});

describe("every Iceberg route against every caller", () => {
  const cases = routes.flatMap((route) => Object.keys(callers).map((caller) => [route.route, caller] as const));

  it.each(cases)("%s by %s", async (routeName, caller) => {
    const route = routes.find((r) => r.route === routeName)!;
    const { grants } = callers[caller]!;
    const [method, path, body] = await route.request();
    const headers = typeof body === "string" ? { ...bearer(secrets[caller]), "content-type": "application/x-www-form-urlencoded" } : bearer(secrets[caller]);
    const answer = await iceberg(method, path, body, headers, enforcing);
    const expected = route.need === "open" ? route.allowed : grants === "unauthenticated" ? 401 : grants.includes(route.need) ? route.allowed : 403;
    expect(answer.status, answer.text).toBe(expected);
    if (method === "HEAD") return;
    if (expected === 401) {
      expectIcebergError(answer, 401, "NotAuthorizedException");
      expect(answer.headers.get("WWW-Authenticate")).toBe('Bearer realm="floe"');
    } else if (expected === 403) {
      expectIcebergError(answer, 403, "ForbiddenException", /does not grant/);
    } else if (expected === 404) {
      expectIcebergError(answer, 404, "NotFoundException");
    } else if (route.route.includes("oauth")) {
      expectShape(answer.body, "OAuthError");
    }
  });
});

describe("scopes on the catalog", () => {
  it("lets a table's writer commit to its table but not to another, nor create or drop tables", async () => {
    const writer = (await floeAsRoot("POST", "/tokens", { name: "w", scopes: [`write:${db}.ext`] })).token;
    const commit = { requirements: [], updates: [{ action: "set-properties", updates: { w: "1" } }] };
    expect((await iceberg("POST", `${tables}/ext`, commit, bearer(writer), enforcing)).status).toBe(200);
    expectIcebergError(await iceberg("POST", `${tables}/other`, commit, bearer(writer), enforcing), 403, "ForbiddenException", /write:authz_ice\.other/);
    expectIcebergError(await iceberg("POST", tables, { name: "x", schema: eventSchema }, bearer(writer), enforcing), 403, "ForbiddenException");
    expectIcebergError(await iceberg("DELETE", `${tables}/ext`, undefined, bearer(writer), enforcing), 403, "ForbiddenException");
  });

  it("refuses before looking anything up, so a 403 does not tell whether a table exists", async () => {
    const reader = secrets["a read token of the table"];
    expectIcebergError(await iceberg("GET", `${tables}/nothing`, undefined, bearer(reader), enforcing), 403, "ForbiddenException");
    expectIcebergError(await iceberg("GET", `${p}/namespaces/nowhere/tables/ext`, undefined, bearer(reader), enforcing), 403, "ForbiddenException");
  });

  it("refuses a transaction naming any table the token does not write, before reading the tables", async () => {
    const writer = secrets["a write token of the table"];
    const change = (name: string) => ({ identifier: { namespace: [db], name }, requirements: [], updates: [{ action: "set-properties", updates: { x: "1" } }] });
    const before = (await asRoot("GET", `${tables}/ext`))["metadata-location"];
    const answer = await iceberg("POST", `${p}/transactions/commit`, { "table-changes": [change("ext"), change("floe_table")] }, bearer(writer), enforcing);
    expectIcebergError(answer, 403, "ForbiddenException", /floe_table/);
    expect((await asRoot("GET", `${tables}/ext`))["metadata-location"]).toBe(before);
  });

  it("answers 401 to a body route without a token before reading its body", async () => {
    expectIcebergError(await iceberg("POST", `${p}/transactions/commit`, "{not json", { "content-type": "application/json" }, enforcing), 401, "NotAuthorizedException");
  });

  it("vends R2 credentials to admins only, since the key cannot be narrowed to one table", async () => {
    const deployed = { ...enforcing, R2_S3_ENDPOINT: "https://acct.r2.cloudflarestorage.com", R2_ACCESS_KEY_ID: "key-id", R2_SECRET_ACCESS_KEY: "key-secret" };
    const asks = { "X-Iceberg-Access-Delegation": "vended-credentials" };
    const reader = await iceberg("GET", `${tables}/ext`, undefined, { ...asks, ...bearer(secrets["a read token of the database"]) }, deployed);
    expect(reader.status).toBe(200);
    expect(reader.body["storage-credentials"]).toBeUndefined();
    expect(reader.body.config["s3.endpoint"]).toBe("https://acct.r2.cloudflarestorage.com");
    expect(JSON.stringify(reader.body)).not.toContain("key-secret");
    const admin = await iceberg("GET", `${tables}/ext`, undefined, { ...asks, ...bearer(secrets["an admin token"]) }, deployed);
    expect(admin.body["storage-credentials"]).toHaveLength(1);
    const readerCredentials = await iceberg("GET", `${tables}/ext/credentials`, undefined, bearer(secrets["a read token of the database"]), deployed);
    expect(readerCredentials.body).toEqual({ "storage-credentials": [] });
  });

  it("answers 503 in the spec's shape when deployed without a root token", async () => {
    expectIcebergError(await iceberg("GET", `${p}/namespaces`, undefined, {}, { FLOE_ENV: "production" }), 503, "ServiceUnavailableException", /FLOE_ROOT_TOKEN/);
  });
});
