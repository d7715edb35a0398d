/**
 * One token's share of a bucket's subscriber slots: a Tablet serves at most
 * `subscribersPerTokenMax` sockets opened with one token (the root token and
 * open mode each count as one), so one client cannot take all
 * `subscribersPerTabletMax` of them; others keep subscribing. The relay
 * hands the Tablet the token's id, which the socket keeps in its attachment.
 */
import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import type { TabletSubscription } from "../../src/protocol/subscription.ts";
import { subscribersPerTokenMax, subscriptionHeader } from "../../src/protocol/subscription.ts";
import { requestLimits } from "../../src/vocabulary.ts";
import { apiWithEnv, clientRequest, createTable, fetchWithEnv, ok, waitFor, tabletOf } from "./helpers.ts";

const numbers = { columns: [{ name: "n", type: "INT" }], bucket: { num: 1 } };
const rootToken = `root-${"w".repeat(40)}`;
const enforcing = { FLOE_ENV: "production", FLOE_ROOT_TOKEN: rootToken };

function subscription(principal: string): TabletSubscription {
  return {
    bucket: 0,
    start: { position: "latest" },
    columns: [{ id: 1, name: "n", type: "INT", nullable: true }],
    format: "json",
    windowBytes: 1 << 20,
    heldBy: "relay",
    principal,
  };
}

/** Opens a socket straight on the Tablet, as the relay does; answers the socket or the refusal's body. */
async function open(tableId: string, principal: string): Promise<WebSocket | { error: { code: string; message: string } }> {
  const response = await tabletOf(tableId, 0).fetch("https://tablet/subscribe", {
    headers: { upgrade: "websocket", [subscriptionHeader]: JSON.stringify(subscription(principal)) },
  });
  if (!response.webSocket) return response.json();
  response.webSocket.accept();
  return response.webSocket;
}

/** The principal of each socket the Tablet holds, read from the sockets' attachments. */
async function principalsOf(tableId: string): Promise<string[]> {
  return runInDurableObject(tabletOf(tableId, 0), (_, state) =>
    state.getWebSockets().map((ws) => (ws.deserializeAttachment() as { principal: string }).principal));
}

describe(`subscribers per token per bucket: ${subscribersPerTokenMax} of ${requestLimits.subscribersPerTabletMax}`, () => {
  it("takes a token's share, refuses one more with too_many_requests, takes other tokens, and one again after a close", async () => {
    await createTable("share", "busy", numbers);
    const { tableId } = await ok("GET", "/databases/share/tables/busy");
    const sockets: WebSocket[] = [];
    for (let i = 0; i < subscribersPerTokenMax; i++) {
      const ws = await open(tableId, "token-a");
      expect(ws).toBeInstanceOf(WebSocket);
      sockets.push(ws as WebSocket);
    }
    const refused = await open(tableId, "token-a");
    expect(refused).toEqual({
      error: { code: "too_many_requests", message: expect.stringMatching(new RegExp(`${subscribersPerTokenMax} subscriptions of this token`)) },
    });
    const other = await open(tableId, "token-b");
    expect(other).toBeInstanceOf(WebSocket);
    expect(await open(tableId, "root")).toBeInstanceOf(WebSocket);

    sockets.pop()!.close(1000, "done");
    await waitFor(async () => (await principalsOf(tableId)).filter((p) => p === "token-a").length < subscribersPerTokenMax, "a socket gone");
    expect(await open(tableId, "token-a")).toBeInstanceOf(WebSocket);
    for (const ws of [...sockets, other as WebSocket]) ws.close(1000, "done");
  });

  it("is told the subscribing token's id by the relay (root and open mode as one principal each)", async () => {
    await createTable("share", "told", numbers);
    const { tableId } = await ok("GET", "/databases/share/tables/told");
    const reader = (await apiWithEnv(enforcing, "POST", "/tokens", { name: "r", scopes: ["read:share.told"] }, { authorization: `Bearer ${rootToken}` })).body;
    const sockets: WebSocket[] = [];
    const cases: [Record<string, string>, Record<string, string>][] = [
      [enforcing, { authorization: `Bearer ${reader.token}` }],
      [enforcing, { authorization: `Bearer ${rootToken}` }],
      [{ FLOE_ENV: "development" }, {}],
    ];
    for (const [bindings, headers] of cases) {
      const response = await fetchWithEnv(bindings, clientRequest("GET", "/databases/share/tables/told/subscribe", undefined, { upgrade: "websocket", ...headers }));
      const ws = response.webSocket!;
      ws.accept();
      const messages: string[] = [];
      ws.addEventListener("message", (e) => void messages.push(e.data as string));
      ws.send(JSON.stringify({ from: "latest" }));
      await waitFor(() => messages.length === 1, "subscribed");
      sockets.push(ws);
    }
    expect((await principalsOf(tableId)).sort()).toEqual([reader.id, "open", "root"].sort());
    for (const ws of sockets) ws.close(1000, "done");
  });
});
