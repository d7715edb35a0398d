/**
 * Arrow bodies whose writer lied or broke them: null counts that disagree
 * with the validity bitmap, strings that are not UTF-8, buffers and offsets
 * that point past the body. Each is refused with a 400 naming what is wrong,
 * and nothing is written.
 */
import * as arrow from "apache-arrow";
import { beforeAll, describe, expect, it } from "vitest";
import { api, createTable, expectError, highWatermarks, readAllBuckets } from "./helpers.ts";
import { recordBatchLayout, withBytes, withInt64 } from "./arrow-patch.ts";

const path = "/databases/malformed/tables/events/rows";
const arrowType = { "content-type": "application/vnd.apache.arrow.stream" };

/** Two rows of the events table; `id` and `tags` may carry nulls, which the stream then marks in validity bitmaps. */
function eventsStream(ids: (bigint | null)[] = [1n, 2n], users = ["ann", "bob"], tags: (string | null)[] = ["vip", null]): Uint8Array {
  const table = new arrow.Table({
    id: arrow.vectorFromArray(ids, new arrow.Int64()),
    user: arrow.vectorFromArray(users, new arrow.Utf8()),
    amount: arrow.vectorFromArray([new Uint32Array([100, 0, 0, 0]), new Uint32Array([250, 0, 0, 0])], new arrow.Decimal(2, 10, 128)),
    ts: arrow.vectorFromArray([0, 1000], new arrow.TimestampMicrosecond("UTC")),
    tags: arrow.vectorFromArray(tags, new arrow.Utf8()),
  });
  return arrow.tableToIPC(table, "stream");
}

// Field and buffer indexes in eventsStream's record batch: id, user, amount, ts, tags, with
// buffers [validity, data] for fixed-width fields and [validity, offsets, data] for strings.
const field = { id: 0, user: 1, tags: 4 } as const;
const buffer = { idValidity: 0, idData: 1, userOffsets: 3, userData: 4, tagsOffsets: 10, tagsData: 11 } as const;

async function expectRefused(body: Uint8Array, message: RegExp): Promise<void> {
  const before = await highWatermarks("malformed", "events");
  expectError(await api("POST", path, body, arrowType), 400, "bad_request", message);
  expect(await highWatermarks("malformed", "events")).toEqual(before);
}

