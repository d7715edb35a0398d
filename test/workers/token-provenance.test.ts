/**
 * Token provenance: every token records which token minted it (or the
 * root token) and when, `GET /v1/tokens` shows it, and an admin revokes a
 * token together with every token it minted, directly or through others,
 * with `?cascade=true`, also through a token in the chain that was revoked
 * on its own before.
 */
import { describe, expect, it } from "vitest";
import { apiWithEnv, expectError, type Answer } from "./helpers.ts";

const rootToken = `root-${"p".repeat(40)}`;
const enforcing = { FLOE_ENV: "production", FLOE_ROOT_TOKEN: rootToken };

function call(token: string, method: string, path: string, body?: unknown): Promise<Answer> {
  return apiWithEnv(enforcing, method, path, body, { authorization: `Bearer ${token}` });
}

async function mint(by: string, name: string, scopes: string[]): Promise<{ id: string; token: string; createdBy: string; createdAt: string }> {
  const answer = await call(by, "POST", "/tokens", { name, scopes });
  expect(answer.status, JSON.stringify(answer.body)).toBe(201);
  return answer.body;
}

async function listed(): Promise<Map<string, any>> {
  const answer = await call(rootToken, "GET", "/tokens");
  return new Map(answer.body.tokens.map((t: { id: string }) => [t.id, t]));
}

/** Whether a token is accepted (a scoped one may still be refused 403 for admin's routes). */
const works = async (token: string) => (await call(token, "GET", "/databases")).status !== 401;

describe("token provenance", () => {
  it("records and lists which token minted each token, and when", async () => {
    const a = await mint(rootToken, "a", ["admin"]);
    const b = await mint(a.token, "b", ["admin"]);
    const c = await mint(b.token, "c", ["read:shop"]);
    expect(a.createdBy).toBe("root");
    expect(b.createdBy).toBe(a.id);
    const tokens = await listed();
    expect(tokens.get(a.id)).toEqual({ id: a.id, name: "a", scopes: ["admin"], createdAt: a.createdAt, createdBy: "root" });
    expect(tokens.get(b.id)).toMatchObject({ createdBy: a.id, createdAt: b.createdAt });
    expect(tokens.get(c.id)).toMatchObject({ createdBy: b.id, createdAt: c.createdAt });
    expect(Date.parse(c.createdAt)).toBeGreaterThanOrEqual(Date.parse(a.createdAt));
  });

  it("revokes a token with every token it minted, transitively, and leaves the rest", async () => {
    const a = await mint(rootToken, "a", ["admin"]);
    const b = await mint(a.token, "b", ["admin"]);
    const c = await mint(b.token, "c", ["admin"]);
    const d = await mint(c.token, "d", ["read:shop"]);
    const sibling = await mint(b.token, "sibling", ["admin"]);
    const other = await mint(rootToken, "other", ["admin"]);
    const otherChild = await mint(other.token, "other child", ["admin"]);

    // Revoked alone, c leaves d working; the chain stays on record.
    expect((await call(rootToken, "DELETE", `/tokens/${c.id}`)).body).toEqual({ id: c.id, revoked: true });
    expect(await works(c.token)).toBe(false);
    expect(await works(d.token)).toBe(true);

    const answer = await call(rootToken, "DELETE", `/tokens/${a.id}?cascade=true`);
    expect(answer.status).toBe(200);
    expect(answer.body.id).toBe(a.id);
    expect(answer.body.revoked).toBe(true);
    expect([...answer.body.revokedIds].sort()).toEqual([a.id, b.id, d.id, sibling.id].sort());
    for (const gone of [a, b, d, sibling]) expect(await works(gone.token)).toBe(false);
    expect(await works(other.token)).toBe(true);
    expect(await works(otherChild.token)).toBe(true);
    const tokens = await listed();
    for (const gone of [a, b, c, d, sibling]) expect(tokens.has(gone.id)).toBe(false);
    expect(tokens.has(otherChild.id)).toBe(true);
  });

  it("cascades from a token revoked before, to what it minted that still works", async () => {
    const a = await mint(rootToken, "a", ["admin"]);
    const b = await mint(a.token, "b", ["admin"]);
    await call(rootToken, "DELETE", `/tokens/${a.id}`);
    expect(await works(b.token)).toBe(true);
    expect((await call(rootToken, "DELETE", `/tokens/${a.id}?cascade=true`)).body).toEqual({ id: a.id, revoked: true, revokedIds: [b.id] });
    expect(await works(b.token)).toBe(false);
    // A revoked token alone cannot be revoked again.
    expectError(await call(rootToken, "DELETE", `/tokens/${b.id}`), 404, "not_found");
  });

  it("lets an admin token revoke the chain it minted, answering 404 for an id that never was a token", async () => {
    const a = await mint(rootToken, "a", ["admin"]);
    const b = await mint(a.token, "b", ["read:shop"]);
    expect((await call(a.token, "DELETE", `/tokens/${b.id}?cascade=true`)).body.revokedIds).toEqual([b.id]);
    expectError(await call(rootToken, "DELETE", "/tokens/no-such-token?cascade=true"), 404, "not_found");
    expectError(await call(rootToken, "DELETE", `/tokens/${a.id}?cascade=yes`), 400, "bad_request", /cascade must be true or false/);
    expect(await works(a.token)).toBe(true);
  });
});
