/**
 * What the global setup hands the reader tests: a local copy of the lake
 * after the workload, and per table where it lives and the rows it must
 * hold. Plain JSON, as vitest's provide/inject requires.
 */
import { join } from "node:path";
import { inject } from "vitest";
import type { LakeRow } from "./lake-values.ts";

export interface TieredTable {
  /** The Iceberg table location, `s3://floe-lake/<db>/<table>-<tableId>`. */
  location: string;
  /** The metadata file the catalog points at. */
  metadataLocation: string;
  version: number;
  /** The snapshots its metadata holds. */
  snapshots: number;
  /** The columns that identify a row. */
  key: string[];
  /** The model's rows with their stream positions, in the canonical form. */
  expectedRows: LakeRow[];
}

export interface TieredLake {
  /** The folder holding every exported object at `<dir>/<key>`. */
  dir: string;
  /** What precedes an object key in a lake URI (`LAKE_URI_PREFIX`). */
  uriPrefix: string;
  trades: TieredTable;
  accounts: TieredTable;
  /** Partitioned by day: `identity(dt)` before its bucket field. */
  visits: TieredTable;
}

declare module "vitest" {
  export interface ProvidedContext {
    lake: TieredLake;
  }
}

export function tieredLake(): TieredLake {
  return inject("lake");
}

/** The local copy of the object a lake URI names. */
export function localPath(lake: TieredLake, uri: string): string {
  if (!uri.startsWith(`${lake.uriPrefix}/`)) throw new Error(`lake URI ${uri} is outside ${lake.uriPrefix}`);
  return join(lake.dir, uri.slice(lake.uriPrefix.length + 1));
}
