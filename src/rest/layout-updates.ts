/**
 * The updates that change a table's layout: schemas, partition specs and
 * sort orders, added and made the default, as Iceberg's Java catalog
 * applies them (an added one identical to an existing one reuses its id;
 * otherwise it gets the highest id + 1; `-1` names the last one added).
 *
 * Invariants: field ids are unique within a schema and `last-column-id`
 * never decreases; partition field ids are above 999 and
 * `last-partition-id` never decreases; the unsorted order has id 0.
 */
import { IcebergError } from "./errors.ts";
import type { PartitionField, PartitionSpec, Schema, SchemaField, SortField, SortOrder, TableMetadata } from "./metadata.ts";
import * as wire from "./wire.ts";

/** What `-1` in a set-current/set-default update refers to: the last schema, spec or order added in this commit. */
export interface LastAdded {
  schemaId: number | null;
  specId: number | null;
  orderId: number | null;
}

const transformPattern = /^(identity|year|month|day|hour|void|bucket\[\d+\]|truncate\[\d+\])$/;

export function addSchema(m: TableMetadata, update: wire.JsonObject, last: LastAdded): void {
  const schema = parseSchema(update.schema, "add-schema.schema");
  const highest = Math.max(0, ...fieldIds(schema));
  const given = update["last-column-id"] === undefined ? undefined : wire.int(update["last-column-id"], "add-schema.last-column-id");
  if (given !== undefined && given < m["last-column-id"]) {
    throw IcebergError.badRequest(`add-schema: last-column-id ${given} is below the table's ${m["last-column-id"]}`);
  }
  m["last-column-id"] = Math.max(m["last-column-id"], highest, given ?? 0);
  const same = m.schemas.find((s) => sameJson(withoutId(s, "schema-id"), withoutId(schema, "schema-id")));
  const id = same?.["schema-id"] ?? nextId(m.schemas.map((s) => s["schema-id"]), 0);
  if (!same) m.schemas.push({ ...schema, "schema-id": id });
  last.schemaId = id;
}

export function setCurrentSchema(m: TableMetadata, update: wire.JsonObject, last: LastAdded): void {
  const id = resolveId(wire.int(update["schema-id"], "set-current-schema.schema-id"), last.schemaId, "schema");
  if (!m.schemas.some((s) => s["schema-id"] === id)) throw IcebergError.badRequest(`set-current-schema: no schema with id ${id}`);
  m["current-schema-id"] = id;
}

export function addSpec(m: TableMetadata, update: wire.JsonObject, last: LastAdded): void {
  const body = wire.object(update.spec, "add-spec.spec");
  const sourceIds = new Set(m.schemas.flatMap((s) => fieldIds(s)));
  let lastPartitionId = m["last-partition-id"];
  const fields = wire.array(body.fields, "add-spec.spec.fields").map((input, i): PartitionField => {
    const what = `add-spec.spec.fields[${i}]`;
    const f = wire.object(input, what);
    const sourceId = wire.int(f["source-id"], `${what}.source-id`);
    const transform = wire.string(f.transform, `${what}.transform`);
    if (!sourceIds.has(sourceId)) throw IcebergError.badRequest(`${what}: no column has id ${sourceId}`);
    if (!transformPattern.test(transform)) throw IcebergError.badRequest(`${what}: unknown transform '${transform}'`);
    const reused = m["partition-specs"].flatMap((s) => s.fields).find((p) => p["source-id"] === sourceId && p.transform === transform);
    const fieldId = f["field-id"] === undefined ? reused?.["field-id"] ?? ++lastPartitionId : wire.int(f["field-id"], `${what}.field-id`);
    if (fieldId < 1000) throw IcebergError.badRequest(`${what}: partition field ids start at 1000, got ${fieldId}`);
    return { "source-id": sourceId, "field-id": fieldId, name: wire.string(f.name, `${what}.name`), transform };
  });
  m["last-partition-id"] = Math.max(lastPartitionId, ...fields.map((f) => f["field-id"]));
  const same = m["partition-specs"].find((s) => sameJson(s.fields, fields));
  const id = same?.["spec-id"] ?? nextId(m["partition-specs"].map((s) => s["spec-id"]), 0);
  if (!same) m["partition-specs"].push({ "spec-id": id, fields } satisfies PartitionSpec);
  last.specId = id;
}

