/**
 * How the Worker reaches the Tablet of one bucket of a table, and the one
 * place a `dropped` answer becomes an error: the caller's table entry is
 * stale, which `catalog/cache.ts` repairs by resolving the table again.
 */
import type { Tablet } from "./tablet.ts";
import type { Dropped } from "./contract.ts";
import { TableDroppedError } from "../errors.ts";
import { tabletName } from "../vocabulary.ts";

export function tabletStub(env: Env, tableId: string, bucket: number): DurableObjectStub<Tablet> {
  return env.TABLET.get(env.TABLET.idFromName(tabletName(tableId, bucket)));
}

/** A Tablet's answer, unless its table was dropped (then `TableDroppedError`). */
export function live<T extends { kind: string }>(result: T): Exclude<T, Dropped> {
  if (result.kind === "dropped") throw new TableDroppedError();
  return result as Exclude<T, Dropped>;
}

/** Every bucket number of a table, 0..bucketCount-1. */
export function bucketsOf(bucketCount: number): number[] {
  return Array.from({ length: bucketCount }, (_, bucket) => bucket);
}
