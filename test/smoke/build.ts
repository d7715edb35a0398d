/** Vitest global setup of the smoke project: builds dist/ (the client and CLI as Node runs them) from the sources under test. */
import { execFileSync } from "node:child_process";
import { chmodSync } from "node:fs";

export default function build(): void {
  execFileSync(process.execPath, ["node_modules/typescript/bin/tsc", "-p", "tsconfig.build.json"], { stdio: "inherit" });
  chmodSync("dist/client/cli/main.js", 0o755);
}
