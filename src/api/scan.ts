/**
 * The scan route: one logical table read across the lake and the hot log
 * (`source=union`, the default), the lake alone (`source=lake`, or the
 * table named `{table}$lake`) or the Tablets alone (`source=hot`), with
 * projection, filters, a row limit and time travel, streamed as JSON,
 * NDJSON or Arrow; of a partitioned table, every partition or one
 * (`partition=`), pruned by filters on the partition keys.
 */
import { Hono } from "hono";
import { FloeError } from "../errors.ts";
import { withTable } from "../catalog/cache.ts";
import { access, needs } from "../auth/access.ts";
import { openScan, scanSources } from "../read/scan.ts";
import { scanBody, scanFormats } from "../read/scan-output.ts";
import { contentTypes, headers, tableOfLakeName } from "../vocabulary.ts";
import type { FloeEnv } from "./env.ts";
import { columnsParam, enumParam, integerParam, nameParam } from "./params.ts";

const contentTypeOf = { json: contentTypes.json, ndjson: contentTypes.ndjson, arrow: contentTypes.arrowStream } as const;

// `{table}$lake` is the same table read from its lake, so it needs the same scope.
const scanNeed = access(({ db, table }) => needs.read(db, tableOfLakeName(table) ?? table));

export const scanRoutes = new Hono<FloeEnv>().get("/:table/scan", scanNeed, async (c) => {
  const tableParam = c.req.param("table");
  const lakeTable = tableOfLakeName(tableParam);
  const lakeAlias = lakeTable !== undefined;
  const source = enumParam("source", c.req.query("source"), scanSources, lakeAlias ? "lake" : "union");
  if (lakeAlias && source !== "lake") throw FloeError.badRequest(`${tableParam} is the lake table: its source can only be lake`);
  const format = enumParam("format", c.req.query("format"), scanFormats, "json");
  const limitText = c.req.query("limit");
  const limit = limitText === undefined ? undefined : integerParam("limit", limitText);
  if (limit === 0) throw FloeError.badRequest("limit must be at least 1");
  const snapshotText = c.req.query("snapshot");
  const request = {
    source,
    columns: columnsParam(c.req.query("columns")),
    filter: c.req.query("filter"),
    limit,
    snapshotId: snapshotText === undefined ? undefined : integerParam("snapshot", snapshotText),
    partition: c.req.query("partition"),
  };
  const database = nameParam("database", c.req.param("db"));
  const name = nameParam("table", lakeTable ?? tableParam);
  const { scan, first } = await withTable(c.env.CATALOG, database, name, async (table) => {
    const opened = await openScan(c.env, table, request);
    // The first rows are read before answering, so an early failure still gets its error status.
    return { scan: opened, first: await opened.rows.next() };
  });
  c.header(headers.scanOffsets, JSON.stringify(scan.offsets));
  if (scan.snapshotId !== null) c.header(headers.lakeSnapshot, String(scan.snapshotId));
  return c.body(scanBody(scan, source, format, first), 200, { "content-type": contentTypeOf[format] });
});
