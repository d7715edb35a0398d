/**
 * Copies lake objects out of the local R2 that `wrangler dev --persist-to
 * <dir>` wrote, through wrangler's own `getPlatformProxy` (the same Miniflare
 * R2 store, not a guess at its file layout), into `<target>/<key>`, so
 * readers see the bucket as plain files.
 *
 * `wrangler dev --persist-to <dir>` keeps its state under `<dir>/v3`, while
 * `getPlatformProxy`'s `persist.path` is that state folder itself (wrangler
 * passes it to Miniflare unchanged), hence the `v3` here. Run it with the
 * server stopped: both would otherwise open the same SQLite files.
 *
 * The proxy gets a configuration holding only wrangler.toml's R2 bindings:
 * given the Durable Object bindings too, it warns at length that their
 * classes are missing, which is true and irrelevant here.
 */
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { getPlatformProxy, unstable_readConfig } from "wrangler";

export async function exportLake(persistTo: string, prefixes: string[], target: string): Promise<string[]> {
  const { compatibility_date, r2_buckets } = unstable_readConfig({ config: "wrangler.toml" });
  const scratch = await mkdtemp(join(tmpdir(), "floe-lake-proxy-"));
  const configPath = join(scratch, "wrangler.json");
  await writeFile(configPath, JSON.stringify({ name: "floe-lake-export", compatibility_date, r2_buckets }));
  const proxy = await getPlatformProxy<Env>({ configPath, persist: { path: join(persistTo, "v3") }, remoteBindings: false });
  try {
    const keys: string[] = [];
    for (const prefix of prefixes) {
      const before = keys.length;
      let cursor: string | undefined;
      do {
        const page = await proxy.env.LAKE.list({ prefix, ...(cursor ? { cursor } : {}) });
        for (const { key } of page.objects) {
          const object = await proxy.env.LAKE.get(key);
          if (!object) throw new Error(`lake export: ${key} was listed but cannot be read`);
          const path = join(target, key);
          await mkdir(dirname(path), { recursive: true });
          await writeFile(path, new Uint8Array(await object.arrayBuffer()));
          keys.push(key);
        }
        cursor = page.truncated ? page.cursor : undefined;
      } while (cursor);
      if (keys.length === before) throw new Error(`lake export: no objects under ${prefix} in the R2 state at ${persistTo}`);
    }
    return keys;
  } finally {
    await proxy.dispose();
    await rm(scratch, { recursive: true, force: true });
  }
}
