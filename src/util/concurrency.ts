// Runs an async function over items with at most `limit` in flight; rejects on the first failure
// after the in-flight work settles.
export async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  let failure: { error: unknown } | undefined;
  const worker = async () => {
    while (!failure && next < items.length) {
      const i = next++;
      try {
        results[i] = await fn(items[i]!, i);
      } catch (error) {
        failure ??= { error };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
  if (failure) throw failure.error;
  return results;
}

/**
 * At most `limit` tasks at once (or, with weights, tasks whose weights sum to at most `limit`); the rest wait in
 * order of priority, then of arrival.
 */
export class Limiter {
  private active = 0;
  private readonly queue: { weight: number; priority: number; start: () => void }[] = [];
  readonly limit: number;
  constructor(limit: number) {
    this.limit = limit;
    if (limit < 1) throw new Error('Limiter needs a limit of at least 1');
  }
  /**
   * `weight`: how many of the slots the task takes (e.g. threads of a compressor), at most `limit`. `priority`:
   * a waiting task starts before every waiter of lower priority (compressions pass their size: the longest
   * first, so the slots finish together instead of one running a long task alone at the end).
   */
  async run<T>(task: () => Promise<T>, weight = 1, priority = 0): Promise<T> {
    const w = Math.min(Math.max(1, weight), this.limit);
    // Only the queue's head starts, and a newcomer never passes a waiter of its own priority or above: a heavy
    // task is never starved by light ones of its priority.
    if (this.queue.length > 0 || this.active + w > this.limit) {
      await new Promise<void>((start) => {
        const behind = this.queue.findIndex((q) => q.priority < priority);
        this.queue.splice(behind === -1 ? this.queue.length : behind, 0, { weight: w, priority, start });
      });
    } else this.active += w;
    try {
      return await task();
    } finally {
      this.active -= w;
      // A finishing task hands its slots straight to the waiters that fit, in order.
      while (this.queue.length > 0 && this.active + this.queue[0]!.weight <= this.limit) {
        const next = this.queue.shift()!;
        this.active += next.weight;
        next.start();
      }
    }
  }
}

/** Maps every item through the limiter; all run to completion, the first error (in input order) is thrown. */
export async function mapLimited<T, R>(limiter: Limiter, items: T[], fn: (item: T) => Promise<R>): Promise<R[]> {
  const settled = await Promise.allSettled(items.map((item) => limiter.run(() => fn(item))));
  const failed = settled.find((s): s is PromiseRejectedResult => s.status === 'rejected');
  if (failed) throw failed.reason;
  return settled.map((s) => (s as PromiseFulfilledResult<R>).value);
}
