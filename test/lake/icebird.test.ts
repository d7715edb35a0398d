/**
 * icebird (an Iceberg reader on hyparquet, no Floe code) opens the tables
 * the real server tiered, by path as a Hadoop-style reader does:
 * `version-hint.text` → `v<N>.metadata.json` → manifest list → manifests →
 * Parquet. It must find the metadata the catalog points at, every trade
 * exactly once, and each account's and each visit's current row (visits
 * partitioned by day, `identity(dt)` before the bucket), which needs the
 * position deletes applied (icebird removes the rows they name from their files).
 *
 * icebird finds columns by the names in each file's embedded
 * `iceberg.schema`, not by Parquet field ids, so it cannot notice a wrong
 * field id; `duckdb.test.ts` reads by field id.
 *
 * icebird hands out decimals as JS numbers and timestamps as Dates (whole
 * milliseconds, by truncating division), so values are compared at that
 * precision here; `duckdb.test.ts` compares them exactly.
 */
import { icebergMetadata, icebergRead } from "icebird";
import { describe, expect, it } from "vitest";
import { icebergKind, sortedBy, type LakeRow, type LakeValue } from "./lake-values.ts";
import { withS3Endpoint } from "./s3-endpoint.ts";
import { currentSchema, readMetadata, type IcebergField } from "./snapshot-files.ts";
import { tieredLake, type TieredTable } from "./tiered-lake.ts";

const lake = tieredLake();

async function readWithIcebird(table: TieredTable): Promise<LakeRow[]> {
  const rows = await withS3Endpoint(lake, () => icebergRead({ tableUrl: table.location }));
  const fields = currentSchema(await readMetadata(lake, table.metadataLocation));
  return sortedBy(rows.map((row) => fromIcebird(fields, row)), table.key);
}

function fromIcebird(fields: IcebergField[], row: Record<string, unknown>): LakeRow {
  const out: LakeRow = {};
  for (const { name, type } of fields) {
    const value = row[name];
    if (value === null) {
      out[name] = null;
      continue;
    }
    switch (icebergKind(type)) {
      case "long": out[name] = String(value as bigint); break;
      case "decimal": out[name] = value as number; break;
      case "date": out[name] = (value as Date).toISOString().slice(0, 10); break;
      case "timestamp":
      case "timestamptz": out[name] = String(BigInt((value as Date).getTime()) * 1000n); break;
      case "double": out[name] = Number.isFinite(value) ? (value as number) : String(value); break;
      default: out[name] = value as LakeValue;
    }
  }
  return out;
}

/** An exact canonical row reduced to what icebird can represent: decimals to 13 significant digits, timestamps to ms. */
function atIcebirdPrecision(fields: IcebergField[], row: LakeRow): Record<string, unknown> {
  const out: Record<string, unknown> = { ...row };
  for (const { name, type } of fields) {
    const value = row[name];
    if (value === null || value === undefined) continue;
    const kind = icebergKind(type);
    if (kind === "decimal") out[name] = nearly(Number(value));
    if (kind === "timestamp" || kind === "timestamptz") out[name] = String((BigInt(value as string) / 1000n) * 1000n);
  }
  return out;
}

/** A number that a double computed from the exact value matches to 13 significant digits. */
function nearly(exact: number): unknown {
  return exact === 0 ? 0 : expect.closeTo(exact, 13 - Math.floor(Math.log10(Math.abs(exact))));
}

async function expectedAtIcebirdPrecision(table: TieredTable): Promise<Record<string, unknown>[]> {
  const fields = currentSchema(await readMetadata(lake, table.metadataLocation));
  return sortedBy(table.expectedRows, table.key).map((row) => atIcebirdPrecision(fields, row));
}

describe("icebird reads the tiered lake", () => {
  it("finds, through version-hint.text, the metadata the catalog points at", async () => {
    for (const table of [lake.trades, lake.accounts, lake.visits]) {
      const metadata = await withS3Endpoint(lake, () => icebergMetadata({ tableUrl: table.location }));
      expect(metadata).toEqual(await readMetadata(lake, table.metadataLocation));
      expect(metadata.snapshots).toHaveLength(table.snapshots);
      expect(metadata.location).toBe(table.location);
    }
  });

  it("reads every trade exactly once, with its values and stream position", async () => {
    const rows = await readWithIcebird(lake.trades);
    expect(rows).toHaveLength(lake.trades.expectedRows.length);
    expect(rows).toEqual(await expectedAtIcebirdPrecision(lake.trades));
  });

  it("reads each account's current row, older versions and deleted keys removed by the position deletes", async () => {
    const rows = await readWithIcebird(lake.accounts);
    expect(rows).toEqual(await expectedAtIcebirdPrecision(lake.accounts));
  });

  it("reads each current visit of the table partitioned by day, with its day (the identity partition value) and the position deletes applied", async () => {
    const rows = await readWithIcebird(lake.visits);
    expect(rows).toEqual(await expectedAtIcebirdPrecision(lake.visits));
    expect(new Set(rows.map((r) => r.dt)).size).toBe(3);
  });
});