export function setDefaultSpec(m: TableMetadata, update: wire.JsonObject, last: LastAdded): void {
  const id = resolveId(wire.int(update["spec-id"], "set-default-spec.spec-id"), last.specId, "partition spec");
  if (!m["partition-specs"].some((s) => s["spec-id"] === id)) throw IcebergError.badRequest(`set-default-spec: no partition spec with id ${id}`);
  m["default-spec-id"] = id;
}

export function addSortOrder(m: TableMetadata, update: wire.JsonObject, last: LastAdded): void {
  const body = wire.object(update["sort-order"], "add-sort-order.sort-order");
  const sourceIds = new Set(m.schemas.flatMap((s) => fieldIds(s)));
  const fields = wire.array(body.fields, "add-sort-order.sort-order.fields").map((input, i): SortField => {
    const what = `add-sort-order.sort-order.fields[${i}]`;
    const f = wire.object(input, what);
    const sourceId = wire.int(f["source-id"], `${what}.source-id`);
    const transform = wire.string(f.transform, `${what}.transform`);
    const direction = wire.string(f.direction, `${what}.direction`);
    const nullOrder = wire.string(f["null-order"], `${what}.null-order`);
    if (!sourceIds.has(sourceId)) throw IcebergError.badRequest(`${what}: no column has id ${sourceId}`);
    if (!transformPattern.test(transform)) throw IcebergError.badRequest(`${what}: unknown transform '${transform}'`);
    if (direction !== "asc" && direction !== "desc") throw IcebergError.badRequest(`${what}.direction must be asc or desc`);
    if (nullOrder !== "nulls-first" && nullOrder !== "nulls-last") throw IcebergError.badRequest(`${what}.null-order must be nulls-first or nulls-last`);
    return { transform, "source-id": sourceId, direction, "null-order": nullOrder };
  });
  const same = m["sort-orders"].find((o) => sameJson(o.fields, fields));
  const id = same?.["order-id"] ?? (fields.length === 0 ? 0 : nextId(m["sort-orders"].map((o) => o["order-id"]), 1));
  if (!same) m["sort-orders"].push({ "order-id": id, fields } satisfies SortOrder);
  last.orderId = id;
}

export function setDefaultSortOrder(m: TableMetadata, update: wire.JsonObject, last: LastAdded): void {
  const id = resolveId(wire.int(update["sort-order-id"], "set-default-sort-order.sort-order-id"), last.orderId, "sort order");
  if (!m["sort-orders"].some((o) => o["order-id"] === id)) throw IcebergError.badRequest(`set-default-sort-order: no sort order with id ${id}`);
  m["default-sort-order-id"] = id;
}

export function removeSchemas(m: TableMetadata, update: wire.JsonObject): void {
  const ids = new Set(wire.array(update["schema-ids"], "remove-schemas.schema-ids").map((v, i) => wire.int(v, `remove-schemas.schema-ids[${i}]`)));
  if (ids.has(m["current-schema-id"])) throw IcebergError.badRequest("remove-schemas: cannot remove the current schema");
  m.schemas = m.schemas.filter((s) => !ids.has(s["schema-id"]));
}

export function removePartitionSpecs(m: TableMetadata, update: wire.JsonObject): void {
  const ids = new Set(wire.array(update["spec-ids"], "remove-partition-specs.spec-ids").map((v, i) => wire.int(v, `remove-partition-specs.spec-ids[${i}]`)));
  if (ids.has(m["default-spec-id"])) throw IcebergError.badRequest("remove-partition-specs: cannot remove the default spec");
  m["partition-specs"] = m["partition-specs"].filter((s) => !ids.has(s["spec-id"]));
}

