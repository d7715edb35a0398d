import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { env, exports } from "cloudflare:workers";
import worker from "../../src/index.ts";
import { expect } from "vitest";
import { eventsDefinition } from "../fixtures.ts";
import { tabletName } from "../../src/vocabulary.ts";

export { eventsDefinition };

export const base = "http://floe.test/v1";

export interface Answer<T = any> {
  status: number;
  body: T;
  headers: Headers;
}

/** Calls the Worker's fetch handler as a client would. */
export async function api<T = any>(
  method: string,
  path: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<Answer<T>> {
  return answerOf<T>(await exports.default.fetch(clientRequest(method, path, body, headers)));
}

/** Like `api`, but with some of the Worker's bindings replaced (e.g. to turn access control on). */
export async function apiWithEnv<T = any>(
  overrides: Record<string, string>,
  method: string,
  path: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<Answer<T>> {
  return answerOf<T>(await fetchWithEnv(overrides, clientRequest(method, path, body, headers)));
}

/** The Worker's fetch handler called with some bindings replaced, and its background work awaited. */
export async function fetchWithEnv(overrides: Record<string, string>, request: Request): Promise<Response> {
  const ctx = createExecutionContext();
  const response = await worker.fetch(request, { ...env, ...overrides }, ctx);
  await waitOnExecutionContext(ctx);
  return response;
}

export function clientRequest(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Request {
  const init: RequestInit = { method, headers: { ...headers } };
  if (body instanceof Uint8Array || body instanceof ReadableStream || typeof body === "string") init.body = body as BodyInit;
  else if (body !== undefined) {
    init.body = JSON.stringify(body);
    (init.headers as Record<string, string>)["content-type"] ??= "application/json";
  }
  return new Request(`${base}${path}`, init);
}

async function answerOf<T>(response: Response): Promise<Answer<T>> {
  const type = response.headers.get("content-type") ?? "";
  if (!type.startsWith("application/json")) {
    return { status: response.status, body: new Uint8Array(await response.arrayBuffer()) as T, headers: response.headers };
  }
  const text = await response.text(); // empty for HEAD
  return { status: response.status, body: (text === "" ? undefined : JSON.parse(text)) as T, headers: response.headers };
}

export async function ok<T = any>(method: string, path: string, body?: unknown, headers?: Record<string, string>): Promise<T> {
  const answer = await api<T>(method, path, body, headers);
  if (answer.status >= 300) throw new Error(`${method} ${path} answered ${answer.status}: ${JSON.stringify(answer.body)}`);
  return answer.body;
}

export function expectError(answer: Answer, status: number, code: string, message?: RegExp): void {
  expect(answer.status, JSON.stringify(answer.body)).toBe(status);
  expect(answer.body.error.code).toBe(code);
  if (message) expect(answer.body.error.message).toMatch(message);
}


export async function createTable(db: string, table: string, definition: unknown = eventsDefinition): Promise<void> {
  await ok("PUT", `/databases/${db}`);
  await ok("PUT", `/databases/${db}/tables/${table}`, definition);
}

/** Every row of every bucket of a table, by bucket, read through the log route. */
export async function readAllBuckets(db: string, table: string, buckets: number, columns?: string): Promise<any[][]> {
  const out: any[][] = [];
  for (let bucket = 0; bucket < buckets; bucket++) {
    const rows: any[] = [];
    let offset = 0;
    for (;;) {
      const query = `bucket=${bucket}&offset=${offset}&limit=10000${columns ? `&columns=${columns}` : ""}`;
      const page = await ok("GET", `/databases/${db}/tables/${table}/log?${query}`);
      rows.push(...page.rows);
      if (page.nextOffset === page.highWatermark) break;
      offset = page.nextOffset;
    }
    out.push(rows);
  }
  return out;
}

/** Each bucket's high watermark, from the describe route. */
export async function highWatermarks(db: string, table: string): Promise<number[]> {
  const described = await ok("GET", `/databases/${db}/tables/${table}`);
  return described.buckets.map((b: { highWatermark: number }) => b.highWatermark);
}

/** Waits until `check` holds, polling every 10 ms; fails naming `what` after `timeoutMs`. */
export async function waitFor(check: () => boolean | Promise<boolean>, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** The Tablet of one bucket of a table, or of one partition of it, reached directly (as the Worker does). */
export function tabletOf(tableId: string, bucket: number, partitionId?: number) {
  return env.TABLET.get(env.TABLET.idFromName(tabletName(tableId, bucket, partitionId)));
}
