/**
 * Discovery with a scoped token: `GET /v1/databases` lists the databases a
 * token holds a scope on (on the database or on a table in it), and
 * `GET /v1/databases/{db}/tables` the tables it can read there, all of them
 * for a database scope; admin and root see everything. A database the
 * token holds nothing on stays a 403, decided before any lookup.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { apiWithEnv, expectError, type Answer } from "./helpers.ts";

const rootToken = `root-${"d".repeat(40)}`;
const enforcing = { FLOE_ENV: "production", FLOE_ROOT_TOKEN: rootToken };
const definition = { columns: [{ name: "id", type: "INT" }], bucket: { num: 1 } };

function call(token: string, method: string, path: string, body?: unknown): Promise<Answer> {
  return apiWithEnv(enforcing, method, path, body, { authorization: `Bearer ${token}` });
}

async function asRoot(method: string, path: string, body?: unknown): Promise<any> {
  const answer = await call(rootToken, method, path, body);
  if (answer.status >= 300) throw new Error(`${method} ${path} answered ${answer.status}: ${JSON.stringify(answer.body)}`);
  return answer.body;
}

const tokenWith = async (...scopes: string[]): Promise<string> => (await asRoot("POST", "/tokens", { name: "t", scopes })).token;
const databaseNames = async (token: string) => {
  const answer = await call(token, "GET", "/databases");
  expect(answer.status, JSON.stringify(answer.body)).toBe(200);
  return answer.body.databases.map((d: { name: string }) => d.name);
};
const tableNames = async (token: string, db: string) => {
  const answer = await call(token, "GET", `/databases/${db}/tables`);
  expect(answer.status, JSON.stringify(answer.body)).toBe(200);
  return answer.body.tables.map((t: { name: string }) => t.name);
};

beforeAll(async () => {
  for (const [db, tables] of [["seen_a", ["t1", "t2"]], ["seen_b", ["t1", "t2"]], ["hidden", ["t1"]]] as const) {
    await asRoot("PUT", `/databases/${db}`);
    for (const table of tables) await asRoot("PUT", `/databases/${db}/tables/${table}`, definition);
  }
});

describe("a scoped token discovers what it may use", () => {
  it("lists the databases it holds a scope on or in, and in each the tables it may read", async () => {
    const token = await tokenWith("read:seen_a.t1", "write:seen_a.t9", "write:seen_b", "read:ghost.t1");
    expect(await databaseNames(token)).toEqual(["seen_a", "seen_b"]);
    expect(await tableNames(token, "seen_a")).toEqual(["t1"]);
    expect(await tableNames(token, "seen_b")).toEqual(["t1", "t2"]);
    expectError(await call(token, "GET", "/databases/hidden/tables"), 403, "forbidden", /holds no scope on database 'hidden' or its tables/);
    // A database it holds a scope in but that does not exist: as for any reader, 404.
    expectError(await call(token, "GET", "/databases/ghost/tables"), 404, "not_found");
    // Listing gives no more than that: the tables it was not granted stay closed.
    expectError(await call(token, "GET", "/databases/seen_a/tables/t2"), 403, "forbidden");
  });

  it("lists nothing for a token whose scopes name no existing database", async () => {
    expect(await databaseNames(await tokenWith("read:nowhere", "write:ghost.t"))).toEqual([]);
  });

  it("lists everything for admin and root", async () => {
    const all = ["hidden", "seen_a", "seen_b"];
    expect(await databaseNames(await tokenWith("admin"))).toEqual(all);
    expect(await databaseNames(rootToken)).toEqual(all);
    expect(await tableNames(await tokenWith("admin"), "hidden")).toEqual(["t1"]);
  });

  it("still needs a valid token", async () => {
    expectError(await apiWithEnv(enforcing, "GET", "/databases"), 401, "unauthorized");
    expectError(await call(`floe_${"Z".repeat(43)}`, "GET", "/databases/seen_a/tables"), 401, "unauthorized");
  });
});
