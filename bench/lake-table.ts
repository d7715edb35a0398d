/**
 * The 6-column lake table the tiering and scan benchmarks load, and its rows
 * as Arrow IPC batches (ids `from` .. `from + count - 1`).
 */
import * as arrow from "apache-arrow";

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
