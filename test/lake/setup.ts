/**
 * Global setup of the `lake` project: runs the workload against the real
 * server (`wrangler dev`, as `npm start` runs it), stops it, and exports
 * the tables' lake objects from its local R2 into a temporary folder that
 * the reader tests open. Runs once for all of them.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { TestProject } from "vitest/node";
import { startServer } from "../smoke/server.ts";
import { exportLake } from "./lake-export.ts";
import { accounts, trades, visits } from "./tables.ts";
import type { TieredTable } from "./tiered-lake.ts";
import { runWorkload, tieringRounds, visitsSnapshots, type WrittenTable } from "./workload.ts";

/** `LAKE_URI_PREFIX` in wrangler.toml. */
const uriPrefix = "s3://floe-lake";

export default async function setup(project: TestProject): Promise<() => void> {
  const persistTo = mkdtempSync(join(tmpdir(), "floe-lake-state-"));
  const dir = mkdtempSync(join(tmpdir(), "floe-lake-copy-"));
  try {
    const server = await startServer(persistTo);
    const written = await runWorkload(server.url).finally(() => server.stop());
    const table = (key: string[], w: WrittenTable, snapshots: number): TieredTable => ({ ...w, key, snapshots, location: tableLocation(w.metadataLocation) });
    const lake = {
      dir, uriPrefix,
      trades: table(trades.key, written.trades, tieringRounds),
      accounts: table(accounts.key, written.accounts, tieringRounds),
      visits: table(visits.key, written.visits, visitsSnapshots),
    };
    const prefixes = [lake.trades, lake.accounts, lake.visits].map((t) => `${t.location.slice(uriPrefix.length + 1)}/`);
    await exportLake(persistTo, prefixes, dir);
    project.provide("lake", lake);
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    throw error;
  } finally {
    rmSync(persistTo, { recursive: true, force: true });
  }
  return () => rmSync(dir, { recursive: true, force: true });
}

/** `s3://floe-lake/<db>/<table>-<id>` from `…/<db>/<table>-<id>/metadata/<file>`. */
function tableLocation(metadataLocation: string): string {
  const at = metadataLocation.lastIndexOf("/metadata/");
  if (!metadataLocation.startsWith(`${uriPrefix}/`) || at < 0) throw new Error(`unexpected metadata location ${metadataLocation}`);
  return metadataLocation.slice(0, at);
}
