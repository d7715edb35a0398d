/**
 * The Worker end of a subscription: one client socket, fanned in from one
 * Tablet socket per subscribed bucket.
 *
 * Why fan in here: clients get one socket and one message stream for any
 * set of buckets, while each Tablet keeps its subscribers as hibernatable
 * sockets (an idle subscription costs the Tablets nothing). Order holds per
 * bucket because each bucket's rows travel over one socket in offset order;
 * messages of different buckets interleave. A bucket whose requested start
 * was dropped after tiering is first replayed from the lake (rows of a log
 * table, the state of a primary-key table; `lake-replay.ts`), within the
 * bucket's window (`replay-window.ts`, fed the client's acks here), then
 * continued from its Tablet: a log table's with the window as the replay
 * left it, a primary-key table's once its state is acknowledged whole. A
 * partitioned table's subscription that names no partition follows every
 * partition (`every-partition.ts`); its Tablet sockets are keyed by
 * partition and bucket, and its acks name both.
 */
import type { ErrorKind } from "../errors.ts";
import { FloeError, TableDroppedError, errorBody, errorFromBody } from "../errors.ts";
import type { TableEntry } from "../catalog/catalog.ts";
import { tabletStub } from "../tablet/stub.ts";
import type { ErrorMessage, TabletSubscription } from "../protocol/subscription.ts";
import { idleTimeoutMs, subscriptionHeader } from "../protocol/subscription.ts";
import type { ParsedSubscription } from "../protocol/request.ts";
import { parseSubscribeMessage } from "../protocol/request.ts";
import type { PhysicalTable } from "../catalog/partitions.ts";
import { forgetPartitions, physicalTable } from "../catalog/partitions.ts";
import { ownerSnapshot, planBucket } from "./lake-replay.ts";
import type { ReplayUnit } from "./replay-window.ts";
import { ReplayWindow } from "./replay-window.ts";
import type { LakeSnapshot } from "../read/lake-snapshot.ts";
import { websocketAuth } from "../vocabulary.ts";
import type { PartitionFollower } from "./every-partition.ts";
import { followEveryPartition } from "./every-partition.ts";

export interface RelayOptions {
  /** Who subscribes: the token's id, `root` or `open`; each Tablet limits the sockets of one (`TabletSubscription.principal`). */
  principal: string;
  /** The client offered the `floe` subprotocol (to carry its token), so the answer must select it. */
  selectFloeProtocol?: boolean;
  /** For a scoped token: whether it is still valid. Checked on the client's messages (acks, pings) and the idle timer. */
  tokenStillValid?: () => Promise<boolean>;
  /** The subscribe message, when the client sent it with the upgrade (`?subscribe=`) rather than as its first frame. */
  firstMessage?: string;
}

/** The Tablet sockets of a subscription, by `streamKey`, and what its buckets replay from the lake. */
interface Streams {
  server: WebSocket;
  tablets: Map<string, WebSocket>;
  replays: Map<string, ReplayWindow>;
  touch: () => void;
}

/** A Tablet socket's key: its bucket, or, following every partition, its partition's id and its bucket. */
const streamKey = (bucket: number, partitionId?: number) => (partitionId === undefined ? String(bucket) : `${partitionPrefix(partitionId)}${bucket}`);
/** What the stream keys of one partition's buckets start with. */
const partitionPrefix = (partitionId: number) => `${partitionId} `;

