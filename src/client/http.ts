/**
 * The client's HTTP transport: the base URL, the bearer token, JSON in and
 * out, errors as `FloeError`, and retries.
 *
 * A request marked idempotent (reads, lookups, creates, drops, and writes
 * that carry a writer id and sequence) is sent again when no answer came
 * (a refused or reset connection) or the answer was 500, 502 or 504, after
 * `retryDelayMs` doubling, at most `retries` times; each delay is drawn
 * from its upper half so clients do not retry in step. Anything else is
 * answered at once. Works wherever fetch exists (Node 20+, browsers,
 * Workers).
 */
import { FloeError } from "./errors.ts";

export interface ClientOptions {
  /** The server, e.g. http://localhost:8787 (a trailing /v1 is accepted). */
  url: string;
  /** A bearer token (`floe_…` or the root token); not needed by a server started with `npm start`. */
  token?: string;
  /** Retries of an idempotent request that got no answer or a 500/502/504 (default 3). */
  retries?: number;
  /** The first retry's delay (default 200 ms), doubled each time. */
  retryDelayMs?: number;
  /** The fetch to use (default: the global one). */
  fetch?: typeof fetch;
}

export interface RequestOptions {
  query?: Record<string, string | number | boolean | undefined>;
  body?: string | Uint8Array;
  headers?: Record<string, string>;
  /** Whether sending it twice does no harm, so it may be retried. */
  idempotent?: boolean;
}

const retryStatuses = new Set([500, 502, 504]);

export class Http {
  /** The server's origin and path prefix, without `/v1`. */
  readonly baseUrl: string;
  readonly token: string | undefined;
  private readonly retries: number;
  private readonly retryDelayMs: number;
  private readonly fetchFn: typeof fetch;

  constructor(options: ClientOptions) {
    this.baseUrl = options.url.replace(/\/+$/, "").replace(/\/v1$/, "");
    this.token = options.token;
    this.retries = options.retries ?? 3;
    this.retryDelayMs = options.retryDelayMs ?? 200;
    this.fetchFn = options.fetch ?? ((input, init) => fetch(input, init));
  }

  /** The full URL of an API path (`/databases/shop`), with its query. */
  url(path: string, query: RequestOptions["query"] = {}): string {
    const url = new URL(`${this.baseUrl}/v1${path}`);
    for (const [name, value] of Object.entries(query)) if (value !== undefined) url.searchParams.set(name, String(value));
    return url.toString();
  }

  /** The answer to a request; a refusal is thrown as `FloeError`. */
  async request(method: string, path: string, options: RequestOptions = {}): Promise<Response> {
    const url = this.url(path, options.query);
    const headers: Record<string, string> = { ...options.headers };
    if (this.token !== undefined) headers.authorization = `Bearer ${this.token}`;
    const attempts = options.idempotent ? this.retries + 1 : 1;
    for (let attempt = 1; ; attempt++) {
      let response: Response | undefined;
      let failure: FloeError;
      try {
        response = await this.fetchFn(url, { method, headers, body: options.body as BodyInit | undefined });
        if (response.ok) return response;
        failure = await FloeError.fromResponse(response);
      } catch (error) {
        failure = FloeError.network(url, error);
      }
      const transient = response === undefined || retryStatuses.has(response.status);
      if (!transient || attempt >= attempts) throw failure;
      const ceilingMs = this.retryDelayMs * 2 ** (attempt - 1);
      await new Promise((resolve) => setTimeout(resolve, ceilingMs / 2 + (Math.random() * ceilingMs) / 2));
    }
  }

  /** A JSON request and its JSON answer. */
  async json<T>(method: string, path: string, body?: unknown, options: RequestOptions = {}): Promise<T> {
    const init: RequestOptions = { idempotent: method !== "POST", ...options };
    if (body !== undefined) {
      init.body = toJson(body);
      init.headers = { "content-type": "application/json", ...options.headers };
    }
    const response = await this.request(method, path, init);
    return (await response.json()) as T;
  }
}

/** JSON text of rows or requests: BIGINT values as bigint go as strings of digits, BYTES as Uint8Array as base64. */
export function toJson(value: unknown): string {
  return JSON.stringify(value, (_, v: unknown) => {
    if (typeof v === "bigint") return v.toString();
    if (v instanceof Uint8Array) return base64(v);
    return v;
  });
}

function base64(bytes: Uint8Array): string {
  let binary = "";
  for (let i = 0; i < bytes.length; i += 0x8000) binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(binary);
}
