/**
 * Arrow IPC written straight from column buffers (`arrow/ipc-write.ts`)
 * reads back exactly with apache-arrow's reader, for every type with nulls
 * in every column, including columns cut on whole buffers (`arrow/take.ts`):
 * rows taken by a selection, ranges, joined chunks and apache-arrow slices.
 */
import * as arrow from "apache-arrow";
import { describe, expect, it } from "vitest";
import { batchMessage, endOfStream, schemaMessage } from "../../src/arrow/ipc-write.ts";
import { concatColumns, takeRange, takeRows } from "../../src/arrow/take.ts";
import { arrowSchemaOf, readScalar } from "../../src/table/columns.ts";
import type { Scalar } from "../../src/table/values.ts";
import { randomColumns } from "./random-columns.ts";

const rowCount = 1000;
const { columns, values, data } = randomColumns(rowCount, 11);

/** A stream of the given batches (each a list of columns and the source rows they hold). */
function stream(batches: { data: arrow.Data[]; rows: number[] }[]): Uint8Array {
  const parts = [schemaMessage(arrowSchemaOf(columns)), ...batches.map((b) => batchMessage(b.data, b.rows.length)), endOfStream];
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  parts.reduce((at, p) => (out.set(p, at), at + p.length), 0);
  return out;
}

/** Scalars compared with -0 and NaN told apart. */
const exact = (v: Scalar | null) => (typeof v === "number" && Object.is(v, -0) ? "-0" : typeof v === "number" && Number.isNaN(v) ? "NaN" : v);

describe("Arrow IPC written from column buffers", () => {
  it("reads back every type, whole, taken, ranged, joined and sliced", () => {
    const range = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => from + i);
    const picked = [5, 3, 999, 0, 0, 17, 512, 511, 8, 7];
    const batches = [
      { data, rows: range(0, rowCount) },
      { data: data.map((d) => takeRows(d, picked)), rows: picked },
      { data: data.map((d) => takeRange(d, 13, 900)), rows: range(13, 900) },
      { data: data.map((d) => concatColumns([takeRange(d, 0, 100), d.slice(100, 333), takeRange(d, 433, 1000)])), rows: [...range(0, 433), ...range(433, 1000)] },
      { data: data.map((d) => d.slice(250, 501)), rows: range(250, 751) },
      { data: data.map((d) => takeRows(d.slice(3, 900), [0, 8, 896])), rows: [3, 11, 899] },
      { data: data.map((d) => takeRows(d, [])), rows: [] },
    ];
    const table = arrow.tableFromIPC(stream(batches));
    expect(table.batches.map((b) => b.numRows)).toEqual(batches.map((b) => b.rows.length));
    table.batches.forEach((batch, b) => {
      columns.forEach((column, c) => {
        const got = Array.from({ length: batch.numRows }, (_, row) => exact(readScalar(column.type, batch.data.children[c]!, row)));
        expect(got, `batch ${b}, ${column.name}`).toEqual(batches[b]!.rows.map((row) => exact(values[c]![row]!)));
      });
    });
  });
});
