/**
 * The source tree's layering: imports between folders of src/ point one
 * way (no folder reaches, directly or through others, a folder that reaches
 * it), and nothing outside tablet/ knows a Tablet beyond its contract and
 * its stub.
 */
import { readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { describe, expect, it } from "vitest";

const src = resolve(import.meta.dirname, "../../src");

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? sourceFiles(path) : path.endsWith(".ts") ? [path] : [];
  });
}

/** Each file's relative imports (type-only ones too: they tie the layers as much), as resolved paths. */
const imports = sourceFiles(src).map((file) => ({
  file,
  targets: [...readFileSync(file, "utf8").matchAll(/(?:import|export)\s[^;]*?from\s+["'](\.[^"']+)["']/g)].map((m) => resolve(dirname(file), m[1]!)),
}));

/** A file's folder under src/, or the file itself for the few at the top (index, errors, vocabulary). */
const folderOf = (path: string) => {
  const [first, ...rest] = relative(src, path).split("/");
  return rest.length > 0 ? first! : first!.replace(/\.ts$/, "");
};

/** The folders each folder imports from. */
function folderGraph(): Map<string, Set<string>> {
  const graph = new Map<string, Set<string>>();
  for (const { file, targets } of imports) {
    const from = folderOf(file);
    for (const target of targets) {
      const to = folderOf(target);
      if (to !== from) (graph.get(from) ?? graph.set(from, new Set()).get(from)!).add(to);
    }
  }
  return graph;
}

/** Every folder cycle, as the path that closes it. */
function cycles(graph: Map<string, Set<string>>): string[][] {
  const found: string[][] = [];
  const state = new Map<string, "open" | "done">();
  const path: string[] = [];
  const visit = (folder: string) => {
    state.set(folder, "open");
    path.push(folder);
    for (const next of graph.get(folder) ?? []) {
      if (state.get(next) === "open") found.push([...path.slice(path.indexOf(next)), next]);
      else if (!state.has(next)) visit(next);
    }
    path.pop();
    state.set(folder, "done");
  };
  for (const folder of graph.keys()) if (!state.has(folder)) visit(folder);
  return found;
}

describe("source layering", () => {
  it("has no folder-level import cycle", () => {
    expect(cycles(folderGraph()).map((cycle) => cycle.join(" → "))).toEqual([]);
  });

  it("finds a cycle when there is one (the check itself works)", () => {
    const graph = new Map([["a", new Set(["b"])], ["b", new Set(["c"])], ["c", new Set(["a"])], ["d", new Set(["a"])]]);
    expect(cycles(graph)).toEqual([["a", "b", "c", "a"]]);
  });

  it("reaches a Tablet only through its contract and its stub", () => {
    const allowed = new Set(["tablet/contract.ts", "tablet/stub.ts"]);
    // index.ts wires the Worker together, so it exports the Durable Object classes themselves.
    const leaks = imports.flatMap(({ file, targets }) =>
      folderOf(file) === "tablet" || folderOf(file) === "index" ? [] : targets.map((t) => relative(src, t)).filter((t) => t.startsWith("tablet/") && !allowed.has(t)).map((t) => `${relative(src, file)} → ${t}`),
    );
    expect(leaks).toEqual([]);
  });
});
