/** The Hono environment every route shares. */
export interface FloeEnv {
  Bindings: Env;
}
