/**
 * Scopes bind to what they were granted on, not only to its name: dropping
 * a database or a table ends every grant naming it, so a database or table
 * re-created under the same name starts with no token holding anything on
 * it, on `/v1` and on the Iceberg catalog alike. Grants on other names,
 * and on names that do not exist yet, are untouched.
 */
import { describe, expect, it } from "vitest";
import { apiWithEnv, type Answer } from "./helpers.ts";
import { eventSchema, iceberg } from "./iceberg-helpers.ts";

const rootToken = `root-${"s".repeat(40)}`;
const enforcing = { FLOE_ENV: "production", FLOE_ROOT_TOKEN: rootToken };
const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
const definition = { columns: [{ name: "id", type: "INT" }], bucket: { num: 1 } };

function call(token: string, method: string, path: string, body?: unknown): Promise<Answer> {
  return apiWithEnv(enforcing, method, path, body, bearer(token));
}

async function asRoot(method: string, path: string, body?: unknown): Promise<any> {
  const answer = await call(rootToken, method, path, body);
  if (answer.status >= 300) throw new Error(`${method} ${path} answered ${answer.status}: ${JSON.stringify(answer.body)}`);
  return answer.body;
}

async function icebergAsRoot(method: string, path: string, body?: unknown): Promise<void> {
  const answer = await iceberg(method, path, body, bearer(rootToken), enforcing);
  if (answer.status >= 300) throw new Error(`${method} ${path} answered ${answer.status}: ${answer.text}`);
}

async function tokenWith(...scopes: string[]): Promise<{ id: string; token: string }> {
  return asRoot("POST", "/tokens", { name: scopes.join(" "), scopes });
}

async function scopesOf(id: string): Promise<string[]> {
  return (await asRoot("GET", "/tokens")).tokens.find((t: { id: string }) => t.id === id).scopes;
}

describe("a dropped and re-created database", () => {
  it("is not reached by the grants on the dropped one", async () => {
    await asRoot("PUT", "/databases/ident");
    await asRoot("PUT", "/databases/ident/tables/t", definition);
    const reader = await tokenWith("read:ident", "read:elsewhere");
    const tableWriter = await tokenWith("write:ident.t");
    expect((await call(reader.token, "GET", "/databases/ident/tables/t")).status).toBe(200);
    expect((await call(tableWriter.token, "POST", "/databases/ident/tables/t/rows", [{ id: 1 }])).status).toBe(200);

    await asRoot("DELETE", "/databases/ident/tables/t");
    await asRoot("DELETE", "/databases/ident");
    await asRoot("PUT", "/databases/ident");
    await asRoot("PUT", "/databases/ident/tables/t", definition);

    expect((await call(reader.token, "GET", "/databases/ident/tables/t")).status).toBe(403);
    expect((await call(reader.token, "GET", "/databases/ident/tables")).status).toBe(403);
    expect((await call(tableWriter.token, "POST", "/databases/ident/tables/t/rows", [{ id: 2 }])).status).toBe(403);
    expect(await scopesOf(reader.id)).toEqual(["read:elsewhere"]);
    expect(await scopesOf(tableWriter.id)).toEqual([]);
  });

  it("ends no grant when the drop does not happen (tables left, or no such database)", async () => {
    await asRoot("PUT", "/databases/kept");
    await asRoot("PUT", "/databases/kept/tables/t", definition);
    const reader = await tokenWith("read:kept", "write:later");
    expect((await call(rootToken, "DELETE", "/databases/kept")).status).toBe(409);
    expect((await call(rootToken, "DELETE", "/databases/later")).status).toBe(404);
    expect(await scopesOf(reader.id)).toEqual(["read:kept", "write:later"]);
    expect((await call(reader.token, "GET", "/databases/kept/tables/t")).status).toBe(200);
    // A grant on a name that did not exist yet holds once it is created.
    await asRoot("PUT", "/databases/later");
    expect((await call(reader.token, "PUT", "/databases/later/tables/t", definition)).status).toBe(201);
  });
});

