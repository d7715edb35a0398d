/**
 * Names and paging on the REST catalog's routes.
 *
 * A namespace is a Floe database: one level, named like one. In a path it
 * is the `{namespace}` segment (levels joined by 0x1F, `%1F`); in a body an
 * array of levels. A path naming more than one level names no namespace
 * (404); a body that does is refused (400).
 *
 * Paging (`pageToken`, `pageSize`): a list pages when either is given and
 * answers everything at once, with `next-page-token: null`, when neither is.
 * The token is opaque to clients: the last name of the page, encoded.
 */
import type { Context } from "hono";
import { assertName } from "../table/schema.ts";
import { base64url } from "../vocabulary.ts";
import { IcebergError } from "./errors.ts";
import * as wire from "./wire.ts";

/** The one level a namespace has; 0x1F separates levels. */
export const namespaceSeparator = "\x1f";

export function namespaceParam(c: Context): string {
  const value = c.req.param("db") ?? "";
  const levels = value.split(namespaceSeparator);
  if (levels.length > 1) throw IcebergError.noSuchNamespace(levels.join("."));
  assertName("namespace", value);
  return value;
}

export function tableParam(c: Context): string {
  const value = c.req.param("table");
  assertName("table", value);
  return value;
}

export function namespaceField(value: unknown, what: string): string {
  const levels = wire.stringList(value, what);
  if (levels.length !== 1) throw IcebergError.badRequest(`${what}: Floe namespaces have exactly one level, got ${levels.length}`);
  assertName("namespace", levels[0]);
  return levels[0]!;
}

export function tableNameField(value: unknown, what: string): string {
  assertName("table", wire.string(value, what));
  return value as string;
}

export interface TableIdentifier {
  namespace: string;
  name: string;
}

export function identifierField(value: unknown, what: string): TableIdentifier {
  const body = wire.object(value, what);
  return { namespace: namespaceField(body.namespace, `${what}.namespace`), name: tableNameField(body.name, `${what}.name`) };
}

export const pageSizeDefault = 100;
export const pageSizeMax = 1000;

export interface PageRequest {
  /** Names after this one ("" for the first page). */
  afterName: string;
  /** Null when the client did not ask to page. */
  pageSize: number | null;
}

export function pageRequest(c: Context): PageRequest {
  const token = c.req.query("pageToken");
  const size = c.req.query("pageSize");
  if (token === undefined && size === undefined) return { afterName: "", pageSize: null };
  let pageSize = pageSizeDefault;
  if (size !== undefined && size !== "") {
    if (!/^\d{1,7}$/.test(size) || Number(size) < 1) throw IcebergError.badRequest(`pageSize must be a positive integer, got '${size.slice(0, 20)}'`);
    pageSize = Math.min(Number(size), pageSizeMax);
  }
  return { afterName: token === undefined || token === "" ? "" : decodePageToken(token), pageSize };
}

/** The page's names and the token of the next page (null on the last page or when not paging). */
export function page<T>(items: T[], request: PageRequest, nameOf: (item: T) => string): { items: T[]; next: string | null } {
  if (request.pageSize === null || items.length <= request.pageSize) return { items, next: null };
  const kept = items.slice(0, request.pageSize);
  return { items: kept, next: encodePageToken(nameOf(kept[kept.length - 1]!)) };
}

/** How many rows to ask D1 for: one more than a page, to know whether another follows. */
export function rowsToRead(request: PageRequest): number {
  return request.pageSize === null ? -1 : request.pageSize + 1;
}

const tokenPrefix = "after:";

function encodePageToken(name: string): string {
  return base64url(new TextEncoder().encode(`${tokenPrefix}${name}`));
}

function decodePageToken(token: string): string {
  let text = "";
  try {
    text = atob(token.replaceAll("-", "+").replaceAll("_", "/"));
  } catch {
    // falls through to the refusal below
  }
  const name = text.startsWith(tokenPrefix) ? text.slice(tokenPrefix.length) : "";
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) throw IcebergError.badRequest("pageToken is not a token this server gave out");
  return name;
}
