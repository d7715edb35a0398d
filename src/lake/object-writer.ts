/**
 * An R2 object written as its bytes come: buffered into parts of
 * `partBytes` and uploaded as a multipart upload (R2 wants every part but
 * the last the same size, and at least 5 MiB), or put whole when it ends
 * before the first part is full. Memory holds at most one part and the
 * bytes that came with its last piece.
 */
export const partBytes = 8 * 1024 * 1024;

export class ObjectWriter {
  private readonly bucket: R2Bucket;
  private readonly key: string;
  private buffered: Uint8Array[] = [];
  private bufferedBytes = 0;
  private upload: R2MultipartUpload | undefined;
  private readonly parts: R2UploadedPart[] = [];
  /** Bytes written so far. */
  size = 0;

  constructor(bucket: R2Bucket, key: string) {
    this.bucket = bucket;
    this.key = key;
  }

  async write(bytes: Uint8Array): Promise<void> {
    this.buffered.push(bytes);
    this.bufferedBytes += bytes.byteLength;
    this.size += bytes.byteLength;
    while (this.bufferedBytes >= partBytes) {
      const joined = this.take();
      this.upload ??= await this.bucket.createMultipartUpload(this.key);
      this.parts.push(await this.upload.uploadPart(this.parts.length + 1, joined.subarray(0, partBytes)));
      this.buffered = joined.byteLength > partBytes ? [joined.subarray(partBytes)] : [];
      this.bufferedBytes = joined.byteLength - partBytes;
    }
  }

  /** Finishes the object. */
  async close(): Promise<void> {
    const rest = this.take();
    if (!this.upload) {
      await this.bucket.put(this.key, rest);
      return;
    }
    if (rest.byteLength > 0) this.parts.push(await this.upload.uploadPart(this.parts.length + 1, rest));
    await this.upload.complete(this.parts);
  }

  /** Gives the object up: an upload begun is aborted, so no part is left behind. */
  async abort(): Promise<void> {
    await this.upload?.abort();
  }

  private take(): Uint8Array {
    if (this.buffered.length === 1) return this.buffered[0]!;
    const joined = new Uint8Array(this.bufferedBytes);
    let at = 0;
    for (const piece of this.buffered) {
      joined.set(piece, at);
      at += piece.byteLength;
    }
    return joined;
  }
}