export function relaySubscription(env: Env, table: TableEntry, options: RelayOptions): Response {
  const { 0: client, 1: server } = new WebSocketPair();
  server.accept();
  const tablets = new Map<string, WebSocket>();
  // Buckets replaying from the lake, until the client acknowledged their replay whole.
  const replays = new Map<string, ReplayWindow>();
  let started = false;
  let lastHeardMs = Date.now();
  // One timer per connection checks for silence; resetting a timer on every message costs too much under load.
  const idleCheck = setInterval(() => {
    if (Date.now() - lastHeardMs > idleTimeoutMs) closeAll(1001, "idle: no ping or ack");
    else checkToken();
  }, idleTimeoutMs / 4);

  let follower: PartitionFollower | undefined;
  const closeAll = (code: number, reason: string) => {
    clearInterval(idleCheck);
    follower?.stop();
    for (const ws of tablets.values()) safeClose(ws, 1000, "subscriber left");
    tablets.clear();
    for (const window of replays.values()) window.end();
    replays.clear();
    safeClose(server, code, reason);
  };
  const fail = (kind: ErrorKind, message: string) => {
    const error: ErrorMessage = { type: "error", ...errorBody(kind, message) };
    if (server.readyState === WebSocket.OPEN) server.send(JSON.stringify(error));
    closeAll(1008, message.slice(0, 120));
  };
  /** Ends the subscription with what went wrong: a FloeError as it is, anything else as `internal`. */
  const failFrom = (error: unknown) => {
    if (error instanceof FloeError) return fail(error.kind, error.message);
    // As for HTTP answers: the details go to the log under an id, only the id to the client.
    const requestId = crypto.randomUUID();
    console.error(JSON.stringify({ event: "subscription_failed", requestId, table: `${table.database}.${table.name}`, message: String(error) }));
    fail("internal", `internal error (request ${requestId})`);
  };
  // A revoked token ends the subscriptions it opened (the check is cheap: tokens are cached per isolate).
  const checkToken = () => {
    options.tokenStillValid?.().then((valid) => {
      if (!valid) fail("unauthorized", "the token this subscription was opened with has been revoked");
    }, () => {});
  };
  const begin = (message: string) => {
    started = true;
    let subscription: ParsedSubscription;
    try {
      subscription = parseSubscribeMessage(table.definition, message, options.principal);
    } catch (error) {
      if (error instanceof FloeError) return fail(error.kind, error.message);
      throw error;
    }
    // A lake replay counts as activity: the client has nothing to ack until it ends.
    const touch = () => (lastHeardMs = Date.now());
    const streams: Streams = { server, tablets, replays, touch };
    if (subscription.kind === "every") {
      follower = followEveryPartition(env, table, subscription.every, {
        connect: (owner, buckets, gone) => connectTablets(env, owner, buckets, streams, gone),
        closePartition(partitionId) {
          for (const [key, ws] of tablets) {
            if (key.startsWith(partitionPrefix(partitionId))) {
              tablets.delete(key);
              safeClose(ws, 1000, "partition dropped");
            }
          }
        },
        send(message) {
          if (server.readyState === WebSocket.OPEN) server.send(message);
        },
        fail,
        failFrom,
      });
      return;
    }
    const { partition, buckets } = subscription;
    const connect = async (lookAgain: boolean): Promise<void> => {
      const owner = await physicalTable(env.CATALOG, table, partition);
      try {
        await connectTablets(env, owner, buckets, streams);
      } catch (error) {
        // This isolate's entry of the partition may be stale (dropped, maybe created again, elsewhere): look it up once more.
        if (!lookAgain || partition === undefined || !(error instanceof TableDroppedError)) throw error;
        forgetPartitions(table.tableId, [owner.partition!.spec]);
        await connect(false);
      }
    };
    connect(true).catch(failFrom);
  };
  server.addEventListener("message", (event) => {
    lastHeardMs = Date.now();
    checkToken();
    const data = event.data;
    if (data === "ping") {
      server.send("pong");
      return;
    }
    if (!started) return begin(typeof data === "string" ? data : "");
    forwardAcks(typeof data === "string" ? data : "", tablets, replays, follower, fail);
  });
  if (options.firstMessage !== undefined) begin(options.firstMessage);
  server.addEventListener("close", () => closeAll(1000, "closed"));
  server.addEventListener("error", () => closeAll(1011, "client error"));
  const headers: HeadersInit = options.selectFloeProtocol ? { "Sec-WebSocket-Protocol": websocketAuth.protocol } : {};
  return new Response(null, { status: 101, webSocket: client, headers });
}

