/**
 * `npm run bench -- <name>`: runs one benchmark against a fresh `wrangler dev`
 * (state in a temporary folder) or pure code under Node, and prints medians
 * with ratios to a reference measured in the same run.
 */
import { register } from "node:module";

// The lake's Parquet code imports its `.wasm` as a compiled module, as in the Worker.
register("./wasm-hooks.ts", import.meta.url);

const benchmarks: Record<string, () => Promise<{ run(): Promise<void> }>> = {
  append: () => import("./append.ts"),
  lookup: () => import("./lookup.ts"),
  latency: () => import("./latency.ts"),
  tiering: () => import("./tiering.ts"),
  freshness: () => import("./freshness.ts"),
  scan: () => import("./scan.ts"),
  parquet: () => import("./parquet.ts"),
  upsert: () => import("./upsert.ts"),
  soak: () => import("./soak.ts"),
};

const name = process.argv[2];
const load = name === undefined ? undefined : benchmarks[name];
if (!load) {
  console.error(`usage: npm run bench -- <${Object.keys(benchmarks).join("|")}>`);
  process.exit(2);
}
await (await load()).run();
