/**
 * What the partition tests share: partitioned table definitions (a log
 * table by day, a primary-key table by region and day), and a socket that
 * records a subscription's messages.
 */
import { exports } from "cloudflare:workers";
import { base } from "./helpers.ts";

export const eventsByDay = {
  columns: [
    { name: "dt", type: "STRING" },
    { name: "id", type: "BIGINT" },
    { name: "user", type: "STRING" },
  ],
  partitionKeys: ["dt"],
  bucket: { num: 2, key: ["user"] },
};

export const usersByRegionAndDay = {
  columns: [
    { name: "region", type: "STRING" },
    { name: "dt", type: "STRING" },
    { name: "id", type: "BIGINT" },
    { name: "name", type: "STRING" },
  ],
  primaryKey: ["region", "dt", "id"],
  partitionKeys: ["region", "dt"],
  bucket: { num: 2 },
};

/**
 * A subscription of the table at `tablePath` (under /v1), recording every message; the subscribe
 * message goes with the upgrade (`direct`) or as the first frame.
 */
export async function recordedSubscription(tablePath: string, message: unknown, direct = false) {
  const query = direct ? `?subscribe=${encodeURIComponent(JSON.stringify(message))}` : "";
  const response = await exports.default.fetch(`${base}${tablePath}/subscribe${query}`, { headers: { Upgrade: "websocket" } });
  const ws = response.webSocket!;
  ws.accept();
  const messages: any[] = [];
  let closed = false;
  ws.addEventListener("message", (e) => void (e.data !== "pong" && messages.push(JSON.parse(e.data as string))));
  ws.addEventListener("close", () => void (closed = true));
  if (!direct) ws.send(JSON.stringify(message));
  const batches = () => messages.filter((m) => m.type === "batch");
  return { ws, messages, batches, closed: () => closed };
}
