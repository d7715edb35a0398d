/**
 * Starts the real server (`wrangler dev`, workerd outside the test pool) on a
 * free port with its state in a given folder, the way `npm start` does.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { createServer } from "node:net";

export interface RunningServer {
  url: string;
  /** What wrangler and the Worker have printed so far. */
  output(): string;
  stop(): Promise<void>;
}

const serverEnv = { ...process.env, CLOUDFLARE_CF_FETCH_ENABLED: "false", WRANGLER_SEND_METRICS: "false", NO_COLOR: "1" };

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() => (typeof address === "object" && address ? resolve(address.port) : reject(new Error("no port"))));
    });
  });
}

function run(args: string[], output: string[]): ChildProcess {
  const child = spawn("wrangler", args, { env: serverEnv, stdio: ["ignore", "pipe", "pipe"] });
  child.stdout!.on("data", (d) => output.push(String(d)));
  child.stderr!.on("data", (d) => output.push(String(d)));
  return child;
}

export async function startServer(persistTo: string): Promise<RunningServer> {
  const output: string[] = [];
  const migrate = run(["d1", "migrations", "apply", "CATALOG", "--local", "--persist-to", persistTo], output);
  const code = await new Promise((resolve) => migrate.on("exit", resolve));
  if (code !== 0) throw new Error(`migrations failed:\n${output.join("")}`);
  return startWranglerDev(["--var", "FLOE_ENV:development", "--persist-to", persistTo], "/v1/health", output);
}

/** `wrangler dev` with `args` on a free port of 127.0.0.1, once `healthPath` answers 2xx (within 90 s). */
export async function startWranglerDev(args: string[], healthPath: string, output: string[] = []): Promise<RunningServer> {
  const port = await freePort();
  const child = run(["dev", "--ip", "127.0.0.1", "--port", String(port), ...args], output);
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 90_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`wrangler dev exited:\n${output.join("")}`);
    try {
      if ((await fetch(`${url}${healthPath}`)).ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`wrangler dev did not start:\n${output.join("")}`);
    await new Promise((r) => setTimeout(r, 250));
  }
  return {
    url,
    output: () => output.join(""),
    async stop() {
      const exited = new Promise((resolve) => child.on("exit", resolve));
      child.kill("SIGTERM");
      await exited;
    },
  };
}
