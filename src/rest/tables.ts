/**
 * Table routes of the REST catalog. A namespace lists its Floe tables that
 * have tiered (a Floe table has Iceberg metadata from its first tiering
 * round on) and its external Iceberg tables. Floe tables load, and refuse
 * every write (403); external tables are created, committed, registered and
 * dropped here.
 *
 * Needs, as `/v1` declares them: read on the table to load it, write on the
 * table to commit to it, write on the database to create, register or drop.
 */
import { Hono, type Context } from "hono";
import { access, needs } from "../auth/access.ts";
import * as catalog from "../catalog/catalog.ts";
import * as iceberg from "../catalog/iceberg.ts";
import { getLakeState } from "../catalog/lake.ts";
import { isLakeEnabled } from "../table/schema.ts";
import type { RestEnv } from "./env.ts";
import { callerIsAdmin } from "./access.ts";
import { readIcebergBody } from "./body.ts";
import { floeManaged, plannedMetadata, prepareChange, resolveTarget, swapAll, swapChanges, type TableChange } from "./commit.ts";
import { IcebergError } from "./errors.ts";
import { stringifyJson } from "./json.ts";
import { etagMatches, etagOf, metadataText, readStoredMetadata, type SnapshotsMode, type StoredMetadata, type TableMetadata } from "./metadata.ts";
import { namespaceParam, page, pageRequest, rowsToRead, tableNameField, tableParam, type TableIdentifier } from "./params.ts";
import { parseRequirement } from "./requirements.ts";
import { checkTableLocation, fileIoConfig, vendedCredentials, wantsVendedCredentials } from "./storage.ts";
import { parseUpdates, writableFormatVersion } from "./updates.ts";
import * as wire from "./wire.ts";

type RouteContext = Context<RestEnv>;

