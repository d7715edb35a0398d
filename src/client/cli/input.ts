/**
 * What `floe write` reads: NDJSON (one row object per line), CSV with a
 * header row (values typed by the table's columns, an empty unquoted field
 * is null), or an Arrow IPC file or stream (sent as Arrow, the server
 * widening its types), each cut into batches of at most `batchRows` rows.
 * Text is read as it streams, so a file never has to fit in memory; an
 * Arrow file is read whole.
 */
import { createReadStream } from "node:fs";
import { readFile } from "node:fs/promises";
import * as arrow from "apache-arrow";
import type { Row, TableDescription } from "../types.ts";

export type InputFormat = "ndjson" | "csv" | "arrow";

/** A batch of rows to send: row objects, or an Arrow IPC stream of `rows` rows. */
export type InputBatch = { rows: number; body: Row[] | Uint8Array };

/** JSON text of a batch is cut here, well under the server's 16 MiB body limit. */
const batchTextBytesMax = 8 * 1024 * 1024;

export function formatOf(path: string, format: string | undefined): InputFormat {
  if (format !== undefined) {
    if (format === "ndjson" || format === "csv" || format === "arrow") return format;
    throw new Error(`--format must be ndjson, csv or arrow, got '${format}'`);
  }
  if (/\.(ndjson|jsonl)$/i.test(path)) return "ndjson";
  if (/\.csv$/i.test(path)) return "csv";
  if (/\.(arrow|arrows|ipc|feather)$/i.test(path)) return "arrow";
  throw new Error(`cannot tell the format of '${path}' from its name: pass --format ndjson, csv or arrow`);
}

export async function* readBatches(path: string, format: InputFormat, table: TableDescription, batchRows: number): AsyncGenerator<InputBatch> {
  if (format === "arrow") {
    yield* arrowBatches(path, batchRows);
    return;
  }
  const records = format === "ndjson" ? ndjsonRecords(lines(path)) : csvRows(csvRecords(text(path)), table);
  let batch: Row[] = [];
  let bytes = 0;
  for await (const { row, size } of records) {
    batch.push(row);
    bytes += size;
    if (batch.length >= batchRows || bytes >= batchTextBytesMax) {
      yield { rows: batch.length, body: batch };
      batch = [];
      bytes = 0;
    }
  }
  if (batch.length > 0) yield { rows: batch.length, body: batch };
}

async function* arrowBatches(path: string, batchRows: number): AsyncGenerator<InputBatch> {
  const bytes = path === "-" ? await readAll(process.stdin) : await readFile(path);
  const table = arrow.tableFromIPC(bytes);
  for (let at = 0; at < table.numRows; at += batchRows) {
    const slice = table.slice(at, Math.min(at + batchRows, table.numRows));
    yield { rows: slice.numRows, body: arrow.tableToIPC(slice, "stream") };
  }
}

async function readAll(stream: NodeJS.ReadableStream): Promise<Uint8Array> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(Buffer.from(chunk as Buffer));
  return Buffer.concat(chunks);
}

function text(path: string): AsyncIterable<string> {
  return (path === "-" ? process.stdin.setEncoding("utf8") : createReadStream(path, { encoding: "utf8" })) as AsyncIterable<string>;
}

async function* lines(path: string): AsyncGenerator<string> {
  let pending = "";
  for await (const chunk of text(path)) {
    const parts = (pending + chunk).split("\n");
    pending = parts.pop()!;
    yield* parts;
  }
  if (pending !== "") yield pending;
}

async function* ndjsonRecords(source: AsyncIterable<string>): AsyncGenerator<{ row: Row; size: number }> {
  let number = 0;
  for await (const line of source) {
    number++;
    if (line.trim() === "") continue;
    let row: unknown;
    try {
      row = JSON.parse(line);
    } catch (error) {
      throw new Error(`line ${number} is not JSON: ${(error as Error).message}`);
    }
    if (typeof row !== "object" || row === null || Array.isArray(row)) throw new Error(`line ${number} is not a JSON object`);
    yield { row: row as Row, size: line.length };
  }
}

