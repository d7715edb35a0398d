/**
 * Serves the exported lake over HTTP as S3 serves a bucket (GET and HEAD,
 * with byte ranges), for readers that fetch by URL. icebird turns
 * `s3://<bucket>/<key>` into `https://<bucket>.s3.amazonaws.com/<key>` and
 * takes no custom fetch, so for the duration of one read the global fetch
 * sends that host to this server; any other URL fails, so no reader ever
 * reaches the network.
 */
import { readFile } from "node:fs/promises";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { join, normalize } from "node:path";
import type { TieredLake } from "./tiered-lake.ts";

export async function withS3Endpoint<T>(lake: TieredLake, read: () => Promise<T>): Promise<T> {
  const server = createServer((request, response) => {
    serve(lake.dir, request, response).catch((error) => response.writeHead(500).end(String(error)));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const local = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  const bucketUrl = `https://${new URL(lake.uriPrefix).host}.s3.amazonaws.com/`;
  const networkFetch = globalThis.fetch;
  globalThis.fetch = (input, init) => {
    const url = input instanceof Request ? input.url : String(input);
    if (!url.startsWith(bucketUrl)) return Promise.reject(new Error(`lake reader fetched ${url}, outside the lake`));
    return networkFetch(local + url.slice(bucketUrl.length), init);
  };
  try {
    return await read();
  } finally {
    globalThis.fetch = networkFetch;
    await new Promise((resolve) => server.close(resolve));
  }
}

async function serve(dir: string, request: IncomingMessage, response: ServerResponse): Promise<void> {
  const key = normalize(decodeURIComponent(new URL(request.url!, "http://lake").pathname));
  let body: Buffer;
  try {
    body = await readFile(join(dir, key));
  } catch {
    response.writeHead(404).end();
    return;
  }
  const range = /^bytes=(\d+)-(\d*)$/.exec(request.headers.range ?? "");
  const start = range ? Number(range[1]) : 0;
  const end = range?.[2] ? Math.min(Number(range[2]) + 1, body.length) : body.length;
  const headers = { "content-length": String(end - start), "accept-ranges": "bytes" };
  if (range) response.writeHead(206, { ...headers, "content-range": `bytes ${start}-${end - 1}/${body.length}` });
  else response.writeHead(200, headers);
  response.end(request.method === "HEAD" ? undefined : body.subarray(start, end));
}
