/**
 * `npm start`: applies the D1 catalog migrations to the local state quietly
 * (their tables printed only when they fail), then runs `wrangler dev` in
 * development mode (open access) with wrangler's own logging at `warn`, and
 * prints a short banner once the server answers: its URL, its access mode
 * and where its state lives. Arguments go to `wrangler dev`
 * (`npm start -- --port 8790`); `--persist-to <dir>` goes to the
 * migrations too, and `--log-level info` brings back wrangler's request log.
 * Runs under the Node the npm scripts use (the pinned Node 22).
 */
import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";

const args = process.argv.slice(2);
const option = (name: string): string | undefined => {
  const at = args.findIndex((a) => a === name || a.startsWith(`${name}=`));
  if (at < 0) return undefined;
  return args[at]!.includes("=") ? args[at]!.slice(name.length + 1) : args[at + 1];
};
const port = option("--port") ?? "8787";
const host = option("--ip") ?? "localhost";
const persistTo = option("--persist-to");
const env = { ...process.env, CLOUDFLARE_CF_FETCH_ENABLED: "false" };
const version = (JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")) as { version: string }).version;

async function migrate(): Promise<void> {
  const migrateArgs = ["d1", "migrations", "apply", "CATALOG", "--local", ...(persistTo ? ["--persist-to", persistTo] : [])];
  const child = spawn("wrangler", migrateArgs, { env, stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  child.stdout!.on("data", (chunk) => (output += String(chunk)));
  child.stderr!.on("data", (chunk) => (output += String(chunk)));
  const code = await new Promise<number | null>((resolve) => child.on("exit", resolve));
  if (code !== 0) {
    process.stderr.write(output);
    console.error(`floe: the catalog migrations failed (wrangler ${migrateArgs.join(" ")}, exit ${code})`);
    process.exit(1);
  }
  const applied = [...output.matchAll(/^│ (\d{4}_[\w.]+\.sql)\s+│ ✅/gmu)].map((m) => m[1]);
  if (applied.length > 0) console.log(`floe: applied ${applied.length} catalog migration${applied.length === 1 ? "" : "s"} (${applied.join(", ")})`);
}

async function banner(url: string): Promise<void> {
  for (let tries = 0; tries < 600; tries++) {
    try {
      const health = (await (await fetch(`${url}/v1/health`)).json()) as { access: string };
      const access = health.access === "open"
        ? "open: no token needed (development mode; web pages of other origins are refused)"
        : health.access === "tokens" ? "tokens: send Authorization: Bearer <token> (FLOE_ROOT_TOKEN in .dev.vars)" : health.access;
      console.log([
        "",
        `Floe ${version} is running on ${url}`,
        `  access   ${access}`,
        `  state    ${persistTo ?? ".wrangler/state"} (catalog, lake and Tablets; delete it to start over)`,
        `  API      ${url}/v1/openapi.json`,
        `  CLI      FLOE_URL=${url} npx floe --help`,
        "  stop     Ctrl-C",
        "",
      ].join("\n"));
      return;
    } catch {
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }
}

await migrate();
const devArgs = ["dev", "--var", "FLOE_ENV:development", ...(option("--log-level") ? [] : ["--log-level", "warn"]), ...args];
const dev = spawn("wrangler", devArgs, { env, stdio: "inherit" });
for (const signal of ["SIGINT", "SIGTERM"] as const) process.on(signal, () => dev.kill(signal));
void banner(`http://${host}:${port}`);
dev.on("exit", (code) => process.exit(code ?? 0));
