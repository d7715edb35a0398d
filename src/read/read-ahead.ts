/**
 * Bounded read-ahead: runs up to `window` tasks at once and yields their
 * results in task order, so a scan overlaps R2 and Tablet round trips while
 * holding at most `window + 1` results in memory (the one being consumed
 * and those running).
 */
export async function* readAhead<T>(tasks: Iterable<() => Promise<T>>, window: number): AsyncGenerator<T> {
  const iterator = tasks[Symbol.iterator]();
  const running: Promise<T>[] = [];
  const startNext = () => {
    const next = iterator.next();
    if (next.done) return;
    const started = next.value();
    // A consumer that stops early never awaits the tasks still running; their failures are not news.
    started.catch(() => {});
    running.push(started);
  };
  for (let i = 0; i < window; i++) startNext();
  while (running.length > 0) {
    const result = await running.shift()!;
    startNext();
    yield result;
  }
}

/** `work` over every item, at most `limit` at a time, results in item order. */
export async function mapLimited<T, R>(items: readonly T[], limit: number, work: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = [];
  for await (const result of readAhead(items.map((item) => () => work(item)), limit)) results.push(result);
  return results;
}
