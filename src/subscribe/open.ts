/**
 * Opening a client's subscription. One that names a single bucket (of a
 * table, or of the one partition it names), sends its subscribe message
 * with the upgrade (`?subscribe=`) and starts within the bucket's log is
 * handed to that bucket's Tablet, which then holds the client's socket
 * itself: hibernatable, and one send per delivery. Every other
 * subscription goes through the Worker's relay: several buckets, every
 * partition, a start the log no longer holds (the relay replays the lake
 * first), or a scoped token, which the relay keeps checking while the
 * socket lives.
 */
import type { TableEntry } from "../catalog/catalog.ts";
import { FloeError, errorBody, errorFromBody } from "../errors.ts";
import type { ErrorMessage, TabletSubscription } from "../protocol/subscription.ts";
import { subscriptionHeader } from "../protocol/subscription.ts";
import { parseSubscribeMessage } from "../protocol/request.ts";
import { tabletStub } from "../tablet/stub.ts";
import { physicalTable } from "../catalog/partitions.ts";
import { websocketAuth } from "../vocabulary.ts";
import { ownerSnapshot, planBucket } from "./lake-replay.ts";
import type { RelayOptions } from "./relay.ts";
import { relaySubscription } from "./relay.ts";

export async function openSubscription(env: Env, table: TableEntry, options: RelayOptions): Promise<Response> {
  if (options.firstMessage === undefined || options.tokenStillValid !== undefined) return relaySubscription(env, table, options);
  let subscription, owner;
  try {
    subscription = parseSubscribeMessage(table.definition, options.firstMessage, options.principal);
    if (subscription.kind === "every") return relaySubscription(env, table, options);
    owner = await physicalTable(env.CATALOG, table, subscription.partition);
  } catch (error) {
    if (error instanceof FloeError) return refusal(error, options);
    throw error;
  }
  if (subscription.buckets.length !== 1) return relaySubscription(env, table, options);
  const plan = await planBucket(env, owner, subscription.buckets[0]!, () => ownerSnapshot(env, owner));
  if (plan.kind !== "tablet") return relaySubscription(env, table, options);
  const held: TabletSubscription = { ...plan.subscription, heldBy: "client", ...(owner.partition ? { partition: owner.partition.spec } : {}) };
  const response = await tabletStub(env, owner, plan.subscription.bucket).fetch("https://tablet/subscribe", {
    headers: { upgrade: "websocket", [subscriptionHeader]: JSON.stringify(held) },
  });
  if (!response.webSocket) {
    return refusal(errorFromBody(await response.json()), options);
  }
  return new Response(null, { status: 101, webSocket: response.webSocket, headers: protocolHeaders(options) });
}

/** A subscription refused before it began, told the way the protocol tells it: an error message, then close. */
function refusal(error: FloeError, options: RelayOptions): Response {
  const { 0: client, 1: server } = new WebSocketPair();
  server.accept();
  const message: ErrorMessage = { type: "error", ...errorBody(error.kind, error.message) };
  server.send(JSON.stringify(message));
  server.close(1008, error.message.slice(0, 120));
  return new Response(null, { status: 101, webSocket: client, headers: protocolHeaders(options) });
}

function protocolHeaders(options: RelayOptions): HeadersInit {
  return options.selectFloeProtocol ? { "Sec-WebSocket-Protocol": websocketAuth.protocol } : {};
}
