/**
 * The client's one error type: what the server refused (its `code`, its
 * `message`, the HTTP `status` and the `Floe-Request-Id` its log line
 * carries), or a request that never got an answer (`code` "network",
 * status 0). See docs/http-api.md#errors for the codes.
 */
import { headers } from "../vocabulary.ts";

export class FloeError extends Error {
  /** The server's error code (`bad_request`, `not_found`, …), `network` when no answer came, or `http_<status>` for a non-Floe answer. */
  readonly code: string;
  /** The HTTP status; 0 when no answer came. */
  readonly status: number;
  /** The `Floe-Request-Id` of the answer, which the server's log line for it carries. */
  readonly requestId: string | undefined;
  /** For a write: the writer sequence it was sent with, to send it again with the same one (`Writer.write(rows, { seq })`). */
  writerSeq?: number;

  constructor(code: string, message: string, status: number, requestId?: string) {
    super(message);
    this.name = "FloeError";
    this.code = code;
    this.status = status;
    this.requestId = requestId;
  }

  /** The error an answer carries: Floe's `{ error: { code, message } }`, or its status when the body is something else. */
  static async fromResponse(response: Response): Promise<FloeError> {
    const requestId = response.headers.get(headers.requestId) ?? undefined;
    let error: { code?: unknown; message?: unknown } | undefined;
    try {
      error = ((await response.json()) as { error?: typeof error }).error;
    } catch {
      // not Floe's JSON: a proxy's page, say
    }
    const code = typeof error?.code === "string" ? error.code : `http_${response.status}`;
    const message = typeof error?.message === "string" ? error.message : `HTTP ${response.status} ${response.statusText}`.trim();
    return new FloeError(code, message, response.status, requestId);
  }

  /** A request that got no answer (refused connection, reset, DNS), with the cause's message. */
  static network(url: string, cause: unknown): FloeError {
    const reason = cause instanceof Error ? (cause.cause instanceof Error ? cause.cause.message : cause.message) : String(cause);
    return new FloeError("network", `could not reach ${url}: ${reason}`, 0);
  }

  /** `404 not_found: table 'shop.x' does not exist (request …)`: how the CLI prints it. */
  override toString(): string {
    const status = this.status === 0 ? "" : `${this.status} `;
    return `${status}${this.code}: ${this.message}${this.requestId ? ` (request ${this.requestId})` : ""}`;
  }
}
