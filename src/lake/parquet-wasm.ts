/**
 * parquet-wasm (Apache Arrow's Rust Parquet implementation compiled to
 * WebAssembly), instantiated once per isolate on first use.
 *
 * Platform rules kept here:
 * - Workers forbid compiling WebAssembly from bytes at run time, so the
 *   `.wasm` is imported as an already compiled module (wrangler's default
 *   CompiledWasm rule; the vitest pool follows it; Node benchmarks load it
 *   through `bench/wasm-hooks.ts`) and instantiated synchronously.
 * - Wasm memory grows to the largest call's need and is never given back to
 *   the isolate (128 MB, shared with JavaScript). Callers keep every call
 *   bounded (one row group in flight) and free the wasm objects they make;
 *   objects passed by value to a wasm function are consumed by it.
 * - A Rust panic inside the module leaves the instance unusable for the rest
 *   of the isolate's life, so nothing that can fail for ordinary reasons
 *   (an R2 read) happens inside a wasm call: callers fetch first.
 */
import wasmModule from "parquet-wasm/esm/parquet_wasm_bg.wasm";
import * as parquetWasm from "parquet-wasm/esm";

let ready = false;

/** The module's exports, instantiating it on the first call. */
export function parquetWasmModule(): typeof parquetWasm {
  if (!ready) {
    parquetWasm.initSync({ module: wasmModule });
    ready = true;
  }
  return parquetWasm;
}

/** Bytes of wasm memory the isolate holds for the module now (its high-water mark: it never shrinks). */
export function parquetWasmMemoryBytes(): number {
  return ready ? parquetWasm.wasmMemory().buffer.byteLength : 0;
}
