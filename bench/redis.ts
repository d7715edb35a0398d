/**
 * Redis as an outside reference: starts Debian's `redis-server` on a free
 * port (no persistence) and speaks just enough RESP to time commands.
 */
import { spawn, spawnSync } from "node:child_process";
import { createConnection, type Socket } from "node:net";
import { freePort } from "../test/smoke/server.ts";

export type Reply = string | number | null | Reply[];

export class RedisClient {
  private buffer = Buffer.alloc(0);
  private waiting: ((reply: Reply) => void)[] = [];

  private readonly socket: Socket;

  private constructor(socket: Socket) {
    this.socket = socket;
    socket.on("data", (chunk) => {
      this.buffer = Buffer.concat([this.buffer, chunk]);
      for (;;) {
        const parsed = parseReply(this.buffer, 0);
        if (!parsed) break;
        this.buffer = this.buffer.subarray(parsed.end);
        this.waiting.shift()!(parsed.reply);
      }
    });
  }

  static connect(port: number): Promise<RedisClient> {
    return new Promise((resolve, reject) => {
      const socket = createConnection({ port, host: "127.0.0.1" }, () => resolve(new RedisClient(socket)));
      socket.on("error", reject);
    });
  }

  command(...args: (string | number)[]): Promise<Reply> {
    const parts = args.map(String);
    const text = `*${parts.length}\r\n${parts.map((p) => `$${Buffer.byteLength(p)}\r\n${p}\r\n`).join("")}`;
    return new Promise((resolve) => {
      this.waiting.push(resolve);
      this.socket.write(text);
    });
  }

  close(): void {
    this.socket.end();
  }
}

function parseReply(buffer: Buffer, at: number): { reply: Reply; end: number } | undefined {
  const lineEnd = buffer.indexOf("\r\n", at);
  if (lineEnd < 0) return undefined;
  const kind = String.fromCharCode(buffer[at]!);
  const line = buffer.toString("utf8", at + 1, lineEnd);
  if (kind === "+" || kind === "-") return { reply: line, end: lineEnd + 2 };
  if (kind === ":") return { reply: Number(line), end: lineEnd + 2 };
  if (kind === "$") {
    const length = Number(line);
    if (length < 0) return { reply: null, end: lineEnd + 2 };
    if (buffer.length < lineEnd + 2 + length + 2) return undefined;
    return { reply: buffer.toString("utf8", lineEnd + 2, lineEnd + 2 + length), end: lineEnd + 2 + length + 2 };
  }
  if (kind === "*") {
    const count = Number(line);
    if (count < 0) return { reply: null, end: lineEnd + 2 };
    const items: Reply[] = [];
    let next = lineEnd + 2;
    for (let i = 0; i < count; i++) {
      const item = parseReply(buffer, next);
      if (!item) return undefined;
      items.push(item.reply);
      next = item.end;
    }
    return { reply: items, end: next };
  }
  throw new Error(`unexpected RESP reply '${kind}'`);
}

/** Starts redis-server, or answers undefined when it is not installed (`apt-get install redis-server`). */
export async function startRedis(): Promise<{ port: number; stop(): void } | undefined> {
  if (spawnSync("redis-server", ["--version"]).status !== 0) return undefined;
  const port = await freePort();
  const child = spawn("redis-server", ["--port", String(port), "--save", "", "--appendonly", "no"], { stdio: "ignore" });
  for (let attempt = 0; attempt < 100; attempt++) {
    try {
      (await RedisClient.connect(port)).close();
      return { port, stop: () => child.kill() };
    } catch {
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  child.kill();
  throw new Error("redis-server did not start");
}