export const tableRoutes = new Hono<RestEnv>()
  .get("/:db/tables", access(({ db }) => needs.read(db)), async (c) => {
    const namespace = namespaceParam(c);
    const request = pageRequest(c);
    if (!(await iceberg.namespaceExists(c.env.CATALOG, namespace))) throw IcebergError.noSuchNamespace(namespace);
    const names = await iceberg.icebergTableNamesPage(c.env.CATALOG, namespace, request.afterName, rowsToRead(request));
    const { items, next } = page(names, request, (name) => name);
    return c.json({ identifiers: items.map((name) => ({ namespace: [namespace], name })), "next-page-token": next });
  })
  .post("/:db/tables", access(({ db }) => needs.write(db)), async (c) => {
    const namespace = namespaceParam(c);
    const body = wire.object(await readIcebergBody(c.req.raw), "the request");
    const change = createChange(namespace, body);
    if (body["stage-create"] === true) {
      const { metadata } = await plannedMetadata(c.env, change, "already-exists");
      return loadAnswer(c, { location: null, metadata: metadata! });
    }
    const prepared = await prepareChange(c.env, change, "already-exists");
    await swapChanges(c.env, [prepared], "already-exists");
    return loadAnswer(c, prepared.stored);
  })
  .post("/:db/register", access(({ db }) => needs.write(db)), async (c) => {
    const namespace = namespaceParam(c);
    const body = wire.object(await readIcebergBody(c.req.raw), "the request");
    const id = { namespace, name: tableNameField(body.name, "name") };
    const location = wire.string(body["metadata-location"], "metadata-location");
    const overwrite = body.overwrite === undefined ? false : wire.boolean(body.overwrite, "overwrite");
    const stored = await readStoredMetadata(c.env, location);
    const target = await resolveTarget(c.env, id);
    if (target.kind === "floe") throw overwrite ? floeManaged(id, "be overwritten") : IcebergError.alreadyExists(`a Floe table '${namespace}.${id.name}' exists`);
    if (target.kind === "external" && !overwrite) throw IcebergError.alreadyExists(`table '${namespace}.${id.name}' already exists`);
    const folders = new Set((await catalog.listTables(c.env.CATALOG, namespace).catch(() => [])).map((t) => `${t.name}-${t.tableId}`));
    checkTableLocation(c.env, namespace, stored.metadata.location, folders);
    await swapAll(c.env, [target.kind === "external"
      ? { kind: "update", databaseName: namespace, tableName: id.name, metadataLocation: location, expectedVersion: target.row.version }
      : { kind: "create", databaseName: namespace, tableName: id.name, metadataLocation: location }], "already-exists");
    return loadAnswer(c, stored);
  })
  .get("/:db/tables/:table", access(({ db, table }) => needs.read(db, table)), async (c) => {
    const id = { namespace: namespaceParam(c), name: tableParam(c) };
    if (c.req.method === "HEAD") {
      await requireLoadable(c.env, id);
      return c.body(null, 204);
    }
    return loadAnswer(c, await loadable(c.env, id));
  })
  .post("/:db/tables/:table", access(({ db, table }) => needs.write(db, table)), async (c) => {
    const id = { namespace: namespaceParam(c), name: tableParam(c) };
    const change = commitChange(id, await readIcebergBody(c.req.raw), "the request");
    const prepared = await prepareChange(c.env, change, "commit-failed");
    await swapChanges(c.env, [prepared], "commit-failed");
    c.header("ETag", await etagOf(prepared.stored.location, "all"));
    return c.body(`{"metadata-location":${JSON.stringify(prepared.stored.location)},"metadata":${prepared.stored.text}}`, 200, jsonType);
  })
  .delete("/:db/tables/:table", access(({ db }) => needs.write(db)), async (c) => {
    const id = { namespace: namespaceParam(c), name: tableParam(c) };
    const purge = c.req.query("purgeRequested");
    if (purge !== undefined && purge !== "false" && purge !== "true") throw IcebergError.badRequest(`purgeRequested must be true or false`);
    if (purge === "true") {
      throw IcebergError.badRequest("Floe does not purge tables' files: drop without purgeRequested (the files stay in R2 and can be registered again)");
    }
    const target = await resolveTarget(c.env, id);
    if (target.kind === "floe") throw floeManaged(id, "be dropped");
    if (target.kind === "missing") throw await notFound(c.env, id);
    await swapAll(c.env, [{ kind: "drop", databaseName: id.namespace, tableName: id.name, expectedVersion: target.row.version }], "already-exists");
    return c.body(null, 204);
  })
  .post("/:db/tables/:table/metrics", access(({ db, table }) => needs.read(db, table)), async (c) => {
    const id = { namespace: namespaceParam(c), name: tableParam(c) };
    const report = wire.object(await readIcebergBody(c.req.raw), "the metrics report");
    wire.string(report["report-type"], "report-type");
    await requireLoadable(c.env, id);
    return c.body(null, 204);
  })
  .get("/:db/tables/:table/credentials", access(({ db, table }) => needs.read(db, table)), async (c) => {
    const id = { namespace: namespaceParam(c), name: tableParam(c) };
    const stored = await loadable(c.env, id);
    const credentials = (await callerIsAdmin(c)) ? vendedCredentials(c.env, stored.metadata.location) : [];
    return c.json({ "storage-credentials": credentials });
  });

const jsonType = { "Content-Type": "application/json" };

/** A commit body (`CommitTableRequest`) as a change of the table `id`. */
export function commitChange(id: TableIdentifier, input: unknown, what: string): TableChange {
  const body = wire.object(input, what);
  return {
    id,
    requirements: wire.array(body.requirements ?? [], `${what}.requirements`).map((r, i) => parseRequirement(r, `${what}.requirements[${i}]`)),
    updates: parseUpdates(body.updates, `${what}.updates`),
  };
}