/** Every field id a schema assigns, nested ones (struct fields, list elements, map keys and values) included. */
export function fieldIds(schema: Pick<Schema, "fields">): number[] {
  const ids: number[] = [];
  const visit = (type: unknown): void => {
    if (typeof type !== "object" || type === null) return;
    const t = type as Record<string, unknown>;
    if (t.type === "struct") for (const f of (t.fields as SchemaField[]) ?? []) (ids.push(f.id), visit(f.type));
    if (t.type === "list") (ids.push(t["element-id"] as number), visit(t.element));
    if (t.type === "map") (ids.push(t["key-id"] as number, t["value-id"] as number), visit(t.key), visit(t.value));
  };
  visit({ type: "struct", fields: schema.fields });
  return ids;
}

export function parseSchema(input: unknown, what: string): Schema {
  const body = wire.object(input, what);
  if (body.type !== "struct") throw IcebergError.badRequest(`${what}.type must be "struct"`);
  wire.array(body.fields, `${what}.fields`);
  checkStructFields(body.fields as unknown[], `${what}.fields`);
  const schema = body as unknown as Schema;
  const ids = fieldIds(schema);
  const duplicate = ids.find((id, i) => ids.indexOf(id) !== i);
  if (duplicate !== undefined) throw IcebergError.badRequest(`${what}: field id ${duplicate} is used twice`);
  if (body["identifier-field-ids"] !== undefined) {
    for (const [i, id] of wire.array(body["identifier-field-ids"], `${what}.identifier-field-ids`).entries()) {
      if (!ids.includes(wire.int(id, `${what}.identifier-field-ids[${i}]`))) {
        throw IcebergError.badRequest(`${what}: identifier field ${String(id)} is not a field of the schema`);
      }
    }
  }
  return schema;
}

function checkStructFields(fields: unknown[], what: string): void {
  for (const [i, input] of fields.entries()) {
    const f = wire.object(input, `${what}[${i}]`);
    const id = wire.int(f.id, `${what}[${i}].id`);
    if (id < 0) throw IcebergError.badRequest(`${what}[${i}].id must not be negative`);
    wire.string(f.name, `${what}[${i}].name`);
    wire.boolean(f.required, `${what}[${i}].required`);
    checkType(f.type, `${what}[${i}].type`);
  }
}

function checkType(type: unknown, what: string): void {
  if (typeof type === "string") return;
  const t = wire.object(type, what);
  if (t.type === "struct") return checkStructFields(wire.array(t.fields, `${what}.fields`), `${what}.fields`);
  if (t.type === "list") {
    wire.int(t["element-id"], `${what}.element-id`);
    wire.boolean(t["element-required"], `${what}.element-required`);
    return checkType(t.element, `${what}.element`);
  }
  if (t.type === "map") {
    wire.int(t["key-id"], `${what}.key-id`);
    wire.int(t["value-id"], `${what}.value-id`);
    wire.boolean(t["value-required"], `${what}.value-required`);
    checkType(t.key, `${what}.key`);
    return checkType(t.value, `${what}.value`);
  }
  throw IcebergError.badRequest(`${what} must be a type name or a struct, list or map`);
}

function resolveId(id: number, lastAdded: number | null, what: string): number {
  if (id !== -1) return id;
  if (lastAdded === null) throw IcebergError.badRequest(`-1 names the last ${what} added, but this commit added none`);
  return lastAdded;
}

function nextId(ids: number[], first: number): number {
  return ids.length === 0 ? first : Math.max(first - 1, ...ids) + 1;
}

function withoutId<T extends object>(value: T, key: keyof T): Omit<T, typeof key> {
  const { [key]: _, ...rest } = value;
  return rest;
}

/** Equal as JSON, whatever the order of object keys. */
function sameJson(a: unknown, b: unknown): boolean {
  return canonical(a) === canonical(b);
}

function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(",")}]`;
  if (typeof value === "object" && value !== null) {
    const entries = Object.entries(value).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonical(v)}`).join(",")}}`;
  }
  return JSON.stringify(value) ?? "null";
}
