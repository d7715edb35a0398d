/**
 * Scoped tokens kept in the catalog: created with a secret that is answered
 * once, listed, revoked (alone, or with every token it minted), and found by
 * secret on every request.
 *
 * Invariants: the catalog holds only each secret's SHA-256; a listed token
 * never carries its secret; every token records who minted it (a token id,
 * or `root`), and revoking keeps that record. A revoked token is refused at once by the
 * isolate that revoked it, and by every other isolate within
 * `cacheTtlMs` (found tokens are cached so a request costs no D1 round trip).
 *
 * A token is found by its secret's hash, so the catalog's index lookup is not
 * constant-time; what its timing could reveal is the hash, which gives no way
 * back to the secret. The root token, which is not in the catalog, is
 * compared in constant time (`secrets.ts`).
 */
import { FloeError } from "../errors.ts";
import { requestLimits } from "../vocabulary.ts";
import * as queries from "./queries.ts";
import type { Scope } from "./scopes.ts";
import { formatScope, parseScope } from "./scopes.ts";
import { looksLikeTokenSecret, newTokenSecret, sha256Hex } from "./secrets.ts";

export interface Token {
  id: string;
  name: string;
  scopes: Scope[];
  createdAtMs: number;
  /** Who minted it: a token id, `root`, or null for a token minted before this was recorded. */
  createdBy: string | null;
}

export interface TokenRequest {
  name: string;
  scopes: Scope[];
}

const cacheTtlMs = 10_000;
const cacheEntriesMax = 10_000;
/** Found tokens by their secret's SHA-256. */
const cache = new Map<string, { token: Token; expiresAtMs: number }>();
const unknownTtlMs = 5_000;
const unknownEntriesMax = 10_000;
/** The SHA-256 of token-shaped secrets the catalog did not know, with when to ask it again; oldest first. */
const unknown = new Map<string, number>();

/** `{ name, scopes: [...] }`, validated whole. */
export function parseTokenRequest(input: unknown): TokenRequest {
  if (typeof input !== "object" || input === null || Array.isArray(input)) {
    throw FloeError.badRequest("a token request is { name, scopes: [...] }");
  }
  const { name, scopes, ...rest } = input as Record<string, unknown>;
  const unknown = Object.keys(rest)[0];
  if (unknown !== undefined) throw FloeError.badRequest(`unknown field '${unknown}' in token request`);
  const nameMax = requestLimits.tokenNameLengthMax;
  if (typeof name !== "string" || name.length === 0 || name.length > nameMax || /\p{Cc}/u.test(name)) {
    throw FloeError.badRequest(`a token name is 1..${nameMax} characters with no control characters`);
  }
  const scopesMax = requestLimits.scopesPerTokenMax;
  if (!Array.isArray(scopes) || scopes.length === 0 || scopes.length > scopesMax) {
    throw FloeError.badRequest(`scopes must be an array of 1..${scopesMax} scopes`);
  }
  return { name, scopes: scopes.map(parseScope) };
}

/** A new token and its secret; the secret exists nowhere else afterwards. */
export async function createToken(db: D1Database, request: TokenRequest, createdBy: string, nowMs: number): Promise<{ token: Token; secret: string }> {
  const secret = newTokenSecret();
  const token: Token = { id: crypto.randomUUID(), name: request.name, scopes: request.scopes, createdAtMs: nowMs, createdBy };
  const hash = await sha256Hex(secret);
  await queries.insertToken(db, toRow(token), hash);
  unknown.delete(hash);
  return { token, secret };
}

export async function listTokens(db: D1Database): Promise<Token[]> {
  return (await queries.selectTokens(db)).map(fromRow);
}

/**
 * Tokens revoked by this isolate, by id, remembered for as long as a cache
 * entry lives: a lookup that read a token from the catalog just before its
 * revocation must neither cache nor answer it.
 */
const recentlyRevoked = new Map<string, number>();

export async function revokeToken(db: D1Database, id: string): Promise<void> {
  const revoked = await queries.revokeToken(db, id, Date.now());
  forgetRevoked([id]);
  if (!revoked) throw FloeError.notFound("no token has this id"); // not echoed: it may be a secret sent by mistake
}

/** Revokes a token and every token it minted, transitively; answers the ids revoked now. */
export async function revokeTokenTree(db: D1Database, id: string): Promise<string[]> {
  const revoked = await queries.revokeTokenTree(db, id, Date.now());
  if (revoked === null) throw FloeError.notFound("no token has this id");
  forgetRevoked(revoked);
  return revoked;
}

/**
 * Forgets every token this isolate knows, so the next request reads its scopes afresh: after a drop ended
 * grants (other isolates read theirs within `cacheTtlMs`).
 */
export function forgetKnownTokens(): void {
  cache.clear();
}

function forgetRevoked(ids: readonly string[]): void {
  const nowMs = Date.now();
  for (const [revoked, atMs] of recentlyRevoked) if (atMs + cacheTtlMs < nowMs) recentlyRevoked.delete(revoked);
  for (const id of ids) recentlyRevoked.set(id, nowMs);
  const gone = new Set(ids);
  for (const [key, entry] of cache) if (gone.has(entry.token.id)) cache.delete(key);
}

/** The token a secret belongs to, or null for an unknown (or revoked) secret. */
export async function findToken(db: D1Database, secret: string): Promise<Token | null> {
  // Secrets of another shape cannot exist, so they cost no hashing and no catalog read.
  if (!looksLikeTokenSecret(secret)) return null;
  const key = await sha256Hex(secret);
  const nowMs = Date.now();
  const cached = cache.get(key);
  if (cached && cached.expiresAtMs > nowMs) return cached.token;
  if ((unknown.get(key) ?? 0) > nowMs) return null;
  const row = await queries.selectTokenBySecret(db, key);
  if (!row) {
    cache.delete(key);
    rememberUnknown(key, nowMs);
    return null;
  }
  const token = fromRow(row);
  if (recentlyRevoked.has(token.id)) return null;
  if (cache.size >= cacheEntriesMax) cache.clear();
  cache.set(key, { token, expiresAtMs: Date.now() + cacheTtlMs });
  return token;
}

/** The token a secret belongs to if this isolate knows it now, without asking the catalog; else null. */
export async function findKnownToken(secret: string): Promise<Token | null> {
  if (!looksLikeTokenSecret(secret)) return null;
  const cached = cache.get(await sha256Hex(secret));
  return cached && cached.expiresAtMs > Date.now() ? cached.token : null;
}

function rememberUnknown(key: string, nowMs: number): void {
  unknown.delete(key);
  if (unknown.size >= unknownEntriesMax) unknown.delete(unknown.keys().next().value!);
  unknown.set(key, nowMs + unknownTtlMs);
}

/** The JSON form clients see: never a secret or its hash. */
export function tokenToJson(token: Token) {
  return {
    id: token.id,
    name: token.name,
    scopes: token.scopes.map(formatScope),
    createdAt: new Date(token.createdAtMs).toISOString(),
    createdBy: token.createdBy,
  };
}

function toRow(token: Token): queries.TokenRow {
  const scopes = JSON.stringify(token.scopes.map(formatScope));
  return { tokenId: token.id, name: token.name, scopes, createdAtMs: token.createdAtMs, createdBy: token.createdBy };
}

function fromRow(row: queries.TokenRow): Token {
  const scopes = (JSON.parse(row.scopes) as unknown[]).map(parseScope);
  return { id: row.tokenId, name: row.name, scopes, createdAtMs: row.createdAtMs, createdBy: row.createdBy };
}