/** A `CreateTableRequest` as the change that creates the table, the updates a staged create's commit would send. */
function createChange(namespace: string, body: wire.JsonObject): TableChange {
  const name = tableNameField(body.name, "name");
  const properties = body.properties === undefined || body.properties === null ? {} : { ...wire.stringMap(body.properties, "properties") };
  const formatVersion = properties["format-version"] ?? String(writableFormatVersion);
  delete properties["format-version"];
  if (formatVersion !== String(writableFormatVersion)) {
    throw IcebergError.badRequest(`Floe creates format-version ${writableFormatVersion} tables, not ${formatVersion.slice(0, 10)}`);
  }
  const location = body.location === undefined || body.location === null ? null : wire.string(body.location, "location");
  return {
    id: { namespace, name },
    requirements: [{ type: "assert-create" }],
    updates: [
      { action: "assign-uuid", uuid: crypto.randomUUID() },
      { action: "upgrade-format-version", "format-version": writableFormatVersion },
      { action: "add-schema", schema: body.schema },
      { action: "set-current-schema", "schema-id": -1 },
      { action: "add-spec", spec: body["partition-spec"] ?? { fields: [] } },
      { action: "set-default-spec", "spec-id": -1 },
      { action: "add-sort-order", "sort-order": body["write-order"] ?? { fields: [] } },
      { action: "set-default-sort-order", "sort-order-id": -1 },
      ...(location === null ? [] : [{ action: "set-location", location }]),
      { action: "set-properties", updates: properties },
    ],
  };
}

/** The metadata a load of `id` answers: a tiered Floe table's, or an external table's; a 404 saying why there is none. */
async function loadable(env: Env, id: TableIdentifier): Promise<StoredMetadata> {
  const floe = await catalog.findTable(env.CATALOG, id.namespace, id.name);
  if (floe) {
    const lake = await getLakeState(env.CATALOG, floe.tableId);
    if (lake) return readStoredMetadata(env, lake.metadataLocation);
    throw IcebergError.noSuchTable(id.namespace, id.name, isLakeEnabled(floe.definition)
      ? "is a Floe table that has not tiered yet: its first tiering round writes its Iceberg metadata"
      : "is a Floe table that is not tiered into the lake (its property table.datalake.enabled is not true)");
  }
  const row = await iceberg.getIcebergTable(env.CATALOG, id.namespace, id.name);
  if (row) return readStoredMetadata(env, row.metadataLocation);
  throw await notFound(env, id);
}

async function requireLoadable(env: Env, id: TableIdentifier): Promise<void> {
  const floe = await catalog.findTable(env.CATALOG, id.namespace, id.name);
  if (floe && (await getLakeState(env.CATALOG, floe.tableId))) return;
  if (!floe && (await iceberg.getIcebergTable(env.CATALOG, id.namespace, id.name))) return;
  await loadable(env, id);
}

async function notFound(env: Env, id: TableIdentifier): Promise<IcebergError> {
  if (!(await iceberg.namespaceExists(env.CATALOG, id.namespace))) return IcebergError.noSuchNamespace(id.namespace);
  return IcebergError.noSuchTable(id.namespace, id.name);
}

/**
 * A `LoadTableResult`: the metadata (the file's own text for `snapshots=all`), its location (null for a
 * staged create), the FileIO config, vended credentials when asked for and allowed, and an ETag that
 * `If-None-Match` turns into a 304.
 */
async function loadAnswer(c: RouteContext, stored: StoredMetadata | { location: null; metadata: TableMetadata }): Promise<Response> {
  const snapshots = c.req.query("snapshots") ?? "all";
  if (snapshots !== "all" && snapshots !== "refs") throw IcebergError.badRequest(`snapshots must be all or refs, got '${snapshots.slice(0, 20)}'`);
  const mode: SnapshotsMode = snapshots;
  const location = stored.location;
  if (location !== null) {
    const etag = await etagOf(location, mode);
    c.header("ETag", etag);
    if (etagMatches(c.req.header("If-None-Match"), etag)) return c.body(null, 304);
  }
  const metadata = location === null ? stringifyJson(stored.metadata) : metadataText(stored as StoredMetadata, mode);
  const config = fileIoConfig(c.env);
  const vend = wantsVendedCredentials(c.req.header("X-Iceberg-Access-Delegation")) && (await callerIsAdmin(c));
  const credentials = vend ? vendedCredentials(c.env, stored.metadata.location) : [];
  const credentialConfig = credentials[0]?.config ?? {};
  const text = `{"metadata-location":${JSON.stringify(location)},"metadata":${metadata},"config":${JSON.stringify({ ...config, ...credentialConfig })}`
    + (credentials.length > 0 ? `,"storage-credentials":${JSON.stringify(credentials)}}` : "}");
  return c.body(text, 200, jsonType);
}
