/**
 * Reading the fields of request bodies: each helper answers the value with
 * its type or throws a 400 `BadRequestException` naming the field and what
 * it should have been.
 */
import { IcebergError } from "./errors.ts";
import { isLong, type Long } from "./json.ts";

export type JsonObject = Record<string, unknown>;

function describe(value: unknown): string {
  const text = typeof value === "bigint" ? value.toString() : JSON.stringify(value) ?? String(value);
  return text.length > 40 ? `${text.slice(0, 40)}…` : text;
}

export function object(value: unknown, what: string): JsonObject {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw IcebergError.badRequest(`${what} must be a JSON object, got ${describe(value)}`);
  }
  return value as JsonObject;
}

export function array(value: unknown, what: string): unknown[] {
  if (!Array.isArray(value)) throw IcebergError.badRequest(`${what} must be an array, got ${describe(value)}`);
  return value;
}

export function string(value: unknown, what: string): string {
  if (typeof value !== "string") throw IcebergError.badRequest(`${what} must be a string, got ${describe(value)}`);
  return value;
}

export function int(value: unknown, what: string): number {
  if (typeof value !== "number" || !Number.isInteger(value) || Math.abs(value) > 2 ** 31) {
    throw IcebergError.badRequest(`${what} must be an integer, got ${describe(value)}`);
  }
  return value;
}

export function long(value: unknown, what: string): Long {
  if (!isLong(value)) throw IcebergError.badRequest(`${what} must be a 64-bit integer, got ${describe(value)}`);
  return value;
}

/** A timestamp in milliseconds, or a count: a non-negative safe integer. */
export function millis(value: unknown, what: string): number {
  if (typeof value !== "number" || !Number.isSafeInteger(value) || value < 0) {
    throw IcebergError.badRequest(`${what} must be a non-negative integer, got ${describe(value)}`);
  }
  return value;
}

export function boolean(value: unknown, what: string): boolean {
  if (typeof value !== "boolean") throw IcebergError.badRequest(`${what} must be true or false, got ${describe(value)}`);
  return value;
}

export function stringMap(value: unknown, what: string): Record<string, string> {
  const map = object(value, what);
  for (const [key, v] of Object.entries(map)) string(v, `${what}.${key}`);
  return map as Record<string, string>;
}

export function stringList(value: unknown, what: string): string[] {
  return array(value, what).map((v, i) => string(v, `${what}[${i}]`));
}

/** Refuses fields a body may not carry, so a typo is not silently ignored. */
export function onlyFields(body: JsonObject, allowed: readonly string[], what: string): void {
  const unknown = Object.keys(body).find((key) => !allowed.includes(key));
  if (unknown !== undefined) throw IcebergError.badRequest(`${what} has an unknown field '${unknown}'`);
}
