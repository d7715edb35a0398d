/**
 * The catalog routes whose tables are named in the body: renaming a table,
 * and committing changes to several tables at once (how DuckDB commits).
 * Both need write on every namespace or table they touch (`access.ts`).
 *
 * Invariant: a multi-table commit changes every table or none: all
 * requirements are checked and all metadata written before one D1
 * transaction swaps every pointer.
 */
import { Hono } from "hono";
import type { RestEnv } from "./env.ts";
import { authenticated, requireWrites } from "./access.ts";
import { readIcebergBody } from "./body.ts";
import { floeManaged, prepareChange, resolveTarget, swapAll, swapChanges } from "./commit.ts";
import { IcebergError } from "./errors.ts";
import { identifierField } from "./params.ts";
import { commitChange } from "./tables.ts";
import * as wire from "./wire.ts";

/** Most tables one transaction may change. */
export const tablesPerTransactionMax = 100;

export const transactionRoutes = new Hono<RestEnv>()
  .post("/tables/rename", authenticated, async (c) => {
    const body = wire.object(await readIcebergBody(c.req.raw), "the request");
    const source = identifierField(body.source, "source");
    const destination = identifierField(body.destination, "destination");
    await requireWrites(c, [{ namespace: source.namespace, table: null }, { namespace: destination.namespace, table: null }]);
    const target = await resolveTarget(c.env, source);
    if (target.kind === "floe") throw floeManaged(source, "be renamed");
    if (target.kind === "missing") throw IcebergError.noSuchTable(source.namespace, source.name);
    await swapAll(c.env, [{
      kind: "rename",
      databaseName: source.namespace,
      tableName: source.name,
      expectedVersion: target.row.version,
      toDatabase: destination.namespace,
      toTable: destination.name,
    }], "already-exists");
    return c.body(null, 204);
  })
  .post("/transactions/commit", authenticated, async (c) => {
    const body = wire.object(await readIcebergBody(c.req.raw), "the request");
    const raw = wire.array(body["table-changes"], "table-changes");
    if (raw.length === 0 || raw.length > tablesPerTransactionMax) {
      throw IcebergError.badRequest(`table-changes must hold 1..${tablesPerTransactionMax} table commits, got ${raw.length}`);
    }
    const changes = raw.map((input, i) => {
      const what = `table-changes[${i}]`;
      return commitChange(identifierField(wire.object(input, what).identifier, `${what}.identifier`), input, what);
    });
    const names = changes.map((change) => `${change.id.namespace}.${change.id.name}`);
    const twice = names.find((name, i) => names.indexOf(name) !== i);
    if (twice !== undefined) throw IcebergError.badRequest(`table-changes names table '${twice}' twice`);
    await requireWrites(c, changes.map((change) => ({ namespace: change.id.namespace, table: change.id.name })));
    const prepared = [];
    for (const change of changes) prepared.push(await prepareChange(c.env, change, "commit-failed"));
    await swapChanges(c.env, prepared, "commit-failed");
    return c.body(null, 204);
  });
