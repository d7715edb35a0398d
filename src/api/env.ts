/** The Hono environment every route shares. */
import type { Principal } from "../auth/access.ts";

export interface FloeEnv {
  Bindings: Env;
}

// Set by the first middleware for every request (`app.ts`); declared here so every handler may read it.
declare module "hono" {
  interface ContextVariableMap {
    requestId: string;
    /** Set by access control for a scoped token: whether it is still valid (a subscription re-checks it while it lives). */
    tokenStillValid: (() => Promise<boolean>) | undefined;
    /** Set by access control on every route that needs a token: who is calling. */
    principal: Principal | undefined;
  }
}
