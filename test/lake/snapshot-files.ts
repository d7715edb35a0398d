/**
 * The live files of a table's current snapshot (and those it removed),
 * found the way an Iceberg reader finds them: metadata JSON → manifest list → manifests, all Avro
 * decoded by avsc (not Floe's code). Entries that leave their sequence
 * number null inherit the manifest's, as the v2 spec says for ADDED entries;
 * anything else without one is an error.
 */
import { readFile } from "node:fs/promises";
import { readAvro } from "../node/avro-reader.ts";
import { localPath, type TieredLake } from "./tiered-lake.ts";

export interface IcebergField {
  id: number;
  name: string;
  required: boolean;
  type: string;
}

/** The parts of Iceberg table metadata these tests follow. */
export interface TableMetadata {
  "current-snapshot-id": number;
  "current-schema-id": number;
  schemas: { "schema-id": number; fields: IcebergField[]; "identifier-field-ids"?: number[] }[];
  snapshots: { "snapshot-id": number; "manifest-list": string; summary: Record<string, string> }[];
  "partition-specs": { "spec-id": number; fields: { name: string; transform: string; "source-id": number; "field-id": number }[] }[];
}

export interface LiveFile {
  /** 0 data, 1 position deletes, 2 equality deletes. */
  content: number;
  /** The manifest listing it. */
  manifest: string;
  uri: string;
  localPath: string;
  /** The data sequence number, inherited from the manifest list when the entry has none. */
  sequenceNumber: bigint;
  partition: Record<string, unknown>;
  recordCount: bigint;
  equalityIds: number[] | null;
  nullValueCounts: Map<number, bigint>;
}

export async function readMetadata(lake: TieredLake, uri: string): Promise<TableMetadata> {
  return JSON.parse(await readFile(localPath(lake, uri), "utf8")) as TableMetadata;
}

export function currentSchema(metadata: TableMetadata): IcebergField[] {
  return metadata.schemas.find((s) => s["schema-id"] === metadata["current-schema-id"])!.fields;
}

/** The schema's identifier fields: a primary-key table's key, whose equality deletes name exactly these ids. */
export function identifierFieldIds(metadata: TableMetadata): number[] {
  return metadata.schemas.find((s) => s["schema-id"] === metadata["current-schema-id"])!["identifier-field-ids"] ?? [];
}

/** Every entry of the current snapshot's manifests, with the manifest list's entry of its manifest. */
async function manifestEntries(lake: TieredLake, metadata: TableMetadata): Promise<{ manifest: any; entries: any[] }[]> {
  const snapshot = metadata.snapshots.find((s) => s["snapshot-id"] === metadata["current-snapshot-id"]);
  if (!snapshot) throw new Error(`current snapshot ${metadata["current-snapshot-id"]} is not in the metadata`);
  const list = await readAvro(await readFile(localPath(lake, snapshot["manifest-list"])), { bigintLongs: true });
  return Promise.all(list.records.map(async (manifest: any) => ({
    manifest,
    entries: (await readAvro(await readFile(localPath(lake, manifest.manifest_path)), { bigintLongs: true })).records,
  })));
}

/** The files the current snapshot removed: its manifests' DELETED entries. */
export async function removedFiles(lake: TieredLake, metadata: TableMetadata): Promise<Pick<LiveFile, "manifest" | "uri" | "partition">[]> {
  return (await manifestEntries(lake, metadata)).flatMap(({ manifest, entries }) => entries.filter((e) => e.status === 2).map((e) => ({
    manifest: manifest.manifest_path as string, uri: e.data_file.file_path as string, partition: e.data_file.partition as Record<string, unknown>,
  })));
}

export async function liveFiles(lake: TieredLake, metadata: TableMetadata): Promise<LiveFile[]> {
  const files: LiveFile[] = [];
  for (const { manifest, entries } of await manifestEntries(lake, metadata)) {
    for (const entry of entries) {
      if (entry.status === 2) continue; // DELETED: no longer part of the table
      const inherited = entry.status === 1 ? (manifest.sequence_number as bigint) : null;
      const sequenceNumber: bigint | null = entry.sequence_number ?? inherited;
      if (sequenceNumber === null) throw new Error(`${entry.data_file.file_path}: no data sequence number`);
      const file = entry.data_file;
      files.push({
        content: file.content,
        manifest: manifest.manifest_path,
        uri: file.file_path,
        localPath: localPath(lake, file.file_path),
        sequenceNumber,
        partition: file.partition,
        recordCount: file.record_count,
        equalityIds: file.equality_ids,
        nullValueCounts: new Map((file.null_value_counts ?? []).map((e: { key: number; value: bigint }) => [e.key, e.value])),
      });
    }
  }
  return files;
}

/** A manifest list entry's partition field summary, bounds in Iceberg's single-value binary form. */
export interface FieldSummary {
  containsNull: boolean;
  lowerBound: Uint8Array | null;
  upperBound: Uint8Array | null;
}

/** Per manifest of the current snapshot (by path), its partition field summaries, in spec order. */
export async function manifestSummaries(lake: TieredLake, metadata: TableMetadata): Promise<Map<string, FieldSummary[]>> {
  const snapshot = metadata.snapshots.find((s) => s["snapshot-id"] === metadata["current-snapshot-id"])!;
  const list = await readAvro(await readFile(localPath(lake, snapshot["manifest-list"])), { bigintLongs: true });
  return new Map(list.records.map((m) => [
    m.manifest_path as string,
    (m.partitions as { contains_null: boolean; lower_bound: Uint8Array | null; upper_bound: Uint8Array | null }[]).map((p) => ({
      containsNull: p.contains_null, lowerBound: p.lower_bound, upperBound: p.upper_bound,
    })),
  ]));
}
