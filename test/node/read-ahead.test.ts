/**
 * Read-ahead over scan sources: results keep their order, buffering stays
 * within its bounds, a failing source fails the whole at its turn, and a
 * consumer that stops early stops every source.
 */
import { describe, expect, it } from "vitest";
import { concatAhead, mapLimited } from "../../src/read-ahead.ts";

const tick = () => new Promise((r) => setTimeout(r, 1));

/** A source of `count` numbers from `base` that records how far it was pulled and whether it was stopped. */
function source(base: number, count: number, log: { pulled: number[]; stopped: boolean[] }, index: number, failAt?: number) {
  log.pulled[index] = 0;
  log.stopped[index] = false;
  return (async function* () {
    try {
      for (let i = 0; i < count; i++) {
        await tick();
        if (i === failAt) throw new Error(`source ${index} failed`);
        log.pulled[index]!++;
        yield base + i;
      }
    } finally {
      log.stopped[index] = true;
    }
  })();
}

describe("concatAhead", () => {
  it("yields every source's items in source order while the next reads ahead, within its buffer", async () => {
    const log = { pulled: [] as number[], stopped: [] as boolean[] };
    const sources = [0, 1, 2, 3].map((i) => source(i * 100, 5, log, i));
    const out: number[] = [];
    for await (const item of concatAhead(sources, 2, 2)) {
      if (item === 0) {
        for (let i = 0; i < 100 && log.pulled[1] === 0; i++) await new Promise((r) => setTimeout(r, 10));
        await new Promise((r) => setTimeout(r, 30));
        // Source 1 reads ahead, but no further than its buffer (plus the item in flight); source 2 has not started.
        expect(log.pulled[1]).toBeLessThanOrEqual(3);
        expect(log.pulled[1]).toBeGreaterThan(0);
        expect(log.pulled[2]).toBe(0);
      }
      out.push(item);
    }
    expect(out).toEqual([0, 1, 2, 3].flatMap((i) => [0, 1, 2, 3, 4].map((j) => i * 100 + j)));
  });

  it("fails at the failing source's turn, after the sources before it", async () => {
    const log = { pulled: [] as number[], stopped: [] as boolean[] };
    const sources = [source(0, 3, log, 0), source(100, 3, log, 1, 1), source(200, 3, log, 2)];
    const out: number[] = [];
    await expect((async () => {
      for await (const item of concatAhead(sources, 3)) out.push(item);
    })()).rejects.toThrow("source 1 failed");
    expect(out).toEqual([0, 1, 2, 100]);
    expect(log.stopped).toEqual([true, true, true]);
  });

  it("stops every source when the consumer stops early", async () => {
    const log = { pulled: [] as number[], stopped: [] as boolean[] };
    const sources = [0, 1, 2].map((i) => source(i * 100, 1000, log, i));
    for await (const item of concatAhead(sources, 2)) if (item === 3) break;
    // The sources that ran are stopped; the one never reached never ran at all.
    expect(log.stopped).toEqual([true, true, false]);
    expect(log.pulled[0]).toBeLessThan(10);
    expect(log.pulled[2]).toBe(0);
  });
});

describe("mapLimited", () => {
  it("keeps the items' order and never runs more than the limit at once", async () => {
    let running = 0;
    let most = 0;
    const results = await mapLimited([5, 1, 4, 2, 3], 2, async (n) => {
      running++;
      most = Math.max(most, running);
      await new Promise((r) => setTimeout(r, n * 3));
      running--;
      return n * 10;
    });
    expect(results).toEqual([50, 10, 40, 20, 30]);
    expect(most).toBe(2);
  });
});
