/** The Hono environment of the catalog's routes (the same bindings as `/v1`'s; `requestId` is set by the app). */
export interface RestEnv {
  Bindings: Env;
}
