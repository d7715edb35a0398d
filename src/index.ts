/** Floe's Worker: wires the HTTP API, the Durable Objects and the cron trigger together. */
import { env } from "cloudflare:workers";
import { createApp } from "./api/app.ts";
import { accessMode, announceMode } from "./auth/mode.ts";
import { restartAlarms } from "./restart-alarms.ts";

export { Tablet } from "./tablet/tablet.ts";
export { LakeScheduler } from "./lake/scheduler.ts";
export { LakeWriter } from "./lake/writer.ts";
export { PartitionScheduler } from "./auto-partition/scheduler.ts";

const app = createApp();
// Said when the Worker loads (start-up under `wrangler dev`), not at the first request.
announceMode(accessMode(env));

export default {
  fetch: app.fetch,
  /** Tables tier, and create and expire partitions, on their Durable Objects' alarms; the cron only restarts an alarm that was lost. */
  async scheduled(_controller, env) {
    await restartAlarms(env);
  },
} satisfies ExportedHandler<Env>;
