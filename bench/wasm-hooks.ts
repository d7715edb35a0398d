/**
 * Node module hooks for the benchmarks: a `.wasm` import becomes a compiled
 * `WebAssembly.Module`, as wrangler's CompiledWasm rule makes it for the
 * Worker, so `src/lake/parquet-wasm.ts` runs unchanged under Node.
 * Registered by `bench/run.ts` (`module.register`).
 */
interface LoadContext {
  format?: string;
}
type NextLoad = (url: string, context: LoadContext) => Promise<{ format: string; source?: string | Uint8Array; shortCircuit?: boolean }>;

export async function load(url: string, context: LoadContext, nextLoad: NextLoad) {
  if (!url.endsWith(".wasm")) return nextLoad(url, context);
  const source = `import { readFileSync } from "node:fs";\nexport default new WebAssembly.Module(readFileSync(new URL(${JSON.stringify(url)})));\n`;
  return { format: "module", source, shortCircuit: true };
}
