/** Request bodies of the REST catalog: JSON (a missing Content-Type means JSON), read with exact 64-bit ids. */
import { assertFormat, bodyText, readBody } from "../api/body.ts";
import { IcebergError } from "./errors.ts";
import { parseJson } from "./json.ts";

/** Largest body the catalog reads: a commit carries schemas and snapshots, never data. */
export const icebergBodyBytesMax = 4 * 1024 * 1024;

export async function readIcebergBody(request: Request): Promise<unknown> {
  assertFormat(request, ["json"]);
  const text = bodyText(await readBody(request, icebergBodyBytesMax));
  try {
    return parseJson(text);
  } catch (error) {
    throw IcebergError.badRequest(`malformed JSON: ${(error as Error).message}`);
  }
}
