/**
 * Reading one bucket's log from an offset: asks the bucket's Tablet for a
 * page of the asked columns (`log/page.ts`), which it cuts, filters and
 * projects, so only the rows and columns asked for cross to the Worker.
 */
import { FloeError } from "../errors.ts";
import type { PhysicalTable } from "../catalog/partitions.ts";
import { columnSpec } from "../table/schema.ts";
import { live, tabletStub } from "../tablet/stub.ts";
import { requestLimits } from "../vocabulary.ts";
import type { LogPage } from "../log/page.ts";
import type { Predicate } from "../table/predicate.ts";
import { pageFromWire, projectColumns } from "../log/page.ts";

export interface LogReadRequest {
  bucket: number;
  offset: number | "earliest";
  limit: number;
  /** Column names to return, in order; all columns when absent. */
  columns?: string[];
  /** Only rows satisfying every predicate, evaluated by the Tablet; the page still covers every offset it read. */
  filter?: readonly Predicate[];
  /**
   * How an offset outside the log is answered: as the caller's mistake
   * (`bad_request`, the default), or as data dropped by retention while a
   * longer read was under way (`gone`).
   */
  outOfRange?: "bad_request" | "gone";
}

/** Log reads never pull more than this many stored bytes from a Tablet per call. */
const readBytesMax = 8 * 1024 * 1024;

export async function readLogPage(env: Env, table: PhysicalTable, request: LogReadRequest): Promise<LogPage> {
  const { definition } = table;
  if (request.bucket >= definition.bucket.num) {
    throw FloeError.badRequest(`bucket ${request.bucket} does not exist; the table has ${definition.bucket.num}${table.partition ? " per partition" : ""}`);
  }
  const projected = projectColumns(definition.columns, request.columns);
  const result = live(await tabletStub(env, table, request.bucket).read({
    offset: request.offset,
    rowsMax: request.limit,
    bytesMax: readBytesMax,
    columns: projected.map(columnSpec),
    ...(request.filter && request.filter.length > 0 ? { filter: request.filter.map((p) => ({ ...p, column: columnSpec(p.column) })) } : {}),
  }));
  if (result.kind === "offset_out_of_range") {
    const where = table.partition ? `bucket ${request.bucket} of partition ${table.partition.spec}` : `bucket ${request.bucket}`;
    const message = `offset ${request.offset} is outside ${where}'s log [${result.logStartOffset}, ${result.highWatermark}]`;
    if (request.outOfRange === "gone") {
      throw new FloeError("gone", `${message}: retention dropped it after tiering while this read ran; retry the read`);
    }
    throw FloeError.badRequest(message);
  }
  return pageFromWire(result.page, request.bucket, projected);
}

/**
 * Every page of one bucket's log in `[from, to)`, in order: the whole range
 * or a failure, never a silently shorter range. With a filter, pages hold
 * only the matching rows (some none) but together still cover the range.
 */
export async function readLogRange(
  env: Env, table: PhysicalTable, request: Omit<LogReadRequest, "offset" | "limit"> & { from: number; to: number },
): Promise<LogPage[]> {
  const { from, to, ...rest } = request;
  const pages: LogPage[] = [];
  for (let offset = from; offset < to; ) {
    const page = await readLogPage(env, table, { ...rest, offset, limit: Math.min(requestLimits.logReadRowsMax, to - offset) });
    if (page.nextOffset <= offset) throw new Error(`bucket ${request.bucket}'s log ended at ${offset}, before ${to}`);
    pages.push(page);
    offset = page.nextOffset;
  }
  return pages;
}
