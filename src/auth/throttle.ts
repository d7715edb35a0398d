/**
 * Failed authentications per client address (`CF-Connecting-IP`), so that a
 * client guessing secrets, or sending a stale one in a loop, costs a bounded
 * amount: after `authFailuresPerWindowMax` failures within a window of
 * `authFailureWindowMs` (which starts at the address's first failure), its
 * requests are answered 429 with `Retry-After` until the window ends, before
 * any hashing or catalog lookup of what they carry.
 *
 * Invariants: the count is kept per isolate (in memory; each Worker
 * instance counts on its own), for at most `addressesMax` addresses (the
 * longest-known dropped first). A request without an address is never
 * counted: Cloudflare sets `CF-Connecting-IP` on every request from the
 * internet, so only service bindings and local tests lack it.
 */

/** Failed authentications an address may have per window before it must wait. */
export const authFailuresPerWindowMax = 20;
export const authFailureWindowMs = 60_000;
const addressesMax = 10_000;

interface FailureWindow {
  startMs: number;
  failures: number;
}

export class FailureLimiter {
  private readonly windows = new Map<string, FailureWindow>();

  constructor(private readonly entriesMax = addressesMax) {}

  get size(): number {
    return this.windows.size;
  }

  /** Seconds `address` must wait before its next authentication is tried; 0 when it may try now. */
  retryAfterSeconds(address: string | undefined, nowMs: number): number {
    const window = address === undefined ? undefined : this.current(address, nowMs);
    if (window === undefined || window.failures < authFailuresPerWindowMax) return 0;
    return Math.max(1, Math.ceil((window.startMs + authFailureWindowMs - nowMs) / 1000));
  }

  recordFailure(address: string | undefined, nowMs: number): void {
    if (address === undefined) return;
    const window = this.current(address, nowMs);
    if (window !== undefined) {
      window.failures++;
      return;
    }
    if (this.windows.size >= this.entriesMax) this.windows.delete(this.windows.keys().next().value!);
    this.windows.set(address, { startMs: nowMs, failures: 1 });
  }

  /** The address's window if it has not ended (an ended one is forgotten). */
  private current(address: string, nowMs: number): FailureWindow | undefined {
    const window = this.windows.get(address);
    if (window === undefined || nowMs < window.startMs + authFailureWindowMs) return window;
    this.windows.delete(address);
    return undefined;
  }
}

/** This isolate's count, which access control consults. */
export const failedAuthentications = new FailureLimiter();
