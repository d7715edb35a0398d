/**
 * The one log line of a failed request, on `/v1` and `/iceberg` alike: JSON
 * with the request id the answer carries, so a client's report finds it.
 * Neither the Authorization header nor the body is logged, and a secret
 * pasted into a path is masked.
 */
import { redactSecrets } from "./secrets.ts";

export interface FailedRequest {
  requestId: string;
  request: Request;
  status: number;
  /** The code the answer carries (Floe's kind, or the Iceberg exception type). */
  code: string;
  message: string;
  /** What was thrown, for a 500: its text and stack are logged, never answered. */
  internal?: unknown;
}

export function logFailedRequest(failure: FailedRequest): void {
  const { requestId, request, status, code, message, internal } = failure;
  const line = {
    event: "request_failed",
    requestId,
    method: request.method,
    path: new URL(request.url).pathname,
    status,
    code,
    message: internal === undefined ? message : String(internal),
    stack: internal === undefined ? undefined : (internal as Error)?.stack,
  };
  (status >= 500 ? console.error : console.warn)(redactSecrets(JSON.stringify(line)));
}
