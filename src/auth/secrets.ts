/**
 * Token secrets: minted from 256 random bits, stored only as their SHA-256,
 * compared in constant time.
 *
 * Why a plain SHA-256 and no salt or slow hash: the secrets are random, not
 * chosen by people, so there is no dictionary to defend against, and a fast
 * hash keeps every request's check cheap.
 */
import { base64url } from "../vocabulary.ts";

/** Scoped tokens start with this, so a leaked one is easy to recognise (and to scan for). */
const tokenPrefix = "floe_";

const secretBytes = 32;
// 32 bytes are 43 base64url characters without padding.
const secretShape = new RegExp(`^${tokenPrefix}[A-Za-z0-9_-]{43}$`);
const secretAnywhere = new RegExp(secretShape.source.slice(1, -1), "g");

export function newTokenSecret(): string {
  return `${tokenPrefix}${base64url(crypto.getRandomValues(new Uint8Array(secretBytes)))}`;
}

/** The shape of a secret `newTokenSecret` mints, checked before any hashing or catalog lookup. */
export function looksLikeTokenSecret(text: string): boolean {
  return secretShape.test(text);
}

async function sha256(text: string): Promise<ArrayBuffer> {
  return crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));
}

export async function sha256Hex(text: string): Promise<string> {
  return [...new Uint8Array(await sha256(text))].map((b) => b.toString(16).padStart(2, "0")).join("");
}

/**
 * Whether two secrets are equal, in time that depends on neither: the digests
 * have a fixed length, so neither a common prefix nor the lengths show.
 */
export async function sameSecret(presented: string, expected: string): Promise<boolean> {
  const [a, b] = await Promise.all([sha256(presented), sha256(expected)]);
  return crypto.subtle.timingSafeEqual(a, b);
}

/** `text` with anything shaped like a token secret masked, for log lines built from what a client sent. */
export function redactSecrets(text: string): string {
  return text.replace(secretAnywhere, `${tokenPrefix}[redacted]`);
}
