/**
 * Routes for a table's rows: write (JSON, NDJSON, Arrow; upsert, partial
 * update and delete on primary-key tables), read one bucket's log (of one
 * partition, for a partitioned table), look up keys, and subscribe.
 */
import { isAutoPartitioned } from "../table/auto-partitioning.ts";
import { Hono } from "hono";
import { FloeError } from "../errors.ts";
import { rowsFromArrow } from "../write/arrow.ts";
import { parseJsonRows, parseNdjsonRows, rowsFromJson } from "../write/json.ts";
import { planWrite } from "../write/plan.ts";
import { writeRows } from "../write/write.ts";
import { readLogPage } from "../read/log.ts";
import { pageToIpc, pageToJsonRows } from "../log/page.ts";
import { lookupKeys, lookupPrefix } from "../read/lookup.ts";
import { physicalTable } from "../catalog/partitions.ts";
import { openSubscription } from "../subscribe/open.ts";
import { access, needs, principalOf } from "../auth/access.ts";
import { contentTypes, headers, requestLimits, websocketAuth } from "../vocabulary.ts";
import type { FloeEnv } from "./env.ts";
import { bodyFormat, bodyText, readBody, readJsonBody } from "./body.ts";
import { columnsParam, enumParam, integerParam, withTableParam, writerParam } from "./params.ts";

const formats = ["json", "ndjson", "arrow"] as const;

export const rowRoutes = new Hono<FloeEnv>()
  .post("/:table/rows", access(({ db, table }) => needs.write(db, table)), async (c) => {
    const format = bodyFormat(c.req.raw);
    const writer = writerParam(c.req.raw);
    const body = await readBody(c.req.raw);
    const buckets = await withTableParam(c, async (table) => {
      const { definition } = table;
      const plan = planWrite(definition, c.req.query("op"), columnsParam(c.req.query("columns")));
      const ignoreSystemColumns = enumParam("ignoreSystemColumns", c.req.query("ignoreSystemColumns"), ["true", "false"], "false") === "true";
      const dynamicPartitions = enumParam("dynamicPartitions", c.req.query("dynamicPartitions"), ["true", "false"], "false") === "true";
      const batch =
        format === "arrow"
          ? rowsFromArrow(definition, plan.columns, body, { ignoreSystemColumns })
          : rowsFromJson(definition, plan.columns, format === "json" ? parseJsonRows(bodyText(body)) : parseNdjsonRows(bodyText(body)));
      // As Fluss's client.writer.dynamic-create-partition.enabled, per request, or for every writer by the table's property.
      const createPartitions = dynamicPartitions || isAutoPartitioned(definition.properties);
      return writeRows(c.env, table, plan, batch, { writer, createPartitions });
    });
    return c.json({ buckets });
  })
  .get("/:table/log", access(({ db, table }) => needs.read(db, table)), async (c) => {
    const offsetText = c.req.query("offset");
    const limit = integerParam("limit", c.req.query("limit"), requestLimits.logReadRowsDefault);
    if (limit < 1 || limit > requestLimits.logReadRowsMax) {
      throw FloeError.badRequest(`limit must be 1..${requestLimits.logReadRowsMax}, got ${limit}`);
    }
    const request = {
      bucket: integerParam("bucket", c.req.query("bucket")),
      offset: offsetText === undefined || offsetText === "earliest" ? ("earliest" as const) : integerParam("offset", offsetText),
      limit,
      columns: columnsParam(c.req.query("columns")),
    };
    const { page, partition } = await withTableParam(c, async (table) => {
      const physical = await physicalTable(c.env.CATALOG, table, c.req.query("partition"));
      return { page: await readLogPage(c.env, physical, request), partition: physical.partition?.spec };
    });
    const format = enumParam("format", c.req.query("format"), formats, "json");
    c.header(headers.nextOffset, String(page.nextOffset));
    c.header(headers.highWatermark, String(page.highWatermark));
    c.header(headers.logStartOffset, String(page.logStartOffset));
    if (format === "arrow") {
      return c.body(pageToIpc(page) as Uint8Array<ArrayBuffer>, 200, { "content-type": contentTypes.arrowStream });
    }
    const rows = pageToJsonRows(page);
    if (format === "ndjson") {
      return c.body(rows.map((r) => `${JSON.stringify(r)}\n`).join(""), 200, { "content-type": contentTypes.ndjson });
    }
    const { bucket, logStartOffset, highWatermark, nextOffset } = page;
    return c.json({ ...(partition === undefined ? {} : { partition }), bucket, logStartOffset, highWatermark, nextOffset, rows });
  })
  // A lookup carries its keys in a body, so it is a POST, but it only reads.
  .post("/:table/lookup", access(({ db, table }) => needs.read(db, table)), async (c) => {
    const body = await readJsonBody(c.req.raw);
    if (typeof body !== "object" || body === null || Array.isArray(body)) {
      throw FloeError.badRequest("a lookup body is { keys: [...] } or { prefix: {...}, limit? }");
    }
    const { keys, prefix, limit, ...rest } = body as Record<string, unknown>;
    if (Object.keys(rest).length > 0) throw FloeError.badRequest(`unknown lookup field '${Object.keys(rest)[0]}'`);
    if ((keys === undefined) === (prefix === undefined)) throw FloeError.badRequest("send either keys or prefix");
    if (keys !== undefined) return c.json({ rows: await withTableParam(c, (table) => lookupKeys(c.env, table, keys)) });
    const rowsMax = limit ?? requestLimits.prefixRowsDefault;
    if (typeof rowsMax !== "number" || !Number.isInteger(rowsMax) || rowsMax < 1 || rowsMax > requestLimits.prefixRowsMax) {
      throw FloeError.badRequest(`limit must be an integer 1..${requestLimits.prefixRowsMax}`);
    }
    return c.json(await withTableParam(c, (table) => lookupPrefix(c.env, table, prefix, rowsMax)));
  })
  .get("/:table/subscribe", access(({ db, table }) => needs.read(db, table)), async (c) => {
    const offersFloe = websocketAuth.offered(c.req.header("sec-websocket-protocol") ?? null);
    const tokenStillValid = c.get("tokenStillValid");
    const firstMessage = c.req.query("subscribe");
    // The table first, so a plain GET answers what the upgrade would have been refused with (a client
    // probes this way, since a WebSocket cannot see an upgrade's status), and 426 only where it would upgrade.
    return withTableParam(c, async (table) => {
      if (c.req.header("upgrade")?.toLowerCase() !== "websocket") {
        throw new FloeError("upgrade_required", "subscribe is a WebSocket endpoint: send Upgrade: websocket");
      }
      return openSubscription(c.env, table, { principal: principalOf(c).id, selectFloeProtocol: offersFloe, tokenStillValid, firstMessage });
    });
  });
