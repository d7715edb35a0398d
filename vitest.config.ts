import { cloudflareTest, readD1Migrations } from "@cloudflare/vitest-plugin";
import { defineConfig } from "vitest/config";

export default defineConfig(async () => {
  const migrations = await readD1Migrations("./migrations");
  return {
    test: {
      // Every error answer logs a line (thousands in the fuzz tests); keep them for failing tests only.
      silent: "passed-only",
      projects: [
        {
          plugins: [
            cloudflareTest({
              wrangler: { configPath: "./wrangler.toml" },
              // Open access, as under `npm start`; test/workers/auth*.test.ts pass their own env to test tokens.
              miniflare: { bindings: { TEST_MIGRATIONS: migrations, FLOE_ENV: "development" } },
            }),
          ],
          test: {
            name: "workers",
            include: ["test/workers/**/*.test.ts"],
            setupFiles: ["./test/workers/setup.ts"],
            testTimeout: 60_000,
          },
        },
        {
          test: {
            name: "node",
            include: ["test/node/**/*.test.ts"],
            environment: "node",
          },
        },
        {
          test: {
            name: "smoke",
            include: ["test/smoke/**/*.test.ts"],
            // The CLI and the client run as built for Node (dist/), from the sources under test.
            globalSetup: ["./test/smoke/build.ts"],
            environment: "node",
            testTimeout: 180_000,
            hookTimeout: 180_000,
          },
        },
        {
          test: {
            // Independent readers (icebird, DuckDB) open what the real server tiered.
            name: "lake",
            include: ["test/lake/**/*.test.ts"],
            globalSetup: ["./test/lake/setup.ts"],
            environment: "node",
            testTimeout: 180_000,
            hookTimeout: 180_000,
          },
        },
      ],
    },
  };
});
