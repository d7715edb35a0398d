/**
 * Request bodies: read with a byte limit (refused early by Content-Length,
 * else while streaming), and classified by content type.
 */
import { FloeError } from "../errors.ts";
import { contentTypes, requestLimits } from "../vocabulary.ts";

export type BodyFormat = "json" | "ndjson" | "arrow";

export async function readBody(request: Request, bytesMax: number = requestLimits.bodyBytesMax): Promise<Uint8Array> {
  const tooLarge = () => new FloeError("payload_too_large", `request body exceeds ${bytesMax} bytes`);
  const declared = Number(request.headers.get("content-length") ?? NaN);
  if (declared > bytesMax) throw tooLarge();
  if (!request.body) return new Uint8Array(0);
  const parts: Uint8Array[] = [];
  let total = 0;
  const reader = request.body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > bytesMax) {
      await reader.cancel();
      throw tooLarge();
    }
    parts.push(value);
  }
  if (parts.length === 1) return parts[0]!;
  const body = new Uint8Array(total);
  let at = 0;
  for (const part of parts) {
    body.set(part, at);
    at += part.byteLength;
  }
  return body;
}

const strictUtf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: false });

export function bodyText(body: Uint8Array): string {
  try {
    return strictUtf8.decode(body);
  } catch {
    throw FloeError.badRequest("request body is not valid UTF-8");
  }
}

/** A JSON request body parsed, or a 400 saying why not. */
export async function readJsonBody(request: Request): Promise<unknown> {
  assertFormat(request, ["json"]);
  const text = bodyText(await readBody(request, 1024 * 1024));
  try {
    return JSON.parse(text);
  } catch (error) {
    throw FloeError.badRequest(`malformed JSON: ${(error as Error).message}`);
  }
}

/** The body format a request declares; a missing Content-Type means JSON. */
export function bodyFormat(request: Request): BodyFormat {
  const declared = request.headers.get("content-type");
  const mediaType = (declared ?? contentTypes.json).split(";")[0]!.trim().toLowerCase();
  switch (mediaType) {
    case contentTypes.json:
      return "json";
    case contentTypes.ndjson:
    case "application/jsonl":
      return "ndjson";
    case contentTypes.arrowStream:
      return "arrow";
    default:
      throw new FloeError(
        "unsupported_media_type",
        `unsupported Content-Type '${declared}'; send ${contentTypes.json}, ${contentTypes.ndjson} or ${contentTypes.arrowStream}`,
      );
  }
}

export function assertFormat(request: Request, allowed: readonly BodyFormat[]): BodyFormat {
  const format = bodyFormat(request);
  if (!allowed.includes(format)) {
    throw new FloeError("unsupported_media_type", `this route takes ${allowed.join(" or ")} bodies, not ${format}`);
  }
  return format;
}
