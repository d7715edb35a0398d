/**
 * The typed client: `new Floe({ url, token })`, then databases, tables
 * (`floe.table("shop", "events")`), tiering, metrics and tokens. Runs
 * wherever fetch exists: Node 20+, browsers, Workers (subscriptions need a
 * global WebSocket: Node 22+, or Node 20 with --experimental-websocket).
 * docs/client.md walks through it.
 */
import type { ClientOptions } from "./http.ts";
import { Http } from "./http.ts";
import { Table } from "./table.ts";
import type { CreatedToken, Health, TableSummary, TieringResult, TokenInfo } from "./types.ts";

export class Floe {
  private readonly http: Http;
  /** Scoped tokens (admin; a server running open manages none). */
  readonly tokens: Tokens;

  constructor(options: ClientOptions) {
    this.http = new Http(options);
    this.tokens = new Tokens(this.http);
  }

  /** The server's base URL, without `/v1`. */
  get url(): string {
    return this.http.baseUrl;
  }

  /** Liveness, version, and how the server checks access (`open`, `tokens` or `unconfigured`). */
  async health(): Promise<Health> {
    return this.http.json("GET", "/health");
  }

  async databases(): Promise<{ name: string; createdAt: string }[]> {
    return (await this.http.json<{ databases: { name: string; createdAt: string }[] }>("GET", "/databases")).databases;
  }

  /** Creates a database; `created` is false when it existed. */
  async createDatabase(name: string): Promise<{ name: string; created: boolean }> {
    return this.http.json("PUT", `/databases/${encodeURIComponent(name)}`);
  }

  /** Drops an empty database (a 409 conflict while it has tables). */
  async dropDatabase(name: string): Promise<{ name: string; dropped: boolean }> {
    return this.http.json("DELETE", `/databases/${encodeURIComponent(name)}`);
  }

  async tables(database: string): Promise<TableSummary[]> {
    return (await this.http.json<{ tables: TableSummary[] }>("GET", `/databases/${encodeURIComponent(database)}/tables`)).tables;
  }

  /** A handle on a table (no request is made until it is used). */
  table(database: string, name: string): Table {
    return new Table(this.http, database, name);
  }

  /** Runs one tiering pass now over every lake-enabled table (admin). */
  async tier(): Promise<TieringResult> {
    return this.http.json("POST", "/tiering/run", undefined, { idempotent: true });
  }

  /** Per-table counters, subscribers and tiering lag (admin). */
  async metrics(database?: string): Promise<{ tables: Record<string, unknown>[] }> {
    const query = database === undefined ? "" : `?database=${encodeURIComponent(database)}`;
    return this.http.json("GET", `/metrics${query}`);
  }
}

export class Tokens {
  private readonly http: Http;

  constructor(http: Http) {
    this.http = http;
  }

  /** A new token with these scopes (`admin`, `read:<db>`, `write:<db>.<table>`, …); its secret is in the answer only. */
  async create(request: { name: string; scopes: string[] }): Promise<CreatedToken> {
    return this.http.json("POST", "/tokens", request);
  }

  async list(): Promise<TokenInfo[]> {
    return (await this.http.json<{ tokens: TokenInfo[] }>("GET", "/tokens")).tokens;
  }

  async revoke(id: string): Promise<{ id: string; revoked: boolean }> {
    return this.http.json("DELETE", `/tokens/${encodeURIComponent(id)}`);
  }
}
