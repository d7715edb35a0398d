/** Runs the built `floe` CLI (dist/client/cli/main.js) as a person would, and the recipes the README shows. */
import { spawn } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";

export const cliPath = resolve("dist/client/cli/main.js");

export interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `floe <args>` to its end; `stop` gets SIGINT sent once it holds of the output so far. */
export function floe(args: string[], env: Record<string, string>, stop?: (run: CliRun) => boolean, node = process.execPath): Promise<CliRun> {
  const child = spawn(node, [cliPath, ...args], { env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] });
  const run: CliRun = { code: null, stdout: "", stderr: "" };
  let stopped = false;
  const check = () => {
    if (!stopped && stop?.(run)) {
      stopped = true;
      child.kill("SIGINT");
    }
  };
  child.stdout!.on("data", (chunk) => ((run.stdout += String(chunk)), check()));
  child.stderr!.on("data", (chunk) => ((run.stderr += String(chunk)), check()));
  const timer = setTimeout(() => child.kill("SIGKILL"), 60_000);
  return new Promise((done) =>
    child.on("close", (code) => {
      clearTimeout(timer);
      run.code = code;
      done(run);
    }),
  );
}

/** The fenced code block after `<!-- recipe: name -->` in the README: what a reader copies. */
export function recipe(name: string): string {
  const readme = readFileSync("README.md", "utf8");
  const match = new RegExp(`<!-- recipe: ${name} -->\\s*\`\`\`\\w*\\n([\\s\\S]*?)\`\`\``).exec(readme);
  if (!match) throw new Error(`README.md has no recipe '${name}'`);
  return match[1]!;
}

/** Writes a recipe where its imports resolve (inside the repository, so `apache-arrow` is found), answering its path. */
export function recipeFile(name: string, extension: string): string {
  const dir = resolve("node_modules/.cache/floe-recipes");
  mkdirSync(dir, { recursive: true });
  const path = join(dir, `${name}.${extension}`);
  writeFileSync(path, recipe(name));
  return path;
}