/** A CSV field: its text, and whether it was quoted (an empty quoted field is an empty string, an unquoted one null). */
interface Field {
  text: string;
  quoted: boolean;
}

/** RFC 4180 records: fields split by commas, quoted fields may hold commas, quotes ("") and line breaks; CRLF or LF. */
export async function* csvRecords(source: AsyncIterable<string>): AsyncGenerator<Field[]> {
  let record: Field[] = [];
  let field = "";
  let quoted = false;
  let inQuotes = false;
  let quotePending = false;
  let any = false;
  const endField = () => {
    record.push({ text: field, quoted });
    field = "";
    quoted = false;
  };
  for await (const chunk of source) {
    for (let i = 0; i < chunk.length; i++) {
      const c = chunk[i]!;
      if (inQuotes) {
        if (quotePending) {
          quotePending = false;
          if (c === '"') {
            field += '"';
            continue;
          }
          inQuotes = false; // the quote closed the field; c is handled below
        } else if (c === '"') {
          quotePending = true;
          continue;
        } else {
          field += c;
          continue;
        }
      }
      any = true;
      if (c === '"' && field === "" && !quoted) {
        inQuotes = true;
        quoted = true;
      } else if (c === ",") endField();
      else if (c === "\n") {
        endField();
        if (!(record.length === 1 && record[0]!.text === "" && !record[0]!.quoted)) yield record;
        record = [];
        any = false;
      } else if (c !== "\r") field += c;
    }
  }
  if (inQuotes && !quotePending) throw new Error("the CSV ends inside a quoted field");
  if (any || field !== "" || quoted) {
    endField();
    yield record;
  }
}

/** Rows from CSV records: the first is the header; each value typed by its column (docs/cli.md#write). */
async function* csvRows(records: AsyncIterable<Field[]>, table: TableDescription): AsyncGenerator<{ row: Row; size: number }> {
  let header: string[] | undefined;
  let number = 0;
  const types = new Map(table.columns.map((c) => [c.name, c.type.toUpperCase()]));
  for await (const record of records) {
    number++;
    if (header === undefined) {
      header = record.map((f) => f.text.trim());
      continue;
    }
    if (record.length !== header.length) throw new Error(`CSV record ${number} has ${record.length} fields, the header ${header.length}`);
    const row: Row = {};
    let size = 2;
    record.forEach((field, i) => {
      const name = header![i]!;
      row[name] = csvValue(field, types.get(name) ?? "STRING");
      size += name.length + field.text.length + 4;
    });
    yield { row, size };
  }
}

function csvValue(field: Field, type: string): unknown {
  const { text } = field;
  if (text === "" && !field.quoted) return null;
  const kind = type.replace(/\(.*$/, "");
  switch (kind) {
    case "BOOLEAN": {
      const lower = text.trim().toLowerCase();
      return lower === "true" || lower === "1" ? true : lower === "false" || lower === "0" ? false : text;
    }
    case "TINYINT":
    case "SMALLINT":
    case "INT":
    case "BIGINT":
      return /^\s*-?\d+\s*$/.test(text) && Number.isSafeInteger(Number(text)) ? Number(text) : text.trim();
    case "FLOAT":
    case "DOUBLE": {
      const number = Number(text);
      return text.trim() !== "" && Number.isFinite(number) ? number : text.trim();
    }
    case "DATE":
    case "TIME":
    case "TIMESTAMP":
    case "TIMESTAMP_LTZ":
      // All digits: epoch milliseconds, as JSON takes them.
      return /^\s*-?\d+\s*$/.test(text) && kind !== "DATE" && kind !== "TIME" ? Number(text) : text.trim();
    default:
      return text;
  }
}
