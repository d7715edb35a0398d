/**
 * Request bodies of the REST catalog: JSON (a missing Content-Type means
 * JSON), at most `icebergBodyBytesMax` bytes (refused early by
 * Content-Length, else while streaming), strict UTF-8, read with exact
 * 64-bit ids.
 */
import { IcebergError } from "./errors.ts";
import { parseJson } from "./json.ts";

/** Largest body the catalog reads: a commit carries schemas and snapshots, never data. */
export const icebergBodyBytesMax = 4 * 1024 * 1024;

const strictUtf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: false });

export async function readIcebergBody(request: Request): Promise<unknown> {
  const mediaType = (request.headers.get("content-type") ?? "application/json").split(";")[0]!.trim().toLowerCase();
  if (mediaType !== "application/json") {
    throw new IcebergError(415, "BadRequestException", `the catalog takes application/json bodies, not '${mediaType.slice(0, 60)}'`);
  }
  const text = await bodyText(request);
  try {
    return parseJson(text);
  } catch (error) {
    throw IcebergError.badRequest(`malformed JSON: ${(error as Error).message}`);
  }
}

async function bodyText(request: Request): Promise<string> {
  const tooLarge = () => new IcebergError(413, "BadRequestException", `request body exceeds ${icebergBodyBytesMax} bytes`);
  if (Number(request.headers.get("content-length") ?? NaN) > icebergBodyBytesMax) throw tooLarge();
  const parts: Uint8Array[] = [];
  let total = 0;
  const reader = request.body?.getReader();
  for (;;) {
    const chunk = await reader?.read();
    if (!chunk || chunk.done) break;
    total += chunk.value.byteLength;
    if (total > icebergBodyBytesMax) {
      await reader!.cancel();
      throw tooLarge();
    }
    parts.push(chunk.value);
  }
  const body = new Uint8Array(total);
  parts.reduce((at, part) => (body.set(part, at), at + part.byteLength), 0);
  try {
    return strictUtf8.decode(body);
  } catch {
    throw IcebergError.badRequest("request body is not valid UTF-8");
  }
}