describe("malformed Arrow bodies", () => {
  beforeAll(async () => {
    await createTable("malformed", "events");
    expect((await api("POST", path, eventsStream(), arrowType)).status).toBe(200);
  });

  it("refuses a null whose null count was patched to 0, in a NOT NULL column and in a nullable one", async () => {
    const nullId = eventsStream([1n, null]);
    const idNode = recordBatchLayout(nullId).nodes[field.id]!;
    expect(idNode.nullCount).toBe(1);
    await expectRefused(withInt64(nullId, idNode.at + 8, 0), /row 1, column 'id': the validity bitmap marks 1 null, but the record batch declares 0/);
    const tagsNode = recordBatchLayout(eventsStream()).nodes[field.tags]!;
    await expectRefused(withInt64(eventsStream(), tagsNode.at + 8, 0), /row 1, column 'tags': the validity bitmap marks 1 null, but the record batch declares 0/);
  });

  it("refuses a null count the validity bitmap does not bear out", async () => {
    const stream = eventsStream();
    const layout = recordBatchLayout(stream);
    const tagsNode = layout.nodes[field.tags]!;
    await expectRefused(withInt64(stream, tagsNode.at + 8, 2), /column 'tags': the validity bitmap marks 1 null, but the record batch declares 2/);
    // id has no nulls, so its stream carries no validity bitmap at all.
    expect(layout.buffers[buffer.idValidity]!.length).toBe(0);
    await expectRefused(withInt64(stream, layout.nodes[field.id]!.at + 8, 1), /column 'id': the record batch declares 1 null but carries no validity bitmap/);
  });

  it("refuses strings that are not UTF-8, naming the row and column", async () => {
    const stream = eventsStream([1n, 2n], ["ann", "QQQQ"]);
    const layout = recordBatchLayout(stream);
    const userData = layout.buffers[buffer.userData]!;
    const invalid = withBytes(stream, layout.bodyAt + userData.offset + 3, [0xff, 0xfe, 0x51, 0x51]);
    await expectRefused(invalid, /row 1, column 'user': the value is not valid UTF-8/);
  });

  it("refuses offsets that split a character between two rows, though the bytes together are UTF-8", async () => {
    const stream = eventsStream([1n, 2n], ["é", "x"]); // bytes C3 A9 78, offsets 0 2 3
    const layout = recordBatchLayout(stream);
    const offsetsAt = layout.bodyAt + layout.buffers[buffer.userOffsets]!.offset;
    await expectRefused(withBytes(stream, offsetsAt + 4, [1, 0, 0, 0]), /row 0, column 'user': the value is not valid UTF-8/);
  });

  it("takes bytes under a null that are not UTF-8: they are no value", async () => {
    const stream = eventsStream([7n, 8n], ["ann", "bob"], ["vip", null]);
    const layout = recordBatchLayout(stream);
    const offsetsAt = layout.bodyAt + layout.buffers[buffer.tagsOffsets]!.offset;
    const dataAt = layout.bodyAt + layout.buffers[buffer.tagsData]!.offset;
    expect(layout.buffers[buffer.tagsData]!.length).toBe(8); // "vip" and padding
    // Row 1 (null) now spans two bytes 0xFF after "vip", inside the data buffer.
    const patched = withBytes(withBytes(stream, offsetsAt + 8, [5, 0, 0, 0]), dataAt + 3, [0xff, 0xff]);
    expect((await api("POST", path, patched, arrowType)).status).toBe(200);
    const rows = (await readAllBuckets("malformed", "events", 4)).flat();
    expect(rows.find((r) => r.id === 8)).toMatchObject({ user: "bob", tags: null });
  });

  it("refuses buffers that lie outside the body", async () => {
    const stream = eventsStream();
    const layout = recordBatchLayout(stream);
    const idData = layout.buffers[buffer.idData]!;
    await expectRefused(withInt64(stream, idData.at, 1 << 20), /column 'id': a buffer of 16 bytes at 1048576 lies outside the record batch's body of \d+ bytes/);
    await expectRefused(withInt64(stream, idData.at + 8, 1 << 20), /column 'id': a buffer of 1048576 bytes at \d+ lies outside/);
  });

  it("refuses a values buffer too short for the rows, and a truncated body", async () => {
    const stream = eventsStream();
    const layout = recordBatchLayout(stream);
    await expectRefused(withInt64(stream, layout.buffers[buffer.idData]!.at + 8, 8), /column 'id': its values take 8 bytes, but 2 rows need 16/);
    await expectRefused(stream.slice(0, layout.bodyAt + 20), /malformed Arrow IPC stream/);
  });

  it("refuses offsets that point past the data or run backwards", async () => {
    const stream = eventsStream();
    const layout = recordBatchLayout(stream);
    const offsetsAt = layout.bodyAt + layout.buffers[buffer.userOffsets]!.offset;
    await expectRefused(withBytes(stream, offsetsAt + 8, [0, 1, 0, 0]), /row 1, column 'user': the value ends at byte 256, past the 8 bytes of data/);
    await expectRefused(withBytes(stream, offsetsAt + 4, [7, 0, 0, 0]), /row 1, column 'user': the value ends before it starts/);
  });

  it("refuses metadata that claims two billion field nodes or buffers, before decoding it", async () => {
    // apache-arrow's reader would loop over every claimed element and exhaust the isolate's memory.
    const stream = eventsStream();
    const layout = recordBatchLayout(stream);
    const claim = (at: number) => withBytes(stream, at, [0xff, 0xff, 0xff, 0x7f]);
    await expectRefused(claim(layout.nodes[0]!.at - 4), /malformed Arrow IPC stream: it has 2147483647 field nodes of a record batch, more than 256/);
    await expectRefused(claim(layout.buffers[0]!.at - 4), /malformed Arrow IPC stream: it has 2147483647 buffers of a record batch, more than 768/);
  });

  it("refuses an Arrow IPC file: the body is the stream format", async () => {
    const file = arrow.tableToIPC(arrow.tableFromIPC(eventsStream()), "file");
    await expectRefused(file, /malformed Arrow IPC stream: it is an Arrow IPC file; send the IPC stream format/);
  });

  it("refuses a field node whose length is not the record batch's", async () => {
    const stream = eventsStream();
    const layout = recordBatchLayout(stream);
    await expectRefused(withInt64(stream, layout.nodes[field.user]!.at, 1), /column 'user': the field node holds 1 rows, but the record batch 2/);
  });
});
