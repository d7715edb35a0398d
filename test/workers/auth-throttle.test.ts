/**
 * What an unknown secret costs: a token-shaped secret the catalog does not
 * know is looked up in D1 once, then answered from the isolate's memory for
 * a few seconds; and an address that keeps failing to authenticate is
 * refused with 429 and Retry-After, before any lookup, while other
 * addresses, the root token and tokens already known keep working.
 */
import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import worker from "../../src/index.ts";
import { FailureLimiter, authFailureWindowMs, authFailuresPerWindowMax } from "../../src/auth/throttle.ts";
import { clientRequest } from "./helpers.ts";

const rootToken = `root-${"t".repeat(40)}`;
const enforcing = { FLOE_ENV: "production", FLOE_ROOT_TOKEN: rootToken };

/** D1 reads of a token by its secret's hash, counted across calls. */
let tokenLookups = 0;
const countingCatalog = new Proxy(env.CATALOG, {
  get(target, property) {
    if (property === "prepare") {
      return (sql: string) => {
        if (/FROM tokens WHERE secret_sha256/.test(sql)) tokenLookups++;
        return target.prepare(sql);
      };
    }
    const value = Reflect.get(target, property) as unknown;
    return typeof value === "function" ? value.bind(target) : value;
  },
});

async function call(token: string | undefined, path: string, address?: string, init: { method?: string; body?: unknown } = {}) {
  const headers: Record<string, string> = {};
  if (token !== undefined) headers.authorization = `Bearer ${token}`;
  if (address !== undefined) headers["cf-connecting-ip"] = address;
  const ctx = createExecutionContext();
  const response = await worker.fetch(clientRequest(init.method ?? "GET", path, init.body, headers), { ...env, ...enforcing, CATALOG: countingCatalog }, ctx);
  await waitOnExecutionContext(ctx);
  return { status: response.status, headers: response.headers, body: (await response.json()) as any };
}

const unknownSecret = (n: number) => `floe_${String(n).padStart(43, "U")}`;

async function newToken(scopes: string[]): Promise<string> {
  const answer = await call(rootToken, "/tokens", undefined, { method: "POST", body: { name: "t", scopes } });
  expect(answer.status).toBe(201);
  return answer.body.token;
}

describe("unknown secrets", () => {
  it("cost one catalog read, then are refused from memory for a while", async () => {
    const before = tokenLookups;
    for (let i = 0; i < 5; i++) expect((await call(unknownSecret(1), "/databases")).status).toBe(401);
    expect(tokenLookups - before).toBe(1);
    // Another unknown secret is its own lookup.
    expect((await call(unknownSecret(2), "/databases")).status).toBe(401);
    expect(tokenLookups - before).toBe(2);
  });

  it("never hide a token minted since: a new token works at once", async () => {
    const token = await newToken(["admin"]);
    expect((await call(token, "/databases")).status).toBe(200);
  });
});

describe("failed authentications per client address", () => {
  it(`answer 429 with Retry-After after ${authFailuresPerWindowMax} failures, before any lookup, to that address only`, async () => {
    const address = "203.0.113.7";
    const known = await newToken(["admin"]);
    expect((await call(known, "/databases", address)).status).toBe(200);
    const unused = await newToken(["admin"]);
    for (let i = 0; i < authFailuresPerWindowMax; i++) {
      const answer = await call(unknownSecret(100 + i), "/databases", address);
      expect(answer.status).toBe(401);
    }
    const lookups = tokenLookups;
    const refused = await call(unknownSecret(999), "/databases", address);
    expect(refused.status).toBe(429);
    expect(refused.body.error.code).toBe("too_many_requests");
    expect(refused.body.error.message).toMatch(new RegExp(`${authFailuresPerWindowMax} failed authentications`));
    const retryAfter = Number(refused.headers.get("retry-after"));
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(authFailureWindowMs / 1000);
    // A token not yet known to this instance would need a catalog read: refused too, with no read.
    expect((await call(unused, "/databases", address)).status).toBe(429);
    expect(tokenLookups).toBe(lookups);
    // The root token and a token this instance already knows cost nothing to check: still served.
    expect((await call(rootToken, "/databases", address)).status).toBe(200);
    expect((await call(known, "/databases", address)).status).toBe(200);
    // Other addresses are not held back.
    expect((await call(unknownSecret(999), "/databases", "203.0.113.8")).status).toBe(401);
    expect((await call(unused, "/databases", "203.0.113.8")).status).toBe(200);
  });

  it("reach the Iceberg catalog's routes too, in its error shape", async () => {
    const address = "203.0.113.9";
    for (let i = 0; i < authFailuresPerWindowMax; i++) await call(`wrong-${"x".repeat(40)}`, "/databases", address);
    const ctx = createExecutionContext();
    const request = new Request("http://floe.test/iceberg/v1/floe/namespaces", { headers: { authorization: "Bearer nope", "cf-connecting-ip": address } });
    const response = await worker.fetch(request, { ...env, ...enforcing }, ctx);
    await waitOnExecutionContext(ctx);
    expect(response.status).toBe(429);
    expect(Number(response.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
    expect(((await response.json()) as any).error).toMatchObject({ code: 429, type: "TooManyRequestsException" });
  });

  it("are counted in windows: the address may try again once its window ends", () => {
    const limiter = new FailureLimiter();
    const start = 1_000_000;
    for (let i = 0; i < authFailuresPerWindowMax; i++) {
      expect(limiter.retryAfterSeconds("a", start + i)).toBe(0);
      limiter.recordFailure("a", start + i);
    }
    expect(limiter.retryAfterSeconds("a", start + 1_000)).toBe(Math.ceil((authFailureWindowMs - 1_000) / 1000));
    expect(limiter.retryAfterSeconds("b", start + 1_000)).toBe(0);
    expect(limiter.retryAfterSeconds("a", start + authFailureWindowMs)).toBe(0);
    limiter.recordFailure("a", start + authFailureWindowMs);
    expect(limiter.retryAfterSeconds("a", start + authFailureWindowMs + 1)).toBe(0);
    // A request without an address (not from the internet: Cloudflare sets CF-Connecting-IP on all of those) is not counted.
    for (let i = 0; i < 2 * authFailuresPerWindowMax; i++) limiter.recordFailure(undefined, start);
    expect(limiter.retryAfterSeconds(undefined, start)).toBe(0);
  });

  it("remember a bounded number of addresses", () => {
    const limiter = new FailureLimiter(3);
    for (const address of ["a", "b", "c", "d"]) for (let i = 0; i < authFailuresPerWindowMax; i++) limiter.recordFailure(address, 0);
    expect(limiter.size).toBe(3);
    expect(limiter.retryAfterSeconds("a", 1)).toBe(0);
    expect(limiter.retryAfterSeconds("d", 1)).toBeGreaterThan(0);
  });
});
