/**
 * Errors of the Iceberg REST catalog, in the spec's shape:
 * `{ "error": { "message", "type", "code" } }` with `code` the HTTP status.
 *
 * Routes under `/iceberg` throw `IcebergError` with the spec's exception
 * type where the spec names one (a Java client picks its exception by it:
 * `NoSuchNamespaceException` against `NoSuchTableException` on one 404).
 * A `FloeError` thrown by code shared with `/v1` (access control, bodies)
 * keeps its status and gets the type its kind means. This module is the one
 * place a failure becomes an answer on these routes.
 */
import type { Context } from "hono";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import { FloeError, type ErrorKind } from "../errors.ts";
import { catalogFailure } from "../catalog/catalog.ts";
import { logFailedRequest } from "../auth/request-log.ts";

export type IcebergErrorType =
  | "BadRequestException"
  | "NotAuthorizedException"
  | "ForbiddenException"
  | "NoSuchNamespaceException"
  | "NoSuchTableException"
  | "NoSuchWarehouseException"
  | "NotFoundException"
  | "AlreadyExistsException"
  | "NamespaceNotEmptyException"
  | "CommitFailedException"
  | "CommitStateUnknownException"
  | "UnsupportedOperationException"
  | "UnprocessableEntityException"
  | "ServiceUnavailableException"
  | "InternalServerError"
  | `${string}Exception`;

export class IcebergError extends Error {
  constructor(
    readonly status: number,
    readonly type: IcebergErrorType,
    message: string,
  ) {
    super(message);
    this.name = "IcebergError";
  }

  static badRequest(message: string): IcebergError {
    return new IcebergError(400, "BadRequestException", message);
  }

  static noSuchNamespace(namespace: string): IcebergError {
    return new IcebergError(404, "NoSuchNamespaceException", `namespace '${namespace}' does not exist`);
  }

  static noSuchTable(namespace: string, table: string, why = "does not exist"): IcebergError {
    return new IcebergError(404, "NoSuchTableException", `table '${namespace}.${table}' ${why}`);
  }

  static alreadyExists(message: string): IcebergError {
    return new IcebergError(409, "AlreadyExistsException", message);
  }

  static commitFailed(message: string): IcebergError {
    return new IcebergError(409, "CommitFailedException", message);
  }
}

const typeOfKind: Record<ErrorKind, IcebergErrorType> = {
  bad_request: "BadRequestException",
  unauthorized: "NotAuthorizedException",
  forbidden: "ForbiddenException",
  not_found: "NotFoundException",
  conflict: "AlreadyExistsException",
  gone: "NotFoundException",
  payload_too_large: "BadRequestException",
  unsupported_media_type: "BadRequestException",
  upgrade_required: "BadRequestException",
  too_many_requests: "TooManyRequestsException",
  unavailable: "ServiceUnavailableException",
  internal: "InternalServerError",
};

export interface IcebergErrorBody {
  error: { message: string; type: IcebergErrorType; code: number };
}

/** The answer for anything thrown on an `/iceberg` route, logged as the `/v1` routes log theirs. */
export function icebergErrorAnswer(c: Context<{ Bindings: Env }>, error: unknown): Response {
  const requestId = c.get("requestId");
  const failure = icebergErrorOf(error, requestId);
  logFailedRequest({ requestId, request: c.req.raw, status: failure.status, code: failure.type, message: failure.message, internal: failure.status === 500 ? error : undefined });
  if (failure.status === 401) c.header("WWW-Authenticate", 'Bearer realm="floe"');
  if (error instanceof FloeError && error.retryAfterSeconds !== undefined) c.header("Retry-After", String(error.retryAfterSeconds));
  const body: IcebergErrorBody = { error: { message: failure.message, type: failure.type, code: failure.status } };
  return c.json(body, failure.status as ContentfulStatusCode);
}

function icebergErrorOf(error: unknown, requestId: string): IcebergError {
  if (error instanceof IcebergError) return error;
  const floe = error instanceof FloeError ? error : catalogFailure(error);
  if (floe) return new IcebergError(floe.status, typeOfKind[floe.kind], floe.message);
  return new IcebergError(500, "InternalServerError", `internal error (request ${requestId})`);
}
