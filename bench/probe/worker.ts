/**
 * The platform probe: the primitives Floe's hot path is built on, with
 * nothing of Floe's in them, so a benchmark can state Floe's figures as
 * ratios to what the platform itself does on the same machine in the same
 * run. Routes (JSON in and out):
 *
 *   GET  /health                 readiness
 *   POST /seed {from, count}     rows from..from+count-1, the lookup bench's shape, into their shards
 *   POST /get {id}               probe A: one shard, one `SELECT` of one key → {row}
 *   POST /mget {ids}             probe B: the shards in parallel, each one `SELECT ... IN` of its share → {rows}
 *   GET  /ws?hub=name            probe C: a WebSocket held (hibernatable) by the hub object itself
 *   POST /broadcast?hub=name     probe C: the hub sends the body to each of its sockets, answers {sent} after sending
 *
 * Invariants: a row lives in shard `id % shardCount`; a statement binds at
 * most `sqlParamsMax` values (the Durable Object SQLite limit); a seed call
 * is one transaction per shard.
 */
import { DurableObject } from "cloudflare:workers";

interface ProbeEnv {
  PROBE: DurableObjectNamespace<Probe>;
}

interface User {
  id: number;
  name: string;
  city: string;
  score: number;
}

const shardCount = 8;
const sqlParamsMax = 100;
const userColumns = 4;
const rowsPerInsert = Math.floor(sqlParamsMax / userColumns);
const seedRowsMax = 100_000;
const cities = ["Oslo", "Rome", "Lima", "Pune"];

/** The row the lookup bench loads for `id` (bench/lookup.ts `loadBody`). */
function userRow(id: number): User {
  return { id, name: `name-${id}`, city: cities[id % 4]!, score: id % 1000 };
}

const insertSql = (rows: number) => `INSERT OR REPLACE INTO users VALUES ${Array(rows).fill("(?, ?, ?, ?)").join(", ")}`;
const selectInSql = (keys: number) => `SELECT id, name, city, score FROM users WHERE id IN (${Array(keys).fill("?").join(", ")})`;

export class Probe extends DurableObject<ProbeEnv> {
  constructor(ctx: DurableObjectState, env: ProbeEnv) {
    super(ctx, env);
    ctx.storage.sql.exec("CREATE TABLE IF NOT EXISTS users (id INTEGER PRIMARY KEY, name TEXT NOT NULL, city TEXT NOT NULL, score INTEGER NOT NULL)");
  }

  /** Inserts this shard's ids in [from, from + count), `rowsPerInsert` rows per statement, in one transaction. */
  seed(from: number, count: number, shard: number): number {
    const ids: number[] = [];
    for (let id = from + ((shard - (from % shardCount) + shardCount) % shardCount); id < from + count; id += shardCount) ids.push(id);
    const sql = this.ctx.storage.sql;
    this.ctx.storage.transactionSync(() => {
      for (let i = 0; i < ids.length; i += rowsPerInsert) {
        const chunk = ids.slice(i, i + rowsPerInsert).map(userRow);
        sql.exec(insertSql(chunk.length), ...chunk.flatMap((u) => [u.id, u.name, u.city, u.score]));
      }
    });
    return ids.length;
  }

  get(id: number): User | null {
    return (this.ctx.storage.sql.exec<Record<string, SqlStorageValue>>("SELECT id, name, city, score FROM users WHERE id = ?", id).toArray()[0] as User | undefined) ?? null;
  }

  getMany(ids: number[]): User[] {
    return this.ctx.storage.sql.exec<Record<string, SqlStorageValue>>(selectInSql(ids.length), ...ids).toArray() as unknown as User[];
  }

  /** Sends `message` to every socket this object holds; answers how many, once all are sent. */
  broadcast(message: string): number {
    const sockets = this.ctx.getWebSockets();
    for (const ws of sockets) ws.send(message);
    return sockets.length;
  }

  override async fetch(request: Request): Promise<Response> {
    if (request.headers.get("upgrade")?.toLowerCase() !== "websocket") return new Response("probe: expected a WebSocket upgrade", { status: 400 });
    const { 0: client, 1: server } = new WebSocketPair();
    this.ctx.acceptWebSocket(server);
    return new Response(null, { status: 101, webSocket: client });
  }

  override webSocketMessage(): void {
    // Clients only listen.
  }

  override webSocketClose(): void {
    // The runtime completes the close handshake itself (web_socket_auto_reply_to_close).
  }
}

const shard = (env: ProbeEnv, n: number) => env.PROBE.get(env.PROBE.idFromName(`shard-${n}`));
const hub = (env: ProbeEnv, url: URL) => env.PROBE.get(env.PROBE.idFromName(`hub-${url.searchParams.get("hub") ?? ""}`));

async function seed(env: ProbeEnv, body: { from: number; count: number }): Promise<Response> {
  if (!(body.count > 0 && body.count <= seedRowsMax)) return new Response(`probe: seed count must be 1..${seedRowsMax}`, { status: 400 });
  const counts = await Promise.all(Array.from({ length: shardCount }, (_, n) => shard(env, n).seed(body.from, body.count, n)));
  return Response.json({ inserted: counts.reduce((a, b) => a + b, 0) });
}

/** Rows for `ids` in their order (null where absent), each shard asked once, all in parallel. */
async function getMany(env: ProbeEnv, ids: number[]): Promise<(User | null)[]> {
  if (ids.length > sqlParamsMax) throw new Error(`probe: at most ${sqlParamsMax} keys per call, got ${ids.length}`);
  const byShard = new Map<number, number[]>();
  for (const id of ids) {
    const share = byShard.get(id % shardCount);
    if (share) share.push(id);
    else byShard.set(id % shardCount, [id]);
  }
  const found = new Map<number, User>();
  await Promise.all([...byShard].map(async ([n, share]) => {
    for (const user of await shard(env, n).getMany(share)) found.set(user.id, user);
  }));
  return ids.map((id) => found.get(id) ?? null);
}

export default {
  async fetch(request: Request, env: ProbeEnv): Promise<Response> {
    const url = new URL(request.url);
    const route = `${request.method} ${url.pathname}`;
    switch (route) {
      case "GET /health": return new Response("ok");
      case "POST /seed": return seed(env, await request.json());
      case "POST /get": {
        const { id } = await request.json<{ id: number }>();
        return Response.json({ row: await shard(env, id % shardCount).get(id) });
      }
      case "POST /mget": return Response.json({ rows: await getMany(env, (await request.json<{ ids: number[] }>()).ids) });
      case "GET /ws": return hub(env, url).fetch(request);
      case "POST /broadcast": return Response.json({ sent: await hub(env, url).broadcast(await request.text()) });
      default: return new Response(`probe: no route ${route}`, { status: 404 });
    }
  },
} satisfies ExportedHandler<ProbeEnv>;
