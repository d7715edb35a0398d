/**
 * Starts the platform probe (bench/probe/worker.ts) under its own
 * `wrangler dev` on a free port, with its state in a given folder, the way
 * test/smoke/server.ts starts Floe; benchmarks run both side by side.
 */
import { fileURLToPath } from "node:url";
import { freePort, startWranglerDev, type RunningServer } from "../../test/smoke/server.ts";

const config = fileURLToPath(new URL("./wrangler.toml", import.meta.url));

export async function startProbe(persistTo: string): Promise<RunningServer> {
  // Its own inspector port, so it never contends with Floe's `wrangler dev` for the default one.
  return startWranglerDev(["--config", config, "--inspector-port", String(await freePort()), "--persist-to", persistTo], "/health");
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
