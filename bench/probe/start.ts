/**
 * Starts the platform probe (bench/probe/worker.ts) under its own
 * `wrangler dev` on a free port, with its state in a given folder, the way
 * test/smoke/server.ts starts Floe; benchmarks run both side by side.
 */
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { freePort, type RunningServer } from "../../test/smoke/server.ts";

const config = fileURLToPath(new URL("./wrangler.toml", import.meta.url));
const startTimeoutMs = 90_000;
const probeEnv = { ...process.env, CLOUDFLARE_CF_FETCH_ENABLED: "false", WRANGLER_SEND_METRICS: "false", NO_COLOR: "1" };

export async function startProbe(persistTo: string): Promise<RunningServer> {
  const output: string[] = [];
  const [port, inspectorPort] = [await freePort(), await freePort()];
  const child = spawn("wrangler", [
    "dev", "--config", config, "--ip", "127.0.0.1", "--port", String(port), "--inspector-port", String(inspectorPort), "--persist-to", persistTo,
  ], { env: probeEnv, stdio: ["ignore", "pipe", "pipe"] });
  child.stdout!.on("data", (d) => output.push(String(d)));
  child.stderr!.on("data", (d) => output.push(String(d)));
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + startTimeoutMs;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`probe: wrangler dev exited:\n${output.join("")}`);
    try {
      if ((await fetch(`${url}/health`)).ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`probe: wrangler dev did not start in ${startTimeoutMs} ms:\n${output.join("")}`);
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

/** Loads the lookup bench's rows 0..keyCount-1 into the probe's shards, `batchRows` per call. */
export async function seedProbe(url: string, keyCount: number, batchRows = 50_000): Promise<void> {
  for (let from = 0; from < keyCount; from += batchRows) {
    const response = await fetch(`${url}/seed`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ from, count: Math.min(batchRows, keyCount - from) }),
    });
    if (!response.ok) throw new Error(`probe: seed from ${from}: ${response.status} ${await response.text()}`);
    await response.arrayBuffer();
  }
}
