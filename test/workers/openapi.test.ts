/**
 * `/v1/openapi.json` stays true: every `/v1` route the app registers is in
 * it, and every route it describes is registered (Hono lists them in
 * `app.routes`). It and `GET /` answer without a token, even where access
 * control is on.
 */
import { describe, expect, it } from "vitest";
import { createApp } from "../../src/api/app.ts";
import { documentedRoutes } from "../../src/api/openapi.ts";
import { apiWithEnv, base } from "./helpers.ts";

const enforcing = { FLOE_ENV: "production", FLOE_ROOT_TOKEN: `root-${"r".repeat(40)}` };

/** `METHOD /v1/path/{param}` of each registered route (middleware, registered for ALL methods, left out). */
function registeredRoutes(): string[] {
  const routes = createApp().routes.filter((r) => r.method !== "ALL" && r.path.startsWith("/v1/"));
  return [...new Set(routes.map((r) => `${r.method} ${r.path.replace(/:(\w+)(\{[^}]*\})?/g, "{$1}")}`))];
}

describe("the OpenAPI description", () => {
  it("describes exactly the routes the app registers", () => {
    const registered = registeredRoutes();
    expect(registered.length).toBeGreaterThan(15);
    expect(documentedRoutes().sort()).toEqual(registered.sort());
  });

  it("is served as OpenAPI 3.1 without a token, and so is the pointer at /", async () => {
    const answer = await apiWithEnv(enforcing, "GET", "/openapi.json");
    expect(answer.status).toBe(200);
    expect(answer.body.openapi).toBe("3.1.0");
    expect(Object.keys(answer.body.paths)).toContain("/v1/databases/{db}/tables/{table}/rows");
    // Every $ref points at a component that exists.
    const refs = [...JSON.stringify(answer.body).matchAll(/"\$ref":"#\/components\/(\w+)\/(\w+)"/g)];
    for (const [, kind, name] of refs) expect(answer.body.components[kind!]?.[name!], `${kind}/${name}`).toBeDefined();
    const root = await apiWithEnv(enforcing, "GET", "/../");
    expect(root.status).toBe(200);
    expect(root.body).toMatchObject({ name: "floe", links: { health: "/v1/health", openapi: "/v1/openapi.json" } });
    expect(base.endsWith("/v1")).toBe(true);
  });
});
