/**
 * The 6-column lake table the tiering, scan and parquet benchmarks load, its
 * rows as Arrow IPC batches (ids `from` .. `from + count - 1`), and those
 * rows as the lake columns of a round's 8 data files.
 */
import * as arrow from "apache-arrow";
import type { DataFileColumn } from "../src/lake/parquet.ts";
import { lakeColumns } from "../src/iceberg/schema.ts";
import { parseTableDefinition } from "../src/table/schema.ts";

export const lakeTableDefinition = {
  columns: [
    { name: "id", type: "BIGINT" }, { name: "user", type: "STRING" }, { name: "amount", type: "DECIMAL(10,2)" },
    { name: "ts", type: "TIMESTAMP_LTZ(3)" }, { name: "tags", type: "STRING" }, { name: "n", type: "INT" },
  ],
  bucket: { num: 8, key: ["user"] },
  properties: { "table.datalake.enabled": "true" },
};

export function arrowBatch(from: number, count: number): Uint8Array {
  const ids = Array.from({ length: count }, (_, i) => from + i);
  return arrow.tableToIPC(new arrow.Table({
    id: arrow.vectorFromArray(ids.map(BigInt), new arrow.Int64()),
    user: arrow.vectorFromArray(ids.map((i) => `user-${i % 997}`), new arrow.Utf8()),
    amount: arrow.vectorFromArray(ids.map((i) => new Uint32Array([i % 100000, 0, 0, 0])), new arrow.Decimal(2, 10, 128)),
    ts: arrow.vectorFromArray(ids.map((i) => 1_764_000_000_000 + i), new arrow.TimestampMicrosecond("UTC")),
    tags: arrow.vectorFromArray(ids.map((i) => (i % 3 === 0 ? null : `tag-${i % 10}`)), new arrow.Utf8()),
    n: arrow.vectorFromArray(ids.map((i) => i % 1000), new arrow.Int32()),
  }), "stream");
}

/**
 * The lake columns of 8 files, as a round hands them to the writer: the
 * posted Arrow batches as chunks, plus `__bucket`, `__offset` and
 * `__timestamp` chunks of the same lengths.
 */
export function lakeFiles(rowCount: number): DataFileColumn[][] {
  const definition = parseTableDefinition(lakeTableDefinition);
  const batchRows = 10_000;
  const perFile = Math.ceil(rowCount / 8);
  const files: DataFileColumn[][] = [];
  for (let file = 0; file < 8; file++) {
    const batches: arrow.RecordBatch[] = [];
    for (let from = file * perFile; from < Math.min(rowCount, (file + 1) * perFile); from += batchRows) {
      batches.push(...arrow.tableFromIPC(arrowBatch(from, Math.min(batchRows, (file + 1) * perFile - from, rowCount - from))).batches);
    }
    let offset = 0n;
    const system: Record<string, (n: number) => arrow.Data> = {
      __bucket: (n) => arrow.makeData({ type: new arrow.Int32(), length: n, nullCount: 0, data: new Int32Array(n).fill(file) }),
      __offset: (n) => arrow.makeData({ type: new arrow.Int64(), length: n, nullCount: 0, data: BigInt64Array.from({ length: n }, () => offset++) }),
      __timestamp: (n) => arrow.makeData({ type: new arrow.TimestampMicrosecond("UTC"), length: n, nullCount: 0, data: new BigInt64Array(n).fill(1_764_000_000_000_000n) }),
    };
    files.push(lakeColumns(definition).map((c) => ({
      ...c,
      chunks: batches.map((b) => system[c.name]?.(b.numRows) ?? b.getChild(c.name)!.data[0]!),
    })));
  }
  return files;
}
