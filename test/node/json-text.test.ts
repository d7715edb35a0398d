/**
 * JSON text written column by column (`table/json-text.ts`) is byte for
 * byte what JSON.stringify makes of the row objects `scalarToJson` spells
 * (`log/page.ts` `columnsToJsonRows`, the reference): every type, its
 * edges, nulls in every column, sliced columns, both row framings.
 */
import { describe, expect, it } from "vitest";
import { columnsToJsonRows } from "../../src/log/page.ts";
import { buildColumn } from "../../src/table/columns.ts";
import { jsonRowsText } from "../../src/table/json-text.ts";
import type { Column } from "../../src/table/schema.ts";
import { parseType } from "../../src/table/types.ts";
import { randomColumns } from "./random-columns.ts";

const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes);
const reference = (columns: readonly Column[], data: Parameters<typeof columnsToJsonRows>[1], rowCount: number) =>
  columnsToJsonRows(columns, data, rowCount).map((row) => JSON.stringify(row));

describe("JSON text of Arrow columns", () => {
  for (const seed of [1, 2, 3]) {
    it(`writes every type as JSON.stringify of the row objects does (seed ${seed})`, () => {
      const { columns, data } = randomColumns(3000, seed);
      const lines = reference(columns, data, 3000);
      expect(text(jsonRowsText(columns, data, 3000, "", "\n"))).toBe(lines.map((line) => `${line}\n`).join(""));
      expect(text(jsonRowsText(columns, data, 3000, ",", ""))).toBe(lines.map((line) => `,${line}`).join(""));
    });
  }

  it("reads sliced columns from their offset", () => {
    const { columns, data } = randomColumns(500, 4);
    const sliced = data.map((d) => d.slice(37, 400));
    expect(text(jsonRowsText(columns, sliced, 400, "", "\n"))).toBe(reference(columns, sliced, 400).map((line) => `${line}\n`).join(""));
  });

  it("spells the edges as the API does: -0 as 0, non-finite floats, big integers, 38 digits, microseconds, base64, escapes", () => {
    const column = (name: string, type: string, values: unknown[]) => ({ column: { id: 0, name, type: parseType(type), nullable: true }, values });
    const spec = [
      column("f", "FLOAT", [-0, NaN, -Infinity, null]),
      column("d", "DOUBLE", [-0, Infinity, 1e21, 5e-324]),
      column("big", "BIGINT", [2n ** 53n - 1n, -(2n ** 53n), -(2n ** 63n), null]),
      column("m", "DECIMAL(38,10)", [10n ** 38n - 1n, -1n, 0n, -(2n ** 53n) + 1n]),
      column("t", "TIMESTAMP(6)", [-62_135_596_800_000_000n, 253_402_300_799_999_999n, -1n, 1_764_000_000_000_001n]),
      column("lt", "TIMESTAMP_LTZ(3)", [0n, -1000n, 1_764_000_000_123_000n, null]),
      column("at", "TIME", [0n, 1n, 86_399_999_999n, 43_200_000_000n]),
      column("day", "DATE", [-719_162, 2_932_896, -1, 0]),
      column("b", "BYTES", [new Uint8Array([0, 1, 2, 255]), new Uint8Array(0), new Uint8Array([251]), new Uint8Array([1, 2])]),
      column("s", "STRING", ["\"\\\n\u0000\u001f\u007f", "🎉", "", "\u2028"]),
    ];
    const columns = spec.map((s) => s.column);
    const data = spec.map((s) => buildColumn(s.column.type, s.values as never));
    const rows = text(jsonRowsText(columns, data, 4, "", "\n")).trim().split("\n");
    expect(rows).toEqual(reference(columns, data, 4));
    expect(rows[0]).toBe(
      '{"f":0,"d":0,"big":9007199254740991,"m":"9999999999999999999999999999.9999999999","t":"0001-01-01T00:00:00.000000",' +
        '"lt":"1970-01-01T00:00:00.000Z","at":"00:00:00","day":"0001-01-01","b":"AAEC/w==","s":"\\"\\\\\\n\\u0000\\u001f\u007f"}',
    );
    expect(rows[1]).toContain('"f":"NaN","d":"Infinity","big":"-9007199254740992","m":"-0.0000000001","t":"9999-12-31T23:59:59.999999"');
  });

  it("writes rows of no columns as empty objects", () => {
    expect(text(jsonRowsText([], [], 2, "", "\n"))).toBe("{}\n{}\n");
  });
});
