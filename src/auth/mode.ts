/**
 * How this Worker guards its API, decided from its configuration:
 *
 * - `tokens`: `FLOE_ROOT_TOKEN` is set (a secret), so every route but health
 *   needs a bearer token.
 * - `open`: no root token and `FLOE_ENV=development`, which only `npm start`
 *   passes (`wrangler dev --var`): nothing is checked.
 * - `unconfigured`: neither, so every route but health answers 503 naming
 *   the fix.
 *
 * Invariant: the Worker runs open only when asked to explicitly, and the
 * committed `wrangler.toml` never asks, so a deployment without a root token
 * refuses every data route instead of serving it to anyone.
 */

/**
 * The access settings. Neither is in `wrangler.toml` (the root token is a
 * secret; FLOE_ENV comes from `npm start`), so generated `Env` types lack them.
 */
interface AccessSettings {
  FLOE_ROOT_TOKEN?: string;
  FLOE_ENV?: string;
}

export type AccessMode = { kind: "open" } | { kind: "tokens"; rootToken: string } | { kind: "unconfigured"; message: string };

/** A root token shorter than this is refused: it would be guessable. */
const rootTokenLengthMin = 32;

const fix = "set one with `openssl rand -base64 32 | npx wrangler secret put FLOE_ROOT_TOKEN`; for local development, `npm start` runs open";

export function accessMode(env: Env): AccessMode {
  const settings = env as Env & AccessSettings;
  const rootToken = settings.FLOE_ROOT_TOKEN ?? "";
  if (rootToken.length >= rootTokenLengthMin) return { kind: "tokens", rootToken };
  if (rootToken.length > 0) {
    return { kind: "unconfigured", message: `FLOE_ROOT_TOKEN is shorter than ${rootTokenLengthMin} characters: ${fix}` };
  }
  if (settings.FLOE_ENV === "development") return { kind: "open" };
  return { kind: "unconfigured", message: `this server has no FLOE_ROOT_TOKEN, so it serves no data: ${fix}` };
}

/** Says that the server is open or unusable; called once, when the Worker loads (`index.ts`). */
export function announceMode(mode: AccessMode): void {
  if (mode.kind === "tokens") return;
  if (mode.kind === "open") {
    const message = "FLOE_ENV=development and no FLOE_ROOT_TOKEN: every route is open to anyone who can reach this server";
    console.warn(JSON.stringify({ event: "access_open", message }));
  } else {
    console.error(JSON.stringify({ event: "access_unconfigured", message: mode.message }));
  }
}