/**
 * Opens the Tablet sockets of `subscriptions` (the buckets of `table`, or
 * of one partition), every one or none. With `gone` (following every
 * partition), a Tablet's `gone` error ends only its partition's stream:
 * `gone` is told, instead of the client; without it, any Tablet that
 * closes its stream ends the subscription.
 */
async function connectTablets(
  env: Env,
  table: PhysicalTable,
  subscriptions: TabletSubscription[],
  { server, tablets, replays, touch }: Streams,
  gone?: (error: ErrorMessage["error"]) => void,
): Promise<void> {
  const partitionId = gone === undefined ? undefined : table.partition?.partitionId;
  // Every message of a partitioned table's subscription names the partition.
  if (table.partition) subscriptions = subscriptions.map((subscription) => ({ ...subscription, partition: table.partition!.spec }));
  let snapshot: Promise<LakeSnapshot> | undefined;
  const lakeSnapshot = () => (snapshot ??= ownerSnapshot(env, table));
  const plans = await Promise.all(subscriptions.map((subscription) => planBucket(env, table, subscription, lakeSnapshot)));
  const transmit = (message: string | Uint8Array) => {
    // Stops the replay (no more lake reads) once the client has left.
    if (server.readyState !== WebSocket.OPEN) throw new Error("the client left during the lake replay");
    server.send(message);
    touch();
  };
  const windows: ReplayWindow[] = [];
  for (const plan of plans) {
    if (plan.kind !== "lake_first") continue;
    const window = new ReplayWindow(plan.unit, plan.subscription.windowBytes, plan.start);
    replays.set(streamKey(plan.subscription.bucket, partitionId), window);
    windows.push(window);
    await plan.replay({
      announce: transmit,
      async send(message, sent) {
        await window.room();
        transmit(message);
        window.sent(sent);
      },
    });
  }
  // A primary-key state is acknowledged whole before its changelog starts (parts and offsets share no window).
  await Promise.all(windows.filter((window) => window.unit === "parts").map((window) => window.drained()));
  const replayed = new Set(plans.filter((p) => p.kind === "lake_first").map((p) => p.subscription.bucket));
  const attempts = await Promise.allSettled(
    plans.map(async ({ subscription }) => {
      // After a log table's replay, the Tablet goes on with the window as the replay left it.
      const window = replays.get(streamKey(subscription.bucket, partitionId));
      const spec: TabletSubscription = window?.unit === "offsets" ? { ...subscription, carried: window.carry() } : subscription;
      const response = await tabletStub(env, table, subscription.bucket).fetch("https://tablet/subscribe", {
        headers: { upgrade: "websocket", [subscriptionHeader]: JSON.stringify(spec) },
      });
      if (!response.webSocket) throw errorFromBody(await response.json());
      return { bucket: subscription.bucket, ws: response.webSocket };
    }),
  );
  const sockets = attempts.flatMap((a) => (a.status === "fulfilled" ? [a.value] : []));
  const failed = attempts.find((a) => a.status === "rejected");
  // Every bucket or none: a refused bucket, or a client already gone, closes the sockets that did open.
  if (failed || server.readyState !== WebSocket.OPEN) {
    for (const { ws } of sockets) {
      ws.accept();
      safeClose(ws, 1000, "subscription abandoned");
    }
    if (failed) throw (failed as PromiseRejectedResult).reason;
    return;
  }
  for (const { bucket, ws } of sockets) {
    // Accepted only now, with its listeners attached next, so no early message is dropped.
    ws.accept();
    const key = streamKey(bucket, partitionId);
    tablets.set(key, ws);
    // Acks of the replay that came while the Tablet's socket opened reach it now.
    const window = replays.get(key);
    if (window?.unit === "offsets") ws.send(JSON.stringify({ ack: window.acked }));
    replays.delete(key);
    // Binary frames may arrive as Blobs; a per-bucket chain keeps them in order while they are read.
    let forwarding = Promise.resolve();
    // After a lake replay the client already has this bucket's `subscribed` message, with the replay's start.
    let skipSubscribed = replayed.has(bucket);
    ws.addEventListener("message", (event) => {
      const data = event.data as string | ArrayBuffer | Blob;
      if (skipSubscribed) {
        skipSubscribed = false;
        return;
      }
      // Only errors start so (the Tablet writes `type` first), so other messages pass unparsed.
      if (gone && typeof data === "string" && data.startsWith('{"type":"error"')) {
        const { error } = JSON.parse(data) as ErrorMessage;
        if (error.code === "gone") return void forwarding.then(() => gone(error));
      }
      forwarding = forwarding.then(async () => {
        const payload = data instanceof Blob ? await data.arrayBuffer() : data;
        if (server.readyState === WebSocket.OPEN) server.send(payload);
      });
    });
    ws.addEventListener("close", () => {
      // After what the Tablet sent last, which may say why it closed (its partition was dropped).
      void forwarding.then(() => {
        if (tablets.get(key) === ws) safeClose(server, 1011, `bucket ${bucket} closed its stream; resubscribe from your offsets`);
      });
    });
  }
}

