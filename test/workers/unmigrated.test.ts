import { env } from "cloudflare:workers";
import { describe, it } from "vitest";
import { api, expectError } from "./helpers.ts";

describe("a catalog without its schema", () => {
  it("answers 503 with the command that fixes it", async () => {
    // Storage is per test file, so dropping the catalog schema here touches no other test.
    await env.CATALOG.exec("DROP TABLE tables; DROP TABLE databases;");
    expectError(await api("PUT", "/databases/shop"), 503, "unavailable", /wrangler d1 migrations apply CATALOG/);
  });
});
