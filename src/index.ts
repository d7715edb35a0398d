/** Floe's Worker: wires the HTTP API, the Tablet Durable Object and the cron trigger together. */
import { createApp } from "./api/app.ts";

export { Tablet } from "./tablet/tablet.ts";

const app = createApp();

export default {
  fetch: app.fetch,
  async scheduled(controller) {
    // Tiering into the lake is not built yet (see the README's roadmap); the trigger is wired so it can land without config changes.
    console.log(JSON.stringify({ event: "scheduled", cron: controller.cron, tiering: "not implemented yet" }));
  },
} satisfies ExportedHandler<Env>;