/**
 * `{ ack: { "<bucket>": offset } }` → `{ ack: offset }` to each bucket's Tablet, or to its lake replay;
 * `{ ack: { "<bucket>": { parts: n } } }` to a replay of a primary-key state. Following every
 * partition: `{ ack: { "<partition>": { "<bucket>": offset } } }`.
 */
function forwardAcks(
  text: string,
  tablets: Map<string, WebSocket>,
  replays: Map<string, ReplayWindow>,
  follower: PartitionFollower | undefined,
  fail: (kind: "bad_request", message: string) => void,
): void {
  let ack: unknown;
  try {
    ack = (JSON.parse(text) as { ack?: unknown }).ack;
  } catch {
    return fail("bad_request", "after the subscribe message, send only \"ping\" or { ack: { bucket: offset } }");
  }
  if (typeof ack !== "object" || ack === null) return fail("bad_request", "ack must be an object of bucket → offset");
  if (follower) {
    for (const [spec, offsets] of Object.entries(ack)) {
      if (typeof offsets !== "object" || offsets === null) {
        return fail("bad_request", "following every partition, ack is { \"<partition>\": { \"<bucket>\": offset } }");
      }
      // A partition dropped (or not yet followed) takes no acks.
      const partitionId = follower.partitionIdOf(spec);
      if (partitionId !== undefined) forwardBucketAcks(offsets, partitionId, tablets, replays);
    }
    return;
  }
  forwardBucketAcks(ack, undefined, tablets, replays);
}

/** One partition's (or an unpartitioned table's) `{ "<bucket>": offset | { parts: n } }` to its replays and Tablets. */
function forwardBucketAcks(ack: object, partitionId: number | undefined, tablets: Map<string, WebSocket>, replays: Map<string, ReplayWindow>): void {
  for (const [bucket, position] of Object.entries(ack)) {
    const [unit, value]: [ReplayUnit, unknown] =
      typeof position === "object" && position !== null ? ["parts", (position as { parts?: unknown }).parts] : ["offsets", position];
    if (typeof value !== "number") continue;
    const key = streamKey(Number(bucket), partitionId);
    replays.get(key)?.ack(unit, value);
    const ws = tablets.get(key);
    if (ws && unit === "offsets") ws.send(JSON.stringify({ ack: value }));
  }
}

function safeClose(ws: WebSocket, code: number, reason: string): void {
  try {
    ws.close(code, reason);
  } catch {
    // already closed
  }
}
