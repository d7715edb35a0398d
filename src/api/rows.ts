/** Routes for a table's rows: write (JSON, NDJSON, Arrow) and read one bucket's log. */
import { Hono } from "hono";
import { FloeError } from "../errors.ts";
import { rowsFromArrow } from "../write/arrow.ts";
import { parseJsonRows, parseNdjsonRows, rowsFromJson } from "../write/json.ts";
import { writeRows } from "../write/write.ts";
import { pageToArrow, pageToJsonRows, readLogPage } from "../read/log.ts";
import { contentTypes, headers, requestLimits } from "../vocabulary.ts";
import type { FloeEnv } from "./env.ts";
import { bodyFormat, bodyText, readBody } from "./body.ts";
import { columnsParam, enumParam, integerParam, tableParam, writerParam } from "./params.ts";

export const rowRoutes = new Hono<FloeEnv>()
  .post("/:table/rows", async (c) => {
    const table = await tableParam(c);
    if (c.req.query("op") !== undefined || c.req.query("columns") !== undefined) {
      throw FloeError.badRequest("?op= and ?columns= apply to primary-key tables only");
    }
    const format = bodyFormat(c.req.raw);
    const writer = writerParam(c.req.raw);
    const body = await readBody(c.req.raw);
    const batch =
      format === "arrow"
        ? rowsFromArrow(table.definition, body)
        : rowsFromJson(table.definition, format === "json" ? parseJsonRows(bodyText(body)) : parseNdjsonRows(bodyText(body)));
    return c.json({ buckets: await writeRows(c.env, table, batch, writer) });
  })
  .get("/:table/log", async (c) => {
    const table = await tableParam(c);
    const offsetText = c.req.query("offset");
    const limit = integerParam("limit", c.req.query("limit"), requestLimits.logReadRowsDefault);
    if (limit < 1 || limit > requestLimits.logReadRowsMax) {
      throw FloeError.badRequest(`limit must be 1..${requestLimits.logReadRowsMax}, got ${limit}`);
    }
    const page = await readLogPage(c.env, table, {
      bucket: integerParam("bucket", c.req.query("bucket")),
      offset: offsetText === undefined || offsetText === "earliest" ? "earliest" : integerParam("offset", offsetText),
      limit,
      columns: columnsParam(c.req.query("columns")),
    });
    const format = enumParam("format", c.req.query("format"), ["json", "ndjson", "arrow"], "json");
    c.header(headers.nextOffset, String(page.nextOffset));
    c.header(headers.highWatermark, String(page.highWatermark));
    c.header(headers.logStartOffset, String(page.logStartOffset));
    if (format === "arrow") {
      return c.body(pageToArrow(page) as Uint8Array<ArrayBuffer>, 200, { "content-type": contentTypes.arrowStream });
    }
    const rows = pageToJsonRows(page);
    if (format === "ndjson") {
      return c.body(rows.map((r) => `${JSON.stringify(r)}\n`).join(""), 200, { "content-type": contentTypes.ndjson });
    }
    const { bucket, logStartOffset, highWatermark, nextOffset } = page;
    return c.json({ bucket, logStartOffset, highWatermark, nextOffset, rows });
  });
