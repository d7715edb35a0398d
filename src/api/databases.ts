/**
 * Routes for databases: create (idempotent), list, drop (only when empty).
 * Any token may list: it hears the databases its scopes name (all of them
 * for admin), so a scoped client can discover its own.
 */
import { Hono } from "hono";
import * as catalog from "../catalog/catalog.ts";
import { access, needs, principalOf } from "../auth/access.ts";
import { visibleDatabases } from "../auth/scopes.ts";
import type { FloeEnv } from "./env.ts";
import { nameParam } from "./params.ts";

export const databaseRoutes = new Hono<FloeEnv>()
  .get("/", access(needs.token), async (c) => {
    const databases = await catalog.listDatabases(c.env.CATALOG, visibleDatabases(principalOf(c).scopes));
    return c.json({ databases: databases.map((d) => ({ name: d.name, createdAt: new Date(d.createdAtMs).toISOString() })) });
  })
  .put("/:db", access(needs.admin), async (c) => {
    const name = nameParam("database", c.req.param("db"));
    const { created } = await catalog.createDatabase(c.env.CATALOG, name);
    return c.json({ name, created }, created ? 201 : 200);
  })
  .delete("/:db", access(needs.admin), async (c) => {
    const name = nameParam("database", c.req.param("db"));
    await catalog.dropDatabase(c.env.CATALOG, name);
    return c.json({ name, dropped: true });
  });
