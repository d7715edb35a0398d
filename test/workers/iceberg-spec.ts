/**
 * The response shapes of the Iceberg REST catalog spec
 * (`open-api/rest-catalog-open-api.yaml` in apache/iceberg), transcribed as
 * JSON-schema-like objects from its `components/schemas`, with a small
 * checker for the subset they use. Tests check every answer against these,
 * written from the spec and not from Floe's code.
 */
import { expect } from "vitest";

type Schema =
  | { type: "string" | "integer" | "boolean" | "number"; nullable?: boolean; enum?: readonly unknown[]; minimum?: number; maximum?: number }
  | { type: "array"; items: Schema; nullable?: boolean }
  | { type: "object"; required?: readonly string[]; properties?: Record<string, Schema>; additionalProperties?: Schema | false; nullable?: boolean }
  | { type: "any" };

const string: Schema = { type: "string" };
const integer: Schema = { type: "integer" };
const stringMap: Schema = { type: "object", additionalProperties: string };
const namespace: Schema = { type: "array", items: string };
const pageToken: Schema = { type: "string", nullable: true };

const errorModel: Schema = {
  type: "object",
  required: ["message", "type", "code"],
  properties: { message: string, type: string, code: { type: "integer", minimum: 400, maximum: 600 }, stack: { type: "array", items: string } },
};

export const schemas = {
  IcebergErrorResponse: { type: "object", required: ["error"], properties: { error: errorModel }, additionalProperties: false },
  CatalogConfig: {
    type: "object",
    required: ["defaults", "overrides"],
    properties: { overrides: stringMap, defaults: stringMap, endpoints: { type: "array", items: string }, "idempotency-key-lifetime": string },
  },
  ListNamespacesResponse: { type: "object", properties: { "next-page-token": pageToken, namespaces: { type: "array", items: namespace } } },
  GetNamespaceResponse: { type: "object", required: ["namespace"], properties: { namespace, properties: { ...stringMap, nullable: true } } },
  CreateNamespaceResponse: { type: "object", required: ["namespace"], properties: { namespace, properties: stringMap } },
  UpdateNamespacePropertiesResponse: {
    type: "object",
    required: ["updated", "removed"],
    properties: { updated: { type: "array", items: string }, removed: { type: "array", items: string }, missing: { type: "array", items: string, nullable: true } },
  },
  ListTablesResponse: {
    type: "object",
    properties: {
      "next-page-token": pageToken,
      identifiers: { type: "array", items: { type: "object", required: ["namespace", "name"], properties: { namespace, name: string } } },
    },
  },
  LoadTableResult: {
    type: "object",
    required: ["metadata"],
    properties: {
      "metadata-location": { type: "string", nullable: true },
      metadata: { type: "any" },
      config: stringMap,
      "storage-credentials": {
        type: "array",
        items: { type: "object", required: ["prefix", "config"], properties: { prefix: string, config: stringMap } },
      },
    },
  },
  CommitTableResponse: { type: "object", required: ["metadata-location", "metadata"], properties: { "metadata-location": string, metadata: { type: "any" } } },
  LoadCredentialsResponse: {
    type: "object",
    required: ["storage-credentials"],
    properties: {
      "storage-credentials": { type: "array", items: { type: "object", required: ["prefix", "config"], properties: { prefix: string, config: stringMap } } },
    },
  },
  OAuthError: {
    type: "object",
    required: ["error"],
    properties: {
      error: { type: "string", enum: ["invalid_request", "invalid_client", "invalid_grant", "unauthorized_client", "unsupported_grant_type", "invalid_scope"] },
      error_description: string,
      error_uri: string,
    },
  },
} satisfies Record<string, Schema>;

const structField: Schema = { type: "object", required: ["id", "name", "type", "required"], properties: { id: integer, name: string, required: { type: "boolean" }, doc: string, type: { type: "any" } } };
const snapshot: Schema = {
  type: "object",
  required: ["snapshot-id", "timestamp-ms", "manifest-list", "summary"],
  properties: {
    "snapshot-id": integer, "parent-snapshot-id": integer, "sequence-number": integer, "timestamp-ms": integer, "manifest-list": string,
    summary: { type: "object", required: ["operation"], properties: { operation: { type: "string", enum: ["append", "replace", "overwrite", "delete"] } }, additionalProperties: string },
    "schema-id": integer,
  },
};

