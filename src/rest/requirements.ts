/**
 * Commit requirements (the spec's `TableRequirement`): assertions about the
 * table as it is before a commit. Parsing refuses unknown types with a 400;
 * checking answers the first requirement that does not hold, which the
 * commit turns into a 409 `CommitFailedException` with nothing changed.
 */
import { IcebergError } from "./errors.ts";
import type { Long } from "./json.ts";
import type { TableMetadata } from "./metadata.ts";
import * as wire from "./wire.ts";

export type Requirement =
  | { type: "assert-create" }
  | { type: "assert-table-uuid"; uuid: string }
  | { type: "assert-ref-snapshot-id"; ref: string; snapshotId: Long | null }
  | { type: "assert-last-assigned-field-id"; id: number }
  | { type: "assert-current-schema-id"; id: number }
  | { type: "assert-last-assigned-partition-id"; id: number }
  | { type: "assert-default-spec-id"; id: number }
  | { type: "assert-default-sort-order-id"; id: number };

export function parseRequirement(input: unknown, what: string): Requirement {
  const body = wire.object(input, what);
  const type = wire.string(body.type, `${what}.type`);
  const intField = (key: string) => wire.int(body[key], `${what}.${key}`);
  switch (type) {
    case "assert-create":
      return { type };
    case "assert-table-uuid":
      return { type, uuid: wire.string(body.uuid, `${what}.uuid`) };
    case "assert-ref-snapshot-id": {
      const snapshotId = body["snapshot-id"];
      return {
        type,
        ref: wire.string(body.ref, `${what}.ref`),
        snapshotId: snapshotId === null || snapshotId === undefined ? null : wire.long(snapshotId, `${what}.snapshot-id`),
      };
    }
    case "assert-last-assigned-field-id":
      return { type, id: intField("last-assigned-field-id") };
    case "assert-current-schema-id":
      return { type, id: intField("current-schema-id") };
    case "assert-last-assigned-partition-id":
      return { type, id: intField("last-assigned-partition-id") };
    case "assert-default-spec-id":
      return { type, id: intField("default-spec-id") };
    case "assert-default-sort-order-id":
      return { type, id: intField("default-sort-order-id") };
    default:
      throw IcebergError.badRequest(`${what}: unknown requirement type '${type}'`);
  }
}

/** Why the first requirement that fails on `base` (null: the table does not exist) fails, or null when all hold. */
export function failedRequirement(requirements: readonly Requirement[], base: TableMetadata | null): string | null {
  for (const requirement of requirements) {
    const failure = check(requirement, base);
    if (failure !== null) return `requirement ${requirement.type} failed: ${failure}`;
  }
  return null;
}

function check(requirement: Requirement, base: TableMetadata | null): string | null {
  if (requirement.type === "assert-create") return base === null ? null : "the table already exists";
  if (base === null) return "the table does not exist";
  const expectSame = (what: string, actual: unknown, expected: unknown) =>
    actual === expected ? null : `${what} is ${String(actual)}, expected ${String(expected)}`;
  switch (requirement.type) {
    case "assert-table-uuid":
      return expectSame("table uuid", base["table-uuid"], requirement.uuid);
    case "assert-ref-snapshot-id": {
      const ref = base.refs?.[requirement.ref];
      if (requirement.snapshotId === null) return ref === undefined ? null : `ref '${requirement.ref}' exists (snapshot ${ref["snapshot-id"]})`;
      if (ref === undefined) return `ref '${requirement.ref}' does not exist`;
      return expectSame(`ref '${requirement.ref}'`, ref["snapshot-id"], requirement.snapshotId);
    }
    case "assert-last-assigned-field-id":
      return expectSame("last assigned field id", base["last-column-id"], requirement.id);
    case "assert-current-schema-id":
      return expectSame("current schema id", base["current-schema-id"], requirement.id);
    case "assert-last-assigned-partition-id":
      return expectSame("last assigned partition id", base["last-partition-id"], requirement.id);
    case "assert-default-spec-id":
      return expectSame("default spec id", base["default-spec-id"], requirement.id);
    case "assert-default-sort-order-id":
      return expectSame("default sort order id", base["default-sort-order-id"], requirement.id);
  }
}
