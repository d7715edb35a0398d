/**
 * Access for the two routes whose tables are named in the body, not the
 * path (`POST /tables/rename`, `POST /transactions/commit`). Their declared
 * need (`authenticated`, their first handler) is a valid token of any scope
 * (or open mode), so a caller without one hears 401 before the body is
 * read; then each table the body names needs write on it, checked before
 * anything is looked up, as every other route's need is.
 */
import type { Context, MiddlewareHandler } from "hono";
import { needs, requireNeed } from "../auth/access.ts";
import { FloeError } from "../errors.ts";

/** Passes any caller whose token is valid (a 403 for admin still means the token was accepted). */
export const authenticated: MiddlewareHandler<{ Bindings: Env }> = async (c, next) => {
  try {
    await requireNeed(c, needs.admin());
  } catch (error) {
    if (!(error instanceof FloeError && error.kind === "forbidden")) throw error;
  }
  await next();
};

/** Requires write on each named table (or, with `table` null, on the whole database). */
export async function requireWrites(c: Context<{ Bindings: Env }>, targets: readonly { namespace: string; table: string | null }[]): Promise<void> {
  for (const { namespace, table } of targets) await requireNeed(c, needs.write(namespace, table));
}

/** Whether the caller is an admin (or the server runs open): only then are R2 credentials vended. */
export async function callerIsAdmin(c: Context<{ Bindings: Env }>): Promise<boolean> {
  try {
    await requireNeed(c, needs.admin());
    return true;
  } catch {
    return false;
  }
}