/** `TableMetadata` as the spec's schema has it, with the fields format v2 requires (spec.md) made required. */
export const tableMetadataV2: Schema = {
  type: "object",
  required: ["format-version", "table-uuid", "location", "last-sequence-number", "last-updated-ms", "last-column-id", "schemas", "current-schema-id",
    "partition-specs", "default-spec-id", "last-partition-id", "sort-orders", "default-sort-order-id"],
  properties: {
    "format-version": { type: "integer", minimum: 1, maximum: 3 },
    "table-uuid": string,
    location: string,
    "last-updated-ms": integer,
    properties: stringMap,
    schemas: { type: "array", items: { type: "object", required: ["type", "fields"], properties: { type: { type: "string", enum: ["struct"] }, fields: { type: "array", items: structField }, "schema-id": integer, "identifier-field-ids": { type: "array", items: integer } } } },
    "current-schema-id": integer,
    "last-column-id": integer,
    "partition-specs": { type: "array", items: { type: "object", required: ["fields"], properties: { "spec-id": integer, fields: { type: "array", items: { type: "object", required: ["source-id", "transform", "name"], properties: { "field-id": integer, "source-id": integer, name: string, transform: string } } } } } },
    "default-spec-id": integer,
    "last-partition-id": integer,
    "sort-orders": { type: "array", items: { type: "object", required: ["order-id", "fields"], properties: { "order-id": integer, fields: { type: "array", items: { type: "object", required: ["source-id", "transform", "direction", "null-order"], properties: { "source-id": integer, transform: string, direction: { type: "string", enum: ["asc", "desc"] }, "null-order": { type: "string", enum: ["nulls-first", "nulls-last"] } } } } } } },
    "default-sort-order-id": integer,
    snapshots: { type: "array", items: snapshot },
    refs: { type: "object", additionalProperties: { type: "object", required: ["type", "snapshot-id"], properties: { type: { type: "string", enum: ["tag", "branch"] }, "snapshot-id": integer, "max-ref-age-ms": integer, "max-snapshot-age-ms": integer, "min-snapshots-to-keep": integer } } },
    "current-snapshot-id": integer,
    "last-sequence-number": integer,
    "snapshot-log": { type: "array", items: { type: "object", required: ["snapshot-id", "timestamp-ms"], properties: { "snapshot-id": integer, "timestamp-ms": integer } } },
    "metadata-log": { type: "array", items: { type: "object", required: ["metadata-file", "timestamp-ms"], properties: { "metadata-file": string, "timestamp-ms": integer } } },
  },
};

/** The problems of `value` against `schema`, each with its JSON path (empty: it conforms). */
export function violations(value: unknown, schema: Schema, path = "$"): string[] {
  if (schema.type === "any") return [];
  if (value === null) return "nullable" in schema && schema.nullable ? [] : [`${path} is null`];
  switch (schema.type) {
    case "string":
    case "boolean":
    case "number":
    case "integer": {
      const ok = schema.type === "integer" ? Number.isInteger(value) : typeof value === schema.type;
      if (!ok) return [`${path} is not ${schema.type}: ${JSON.stringify(value)}`];
      if (schema.enum && !schema.enum.includes(value)) return [`${path} is not one of ${schema.enum.join(", ")}`];
      if (schema.minimum !== undefined && (value as number) < schema.minimum) return [`${path} is below ${schema.minimum}`];
      if (schema.maximum !== undefined && (value as number) > schema.maximum) return [`${path} is above ${schema.maximum}`];
      return [];
    }
    case "array":
      return Array.isArray(value) ? value.flatMap((item, i) => violations(item, schema.items, `${path}[${i}]`)) : [`${path} is not an array`];
    case "object": {
      if (typeof value !== "object" || Array.isArray(value)) return [`${path} is not an object`];
      const record = value as Record<string, unknown>;
      const missing = (schema.required ?? []).filter((key) => !(key in record)).map((key) => `${path}.${key} is missing`);
      return [
        ...missing,
        ...Object.entries(record).flatMap(([key, v]) => {
          const property = schema.properties?.[key];
          if (property) return violations(v, property, `${path}.${key}`);
          if (schema.additionalProperties === false) return [`${path}.${key} is not allowed`];
          return schema.additionalProperties ? violations(v, schema.additionalProperties, `${path}.${key}`) : [];
        }),
      ];
    }
  }
}

export function expectShape(value: unknown, name: keyof typeof schemas): void {
  expect(violations(value, schemas[name]), `${name}: ${JSON.stringify(value).slice(0, 300)}`).toEqual([]);
}

/** A LoadTableResult whose metadata is complete v2 table metadata. */
export function expectLoadTableResult(body: any): void {
  expectShape(body, "LoadTableResult");
  expect(violations(body.metadata, tableMetadataV2, "$.metadata")).toEqual([]);
}

/** An error answer: the spec's IcebergErrorResponse, its code the status, of the given type. */
export function expectIcebergError(answer: { status: number; body: any }, status: number, type: string, message?: RegExp): void {
  expect(answer.status, JSON.stringify(answer.body)).toBe(status);
  expectShape(answer.body, "IcebergErrorResponse");
  expect(answer.body.error.code).toBe(status);
  expect(answer.body.error.type).toBe(type);
  if (message) expect(answer.body.error.message).toMatch(message);
}
