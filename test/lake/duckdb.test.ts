/**
 * DuckDB (a native engine, none of Floe's or hyparquet's code) reads the
 * Parquet files of each table's current snapshot, as listed by the Avro
 * manifests (decoded by avsc), by Iceberg field id, and must find:
 * - every column under the field id the table schema gives it, and the
 *   delete files keyed by exactly the schema's identifier fields;
 * - each file's row count, partition and null counts as its manifest says;
 * - every trade exactly once, every value exact (decimals to the last digit,
 *   timestamps to the microsecond), with the stream position of its row;
 * - each account's and each visit's current row and no other, by Iceberg's
 *   rules (`liveRows`);
 * - in the table partitioned by day, each file's identity partition value
 *   in its rows, tuple and path, and manifest list summaries that bound
 *   each manifest's values, so a reader pruning by them finds every live
 *   row of a day in the manifests it keeps;
 * - a day dropped from the lake in no live file, its files DELETED in the
 *   last snapshot's manifests, and its rows in the snapshot before.
 */
import type { DuckDBConnection } from "@duckdb/node-api";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { canonicalColumns, literal, openDuckDb, queryRows, quoted, readParquet, registerFiles } from "./duckdb-lake.ts";
import { sortedBy } from "./lake-values.ts";
import type { IcebergField, LiveFile } from "./snapshot-files.ts";
import { currentSchema, identifierFieldIds, liveFiles, manifestSummaries, readMetadata, removedFiles } from "./snapshot-files.ts";
import { droppedVisitDay, visitDays } from "./tables.ts";
import { tieredLake, type TieredTable } from "./tiered-lake.ts";

const lake = tieredLake();
let duckDb: Awaited<ReturnType<typeof openDuckDb>>;
let duck: DuckDBConnection;
beforeAll(async () => {
  duckDb = await openDuckDb();
  duck = duckDb.connection;
});
afterAll(() => duckDb.close());

/** The columns of a position-delete file, with the ids the spec reserves for them. */
const positionDeleteFields: IcebergField[] = [
  { id: 2147483546, name: "file_path", required: true, type: "string" },
  { id: 2147483545, name: "pos", required: true, type: "long" },
];

/** The fields a file holds: a data file the table's, a delete file its key or its position columns. */
function fieldsOf(file: LiveFile, fields: readonly IcebergField[]): IcebergField[] {
  if (file.content === 0) return [...fields];
  if (file.content === 1) return positionDeleteFields;
  return fields.filter((f) => file.equalityIds!.includes(f.id));
}

async function snapshotOf(table: TieredTable) {
  const metadata = await readMetadata(lake, table.metadataLocation);
  const files = await liveFiles(lake, metadata);
  return {
    fields: currentSchema(metadata),
    identifierIds: identifierFieldIds(metadata),
    dataFiles: files.filter((f) => f.content === 0),
    deleteFiles: files.filter((f) => f.content !== 0),
  };
}

/**
 * A table's live rows by Iceberg's rules, over the given data and delete
 * files: a position delete removes the row at its position of its file,
 * for data files of a data sequence number at most its own; an equality
 * delete removes the rows with its key in data files of the same partition
 * and a strictly lower one.
 */
async function liveRows(table: TieredTable, dataFiles: LiveFile[], deleteFiles: LiveFile[]) {
  const { fields, identifierIds } = await snapshotOf(table);
  const keyFields = identifierIds.map((id) => fields.find((f) => f.id === id)!);
  const positionDeletes = deleteFiles.filter((f) => f.content === 1);
  const equalityDeletes = deleteFiles.filter((f) => f.content === 2);
  await registerFiles(duck, [...dataFiles, ...deleteFiles]);
  const withFile = (relation: string) =>
    `SELECT r.*, f.uri AS file_uri, f.sequence_number AS data_sequence_number, f.partition AS file_partition FROM ${relation} AS r JOIN lake_files AS f ON r.filename = f.path`;
  const sameKey = keyFields.map((f) => `e.${quoted(f.name)} IS NOT DISTINCT FROM d.${quoted(f.name)}`).join(" AND ");
  const none = (relation: string) => `(SELECT * FROM ${relation} LIMIT 0)`;
  if (dataFiles.length === 0) return [];
  return queryRows(duck, `
    WITH data AS (${withFile(readParquet(dataFiles, fields, { rowNumbers: true }))}),
         positions AS (${positionDeletes.length > 0 ? withFile(readParquet(positionDeletes, positionDeleteFields)) : none("data")}),
         equalities AS (${equalityDeletes.length > 0 ? withFile(readParquet(equalityDeletes, keyFields)) : none("data")})
    SELECT ${canonicalColumns(fields, "d")} FROM data AS d
    WHERE NOT EXISTS (
      SELECT 1 FROM positions AS p
      WHERE p.file_path = d.file_uri AND p.pos = d.file_row_number AND p.data_sequence_number >= d.data_sequence_number)
    AND NOT EXISTS (
      SELECT 1 FROM equalities AS e
      WHERE e.file_partition = d.file_partition AND e.data_sequence_number > d.data_sequence_number AND ${sameKey})`);
}

