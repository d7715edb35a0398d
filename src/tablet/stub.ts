/** How the Worker reaches the Tablet of one bucket of a table. */
import type { Tablet } from "./tablet.ts";
import { tabletName } from "../vocabulary.ts";

export function tabletStub(env: Env, tableId: string, bucket: number): DurableObjectStub<Tablet> {
  return env.TABLET.get(env.TABLET.idFromName(tabletName(tableId, bucket)));
}

/** Every bucket number of a table, 0..bucketCount-1. */
export function bucketsOf(bucketCount: number): number[] {
  return Array.from({ length: bucketCount }, (_, bucket) => bucket);
}
