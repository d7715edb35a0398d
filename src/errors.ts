/**
 * The one error type Floe throws for expected failures, and the one place a
 * failure kind becomes an HTTP status. Anything else that escapes a handler
 * is a bug and answers 500 `internal`.
 */
export const errorStatus = {
  bad_request: 400,
  unauthorized: 401,
  forbidden: 403,
  not_found: 404,
  conflict: 409,
  gone: 410,
  payload_too_large: 413,
  unsupported_media_type: 415,
  /** A plain request to a WebSocket endpoint that would have upgraded: clients probe with one to learn why an upgrade failed. */
  upgrade_required: 426,
  /** A client that must wait before asking again; the answer says how long in `Retry-After`. */
  too_many_requests: 429,
  unavailable: 503,
  internal: 500,
} as const;

export type ErrorKind = keyof typeof errorStatus;

export class FloeError extends Error {
  readonly kind: ErrorKind;
  /** For `too_many_requests`: the seconds to wait, answered as `Retry-After`. */
  readonly retryAfterSeconds?: number;

  constructor(kind: ErrorKind, message: string, retryAfterSeconds?: number) {
    super(message);
    this.name = "FloeError";
    this.kind = kind;
    if (retryAfterSeconds !== undefined) this.retryAfterSeconds = retryAfterSeconds;
  }

  get status(): (typeof errorStatus)[ErrorKind] {
    return errorStatus[this.kind];
  }

  static badRequest(message: string): FloeError {
    return new FloeError("bad_request", message);
  }

  static notFound(message: string): FloeError {
    return new FloeError("not_found", message);
  }

  static conflict(message: string): FloeError {
    return new FloeError("conflict", message);
  }

  static tooManyRequests(message: string, retryAfterSeconds: number): FloeError {
    return new FloeError("too_many_requests", message, retryAfterSeconds);
  }
}

/**
 * A Tablet answered that its table (or partition) was dropped: the entry
 * the caller used is stale. `withTable` resolves the table and its
 * partitions again and retries once; if it escapes, they are gone.
 */
export class TableDroppedError extends FloeError {
  constructor() {
    super("not_found", "this table or partition was dropped");
    this.name = "TableDroppedError";
  }
}

/** An error answer with its status, for places that answer without throwing (a Durable Object's `fetch`). */
export function errorResponse(kind: ErrorKind, message: string): Response {
  return Response.json(errorBody(kind, message), { status: errorStatus[kind] });
}

/** The error an error answer's body says, as another part of Floe answered it (an unknown code is internal). */
export function errorFromBody(body: { error: { code: string; message: string } }): FloeError {
  const { code, message } = body.error;
  return new FloeError(code in errorStatus ? (code as ErrorKind) : "internal", message);
}

/** The JSON body of every error answer: `{ error: { code, message } }`. */
export function errorBody(kind: ErrorKind, message: string): { error: { code: ErrorKind; message: string } } {
  return { error: { code: kind, message } };
}