describe("DuckDB reads the tiered lake by Iceberg field id", () => {
  it("finds every column under the schema's field id, and delete files keyed by the identifier fields", async () => {
    for (const table of [lake.trades, lake.accounts, lake.visits]) {
      const { fields, identifierIds, dataFiles, deleteFiles } = await snapshotOf(table);
      for (const file of [...dataFiles, ...deleteFiles]) {
        const columns = await queryRows(duck, `SELECT name, field_id FROM parquet_schema(${literal(file.localPath)}) WHERE type IS NOT NULL`);
        expect(columns, file.uri).toEqual(fieldsOf(file, fields).map((f) => ({ name: f.name, field_id: f.id })));
      }
      for (const file of deleteFiles.filter((f) => f.content === 2)) expect(file.equalityIds, file.uri).toEqual(identifierIds);
    }
    expect(identifierFieldIds(await readMetadata(lake, lake.accounts.metadataLocation))).toEqual([1, 2]);
  });

  it("counts each file's rows and nulls as its manifest entry does, and every row's bucket is its file's partition", async () => {
    for (const table of [lake.trades, lake.accounts, lake.visits]) {
      const { fields, dataFiles, deleteFiles } = await snapshotOf(table);
      for (const file of [...dataFiles, ...deleteFiles]) {
        const held = fieldsOf(file, fields);
        const nulls = held.map((f) => `count(*) - count(${quoted(f.name)}) AS ${quoted(String(f.id))}`);
        const buckets = file.content === 0 ? ", list(DISTINCT __bucket) AS buckets" : "";
        const [counted] = await queryRows(duck, `SELECT count(*) AS records, ${nulls.join(", ")}${buckets} FROM ${readParquet([file], held)}`);
        expect(counted!.records, file.uri).toBe(Number(file.recordCount));
        for (const field of held) expect(counted![String(field.id)], `${file.uri} nulls of ${field.name}`).toBe(Number(file.nullValueCounts.get(field.id)));
        // The bucket field comes last in the partition tuple, after a partitioned table's identity fields.
        if (file.content === 0) expect(counted!.buckets, file.uri).toEqual([Object.values(file.partition).at(-1)]);
      }
    }
  });

  it("reads every trade exactly once, with exact values and its stream position", async () => {
    const { fields, dataFiles, deleteFiles } = await snapshotOf(lake.trades);
    expect(deleteFiles).toEqual([]);
    const rows = await queryRows(duck, `SELECT ${canonicalColumns(fields, "t")} FROM ${readParquet(dataFiles, fields)} AS t`);
    expect(rows).toHaveLength(lake.trades.expectedRows.length);
    expect(sortedBy(rows, lake.trades.key)).toEqual(sortedBy(lake.trades.expectedRows, lake.trades.key));
  });

  it.each(["accounts", "visits"] as const)("gives each current row of %s, exactly, once the position deletes are applied by sequence number", async (name) => {
    const table = lake[name];
    const { dataFiles, deleteFiles } = await snapshotOf(table);
    expect(deleteFiles.filter((f) => f.content === 1).length).toBeGreaterThan(0);
    const live = await liveRows(table, dataFiles, deleteFiles);
    expect(sortedBy(live, table.key)).toEqual(sortedBy(table.expectedRows, table.key));

    // The check above depends on the deletes: the data files also hold superseded versions of keys.
    const { fields } = await snapshotOf(table);
    const [all] = await queryRows(duck, `SELECT count(*) AS records FROM ${readParquet(dataFiles, fields)}`);
    expect(all!.records).toBeGreaterThan(live.length);
  });

  it("finds in each file of the partitioned table the identity partition value and bucket its tuple and path name", async () => {
    const metadata = await readMetadata(lake, lake.visits.metadataLocation);
    expect(metadata["partition-specs"]).toEqual([{ "spec-id": 0, fields: [
      { name: "dt", transform: "identity", "source-id": 1, "field-id": 1000 },
      { name: "id_bucket", transform: "bucket[2]", "source-id": 2, "field-id": 1001 },
    ] }]);
    const { fields, dataFiles } = await snapshotOf(lake.visits);
    const days = new Set<string>();
    for (const file of dataFiles) {
      const { dt, id_bucket: bucket } = file.partition as { dt: string; id_bucket: number };
      days.add(dt);
      expect(file.uri).toContain(`/data/dt=${dt}/id_bucket=${bucket}/`);
      const [found] = await queryRows(duck, `SELECT list(DISTINCT dt) AS days, list(DISTINCT __bucket) AS buckets FROM ${readParquet([file], fields)}`);
      expect(found, file.uri).toEqual({ days: [dt], buckets: [bucket] });
    }
    expect([...days].sort()).toEqual([...visitDays]);
  });

  it("prunes by the manifest list's partition summaries: a day's live rows come from the manifests whose bounds hold it", async () => {
    const metadata = await readMetadata(lake, lake.visits.metadataLocation);
    const summaries = await manifestSummaries(lake, metadata);
    const { fields, dataFiles, deleteFiles } = await snapshotOf(lake.visits);
    const utf8 = new TextDecoder();
    const bound = (bytes: Uint8Array | null) => (bytes === null ? null : utf8.decode(bytes));
    const int = (bytes: Uint8Array | null) => (bytes === null ? null : new DataView(bytes.buffer, bytes.byteOffset).getInt32(0, true));
    // Each summary bounds exactly the partition values of its manifest's files, those it lists as DELETED too (as Iceberg's writers do).
    const removed = await removedFiles(lake, metadata);
    for (const [path, [day, bucket]] of summaries) {
      const files = [...dataFiles, ...deleteFiles, ...removed].filter((f) => f.manifest === path);
      const values = files.map((f) => f.partition as { dt: string; id_bucket: number });
      expect([bound(day!.lowerBound), bound(day!.upperBound)], path).toEqual([values.map((v) => v.dt).sort()[0], values.map((v) => v.dt).sort().at(-1)]);
      expect([int(bucket!.lowerBound), int(bucket!.upperBound)], path).toEqual([Math.min(...values.map((v) => v.id_bucket)), Math.max(...values.map((v) => v.id_bucket))]);
      expect(day!.containsNull).toBe(false);
    }
    let pruned = 0;
    for (const day of visitDays) {
      const kept = [...summaries].filter(([, [s]]) => bound(s!.lowerBound)! <= day && day <= bound(s!.upperBound)!).map(([path]) => path);
      pruned += summaries.size - kept.length;
      const inKept = (f: LiveFile) => kept.includes(f.manifest) && (f.partition as { dt: string }).dt === day;
      const live = await liveRows(lake.visits, dataFiles.filter(inKept), deleteFiles.filter(inKept));
      const expected = lake.visits.expectedRows.filter((r) => r.dt === day);
      expect(sortedBy(live, lake.visits.key), day).toEqual(sortedBy(expected, lake.visits.key));
      // Nothing of the day is in a pruned manifest.
      const [outside] = await queryRows(duck, `SELECT count(*) AS records FROM ${readParquet(dataFiles, fields)} WHERE dt = ${literal(day)}`);
      const [inside] = await queryRows(duck, `SELECT count(*) AS records FROM ${readParquet(dataFiles.filter(inKept), fields)}`);
      expect(inside!.records, day).toBe(outside!.records);
    }
    expect(pruned).toBeGreaterThan(0);
  });

  it("finds none of the day dropped from the lake: its files DELETED by the last snapshot, its rows in the snapshot before", async () => {
    const metadata = await readMetadata(lake, lake.visits.metadataLocation);
    const { dataFiles, deleteFiles } = await snapshotOf(lake.visits);
    const ofDay = (f: LiveFile) => (f.partition as { dt: string }).dt === droppedVisitDay;
    expect([...dataFiles, ...deleteFiles].filter(ofDay)).toEqual([]);
    const before = { ...metadata, "current-snapshot-id": metadata.snapshots.at(-2)!["snapshot-id"] };
    const dropped = (await liveFiles(lake, before)).filter(ofDay);
    expect(new Set((await removedFiles(lake, metadata)).map((f) => f.uri))).toEqual(new Set(dropped.map((f) => f.uri)));
    expect(metadata.snapshots.at(-1)!.summary).toMatchObject({
      operation: "delete",
      "deleted-data-files": String(dropped.filter((f) => f.content === 0).length),
      "removed-position-delete-files": String(dropped.filter((f) => f.content === 1).length),
    });
    // Time travel: the snapshot before the drop still gives the day's current rows, one update applied by its position delete.
    const rows = await liveRows(lake.visits, dropped.filter((f) => f.content === 0), dropped.filter((f) => f.content !== 0));
    expect(rows.map((r) => String(r.id)).sort()).toEqual(["1", "2", "3"]);
  });
});