describe("a dropped and re-created table", () => {
  it("is not reached by the table grants on the dropped one; database grants and other tables' grants stay", async () => {
    await asRoot("PUT", "/databases/ident2");
    await asRoot("PUT", "/databases/ident2/tables/t", definition);
    await asRoot("PUT", "/databases/ident2/tables/u", definition);
    const tableWriter = await tokenWith("write:ident2.t", "read:ident2.u");
    const databaseReader = await tokenWith("read:ident2");
    // A table's writer may create its table: it then holds the grant on the one it created.
    expect((await call(tableWriter.token, "PUT", "/databases/ident2/tables/t", definition)).status).toBe(200);

    await asRoot("DELETE", "/databases/ident2/tables/t");
    expect((await call(tableWriter.token, "PUT", "/databases/ident2/tables/t", definition)).status).toBe(403);
    await asRoot("PUT", "/databases/ident2/tables/t", definition);

    expect((await call(tableWriter.token, "POST", "/databases/ident2/tables/t/rows", [{ id: 1 }])).status).toBe(403);
    expect((await call(tableWriter.token, "GET", "/databases/ident2/tables/t")).status).toBe(403);
    expect((await call(tableWriter.token, "GET", "/databases/ident2/tables/u")).status).toBe(200);
    expect((await call(databaseReader.token, "GET", "/databases/ident2/tables/t")).status).toBe(200);
    expect(await scopesOf(tableWriter.id)).toEqual(["read:ident2.u"]);
  });
});

describe("through the Iceberg catalog", () => {
  const p = "/v1/floe";

  it("ends a namespace's grants when it is dropped there", async () => {
    await icebergAsRoot("POST", `${p}/namespaces`, { namespace: ["ice_ident"] });
    const reader = await tokenWith("read:ice_ident");
    expect((await iceberg("GET", `${p}/namespaces/ice_ident`, undefined, bearer(reader.token), enforcing)).status).toBe(200);
    await icebergAsRoot("DELETE", `${p}/namespaces/ice_ident`);
    await icebergAsRoot("POST", `${p}/namespaces`, { namespace: ["ice_ident"] });
    const answer = await iceberg("GET", `${p}/namespaces/ice_ident`, undefined, bearer(reader.token), enforcing);
    expect(answer.status).toBe(403);
    expect(answer.body.error.type).toBe("ForbiddenException");
  });

  it("ends an external table's grants when it is dropped or renamed there", async () => {
    await icebergAsRoot("POST", `${p}/namespaces`, { namespace: ["ice_tables"] });
    const tables = `${p}/namespaces/ice_tables/tables`;
    await icebergAsRoot("POST", tables, { name: "ext", schema: eventSchema });
    await icebergAsRoot("POST", tables, { name: "moved", schema: eventSchema });
    const reader = await tokenWith("read:ice_tables.ext", "read:ice_tables.moved", "read:ice_tables.other");
    const load = (name: string) => iceberg("GET", `${tables}/${name}`, undefined, bearer(reader.token), enforcing);
    expect((await load("ext")).status).toBe(200);

    await icebergAsRoot("DELETE", `${tables}/ext`);
    await icebergAsRoot("POST", tables, { name: "ext", schema: eventSchema });
    expect((await load("ext")).status).toBe(403);

    await icebergAsRoot("POST", `${p}/tables/rename`, {
      source: { namespace: ["ice_tables"], name: "moved" },
      destination: { namespace: ["ice_tables"], name: "other" },
    });
    await icebergAsRoot("POST", tables, { name: "moved", schema: eventSchema });
    expect((await load("moved")).status).toBe(403);
    // A grant on the name a table was renamed to holds, as any grant on a name does.
    expect((await load("other")).status).toBe(200);
    expect(await scopesOf(reader.id)).toEqual(["read:ice_tables.other"]);
  });
});
