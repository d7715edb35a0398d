/**
 * docs/deploy.md as far as it goes without an account: `wrangler deploy
 * --dry-run` bundles the Worker from wrangler.toml (no database id needed),
 * within the Workers size limit, with every binding the code expects.
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, readdirSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, describe, expect, it } from "vitest";

const outdir = mkdtempSync(join(tmpdir(), "floe-bundle-"));
afterAll(() => rmSync(outdir, { recursive: true, force: true }));

describe("the deployable bundle", () => {
  it("builds with wrangler deploy --dry-run, under the size limit, with every binding", () => {
    const output = execFileSync(process.execPath, [resolve("node_modules/wrangler/bin/wrangler.js"), "deploy", "--dry-run", "--outdir", outdir], {
      env: { ...process.env, CLOUDFLARE_CF_FETCH_ENABLED: "false", WRANGLER_SEND_METRICS: "false", NO_COLOR: "1" },
      encoding: "utf8",
      stdio: ["ignore", "pipe", "pipe"],
    });
    for (const binding of ["env.TABLET (Tablet)", "env.LAKE_SCHEDULER (LakeScheduler)", "env.LAKE_WRITER (LakeWriter)", "env.CATALOG (floe-catalog)", "env.LAKE (floe-lake)"]) {
      expect(output).toContain(binding);
    }
    const [, total, gzip] = /Total Upload: ([\d.]+) KiB \/ gzip: ([\d.]+) KiB/.exec(output) ?? [];
    // Workers allow 10 MB compressed on the paid plan and 3 MB on the free one; docs/deploy.md reports the size.
    expect(Number(gzip)).toBeLessThan(3 * 1024);
    expect(Number(total)).toBeGreaterThan(0);
    const files = readdirSync(outdir);
    expect(files).toContain("index.js");
    expect(files.some((f) => f.endsWith(".wasm"))).toBe(true);
    expect(statSync(join(outdir, "index.js")).size).toBeGreaterThan(100_000);
  });
});
