/**
 * Namespace routes: a namespace is a Floe database. Listing, creating and
 * dropping them needs admin (as `/v1/databases` does); loading one needs
 * read on it; its properties (kept in D1) need write on it to change.
 * Floe namespaces have one level, so `?parent=` lists no children.
 */
import { Hono } from "hono";
import { access, needs } from "../auth/access.ts";
import * as catalog from "../catalog/catalog.ts";
import * as iceberg from "../catalog/iceberg.ts";
import type { RestEnv } from "./env.ts";
import { IcebergError } from "./errors.ts";
import { readIcebergBody } from "./body.ts";
import { namespaceField, namespaceParam, namespaceSeparator, page, pageRequest, rowsToRead } from "./params.ts";
import * as wire from "./wire.ts";

export const namespaceRoutes = new Hono<RestEnv>()
  .get("/", access(needs.admin), async (c) => {
    const request = pageRequest(c);
    const parent = c.req.query("parent") ?? "";
    if (parent !== "") {
      const levels = parent.split(namespaceSeparator);
      if (levels.length > 1 || !(await iceberg.namespaceExists(c.env.CATALOG, parent))) throw IcebergError.noSuchNamespace(levels.join("."));
      return c.json({ namespaces: [], "next-page-token": null });
    }
    const names = await iceberg.databaseNamesPage(c.env.CATALOG, request.afterName, rowsToRead(request));
    const { items, next } = page(names, request, (name) => name);
    return c.json({ namespaces: items.map((name) => [name]), "next-page-token": next });
  })
  .post("/", access(needs.admin), async (c) => {
    const body = wire.object(await readIcebergBody(c.req.raw), "the request");
    const name = namespaceField(body.namespace, "namespace");
    const properties = body.properties === undefined || body.properties === null ? {} : wire.stringMap(body.properties, "properties");
    const { created } = await catalog.createDatabase(c.env.CATALOG, name);
    if (!created) throw IcebergError.alreadyExists(`namespace '${name}' already exists`);
    await iceberg.updateNamespaceProperties(c.env.CATALOG, name, properties, []);
    return c.json({ namespace: [name], properties: await iceberg.namespaceProperties(c.env.CATALOG, name) });
  })
  .get("/:db", access(({ db }) => needs.read(db)), async (c) => {
    const name = namespaceParam(c);
    if (!(await iceberg.namespaceExists(c.env.CATALOG, name))) throw IcebergError.noSuchNamespace(name);
    if (c.req.method === "HEAD") return c.body(null, 204);
    return c.json({ namespace: [name], properties: await iceberg.namespaceProperties(c.env.CATALOG, name) });
  })
  .delete("/:db", access(needs.admin), async (c) => {
    const name = namespaceParam(c);
    const dropped = await iceberg.dropNamespace(c.env.CATALOG, name);
    if (dropped === "missing") throw IcebergError.noSuchNamespace(name);
    if (dropped === "not_empty") throw new IcebergError(409, "NamespaceNotEmptyException", `namespace '${name}' still has tables; drop them first`);
    return c.body(null, 204);
  })
  .post("/:db/properties", access(({ db }) => needs.write(db)), async (c) => {
    const name = namespaceParam(c);
    const body = wire.object(await readIcebergBody(c.req.raw), "the request");
    const updates = body.updates === undefined || body.updates === null ? {} : wire.stringMap(body.updates, "updates");
    const removals = body.removals === undefined || body.removals === null ? [] : wire.stringList(body.removals, "removals");
    const both = removals.find((key) => key in updates);
    if (both !== undefined) throw new IcebergError(422, "UnprocessableEntityException", `property '${both}' is both updated and removed`);
    if (!(await iceberg.namespaceExists(c.env.CATALOG, name))) throw IcebergError.noSuchNamespace(name);
    const before = await iceberg.namespaceProperties(c.env.CATALOG, name);
    await iceberg.updateNamespaceProperties(c.env.CATALOG, name, updates, removals);
    const unique = [...new Set(removals)];
    return c.json({
      updated: Object.keys(updates),
      removed: unique.filter((key) => key in before),
      missing: unique.filter((key) => !(key in before)),
    });
  });
