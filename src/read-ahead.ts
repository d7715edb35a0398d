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

/**
 * The chunks of several sources, source after source, while the next
 * `window - 1` sources already read ahead into buffers of `bufferedMax`
 * chunks each; a source that fails fails the whole when its turn comes.
 */
export async function* concatAhead<T>(sources: readonly AsyncGenerator<T>[], window: number, bufferedMax = 2): AsyncGenerator<T> {
  const pumps = sources.map((source) => new Pump(source, bufferedMax));
  try {
    for (let i = 0; i < pumps.length; i++) {
      for (let ahead = i; ahead < Math.min(pumps.length, i + window); ahead++) pumps[ahead]!.start();
      yield* pumps[i]!.drain();
    }
  } finally {
    await Promise.all(pumps.map((pump) => pump.stop()));
  }
}

/** Pulls a source into a bounded buffer ahead of its consumer. */
class Pump<T> {
  private readonly buffer: T[] = [];
  private done = false;
  private failure: { error: unknown } | undefined;
  private started = false;
  private stopped = false;
  private wake: (() => void) | undefined;
  private running: Promise<void> | undefined;

  private readonly source: AsyncGenerator<T>;
  private readonly bufferedMax: number;

  constructor(source: AsyncGenerator<T>, bufferedMax: number) {
    this.source = source;
    this.bufferedMax = bufferedMax;
  }

  start(): void {
    if (this.started) return;
    this.started = true;
    this.running = this.run();
  }

  private async run(): Promise<void> {
    try {
      while (!this.stopped) {
        if (this.buffer.length >= this.bufferedMax) {
          await new Promise<void>((resolve) => (this.wake = resolve));
          continue;
        }
        const next = await this.source.next();
        if (next.done) break;
        this.buffer.push(next.value);
        this.notify();
      }
    } catch (error) {
      this.failure = { error };
    }
    this.done = true;
    this.notify();
  }

  private notify(): void {
    const wake = this.wake;
    this.wake = undefined;
    wake?.();
  }

  async *drain(): AsyncGenerator<T> {
    for (;;) {
      if (this.buffer.length > 0) {
        yield this.buffer.shift()!;
        this.notify();
        continue;
      }
      if (this.failure) throw this.failure.error;
      if (this.done) return;
      await new Promise<void>((resolve) => (this.wake = resolve));
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.notify();
    await this.running;
    await this.source.return(undefined);
  }
}
