/**
 * Injected platform failures for the lake's Durable Objects (a table's
 * coordinator and its buckets' writers): their R2 calls or catalog commits
 * fail as a test asks, counted across all of them in the order they happen.
 * The objects run in the test's isolate, so one counter serves them all.
 */
import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { lakeSchedulerStub } from "../../src/lake/scheduler.ts";
import { lakeWriterStub } from "../../src/lake/writer.ts";

export interface Faults {
  /** Fail the n-th R2 put (1-based, counted over every object) and every one after it. */
  putsFailFrom?: number;
  /** Fail the n-th R2 delete call and every one after it. */
  deletesFailFrom?: number;
  /** Fail every compare-and-swap of a lake state in the catalog. */
  catalogCommits?: boolean;
}

/** An R2 bucket and catalog whose calls fail per `faults`; `counts` sees how many puts and deletes were tried. */
export function faultyBindings(faults: Faults, counts = { puts: 0, deletes: 0 }): Pick<Env, "LAKE" | "CATALOG"> {
  const lake = new Proxy(env.LAKE, {
    get(target, property) {
      if (property === "put") {
        return async (...args: Parameters<R2Bucket["put"]>) => {
          if (faults.putsFailFrom !== undefined && ++counts.puts >= faults.putsFailFrom) throw new Error(`injected R2 failure on put ${counts.puts}`);
          return target.put(...args);
        };
      }
      if (property === "delete") {
        return async (...args: Parameters<R2Bucket["delete"]>) => {
          if (faults.deletesFailFrom !== undefined && ++counts.deletes >= faults.deletesFailFrom) throw new Error(`injected R2 failure on delete ${counts.deletes}`);
          return target.delete(...args);
        };
      }
      const value = Reflect.get(target, property);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
  const catalog = new Proxy(env.CATALOG, {
    get(target, property) {
      if (property === "prepare") {
        return (query: string) => {
          if (faults.catalogCommits && /lake_tables/.test(query) && /INSERT|UPDATE/.test(query)) throw new Error("injected D1 failure");
          return target.prepare(query);
        };
      }
      const value = Reflect.get(target, property);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
  return { LAKE: lake, CATALOG: catalog };
}

/**
 * Runs `work` with the table's coordinator and bucket writers using faulty
 * bindings, then puts their real ones back.
 */
export async function withFaults<T>(tableId: string, buckets: number, faults: Faults, work: () => Promise<T>): Promise<T> {
  const bindings = faultyBindings(faults);
  const stubs = [lakeSchedulerStub(env, tableId), ...Array.from({ length: buckets }, (_, b) => lakeWriterStub(env, tableId, b))];
  const originals = new Map<DurableObjectStub, Env>();
  for (const stub of stubs) {
    await runInDurableObject(stub as DurableObjectStub, (instance) => {
      const object = instance as unknown as { env: Env };
      originals.set(stub as DurableObjectStub, object.env);
      object.env = { ...object.env, ...bindings };
    });
  }
  try {
    return await work();
  } finally {
    for (const stub of stubs) {
      await runInDurableObject(stub as DurableObjectStub, (instance) => {
        (instance as unknown as { env: Env }).env = originals.get(stub as DurableObjectStub)!;
      });
    }
  }
}
