/** Floe's Worker: wires the HTTP API, the Tablet Durable Object and the cron trigger together. */
import { env } from "cloudflare:workers";
import { createApp } from "./api/app.ts";
import { accessMode, announceMode } from "./auth/mode.ts";
import { runTieringPass } from "./lake/pass.ts";

export { Tablet } from "./tablet/tablet.ts";
export { LakeScheduler } from "./lake/scheduler.ts";

const app = createApp();
// Said when the Worker loads (start-up under `wrangler dev`), not at the first request.
announceMode(accessMode(env));

export default {
  fetch: app.fetch,
  async scheduled(controller, env) {
    const results = await runTieringPass(env, { force: false, nowMs: controller.scheduledTime });
    console.log(JSON.stringify({ event: "tiering_pass", results }));
  },
} satisfies ExportedHandler<Env>;
