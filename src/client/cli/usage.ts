/** A command line the CLI cannot run: wrong arguments (exit code 2, with the command's help). */
export class UsageError extends Error {}

/** `db.table` as the two names. */
export function tableName(text: string | undefined): { database: string; table: string } {
  const match = text === undefined ? null : /^([^.\s]+)\.([^.\s]+)$/.exec(text);
  if (!match) throw new UsageError(`name a table as <database>.<table>${text === undefined ? "" : `, got '${text}'`}`);
  return { database: match[1]!, table: match[2]! };
}

/** A positive integer option. */
export function positiveInteger(name: string, text: string | undefined, fallback: number): number {
  if (text === undefined) return fallback;
  const value = Number(text);
  if (!Number.isSafeInteger(value) || value < 1) throw new UsageError(`--${name} must be a positive integer, got '${text}'`);
  return value;
}

/** A JSON object given on the command line. */
export function jsonObject(what: string, text: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new UsageError(`${what} must be a JSON object, got '${text}'`);
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) throw new UsageError(`${what} must be a JSON object, got '${text}'`);
  return value as Record<string, unknown>;
}
