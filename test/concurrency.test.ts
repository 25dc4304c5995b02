import { describe, expect, it } from 'vitest';
import { Limiter, mapLimit } from '../src/util/concurrency.ts';

const tick = () => new Promise<void>((r) => setImmediate(r));

describe('Limiter', () => {
  it('never runs more than its limit, even when a newcomer arrives as a slot frees', async () => {
    const l = new Limiter(1);
    let active = 0;
    let peak = 0;
    const enter = () => {
      active++;
      peak = Math.max(peak, active);
    };
    const quick = async () => {
      enter();
      await tick();
      active--;
    };
    let release!: () => void;
    const firstWork = new Promise<void>((r) => (release = r)).then(() => void active--);
    const first = l.run(() => (enter(), firstWork));
    const waiter = l.run(quick);
    // Chained on the very promise the first task's slot waits on, the newcomer calls run() in the same
    // microtask turn in which that slot frees, before the waiter has resumed.
    const newcomer = firstWork.then(() => l.run(quick));
    release();
    await Promise.all([first, waiter, newcomer]);
    expect(peak).toBe(1);
  });

  it('runs waiters in arrival order and keeps going after a failure', async () => {
    const l = new Limiter(1);
    const order: string[] = [];
    const failing = l.run(async () => {
      await tick();
      order.push('a');
      throw new Error('boom');
    });
    const b = l.run(async () => void order.push('b'));
    const c = l.run(async () => void order.push('c'));
    await expect(failing).rejects.toThrow('boom');
    await Promise.all([b, c]);
    expect(order).toEqual(['a', 'b', 'c']);
  });

  it('counts weights: light tasks share the slots, a heavy one waits for all of them and no later task jumps it', async () => {
    const l = new Limiter(2);
    let used = 0;
    let peak = 0;
    const order: string[] = [];
    const task = (name: string, weight: number) =>
      l.run(async () => {
        used += Math.min(weight, l.limit);
        peak = Math.max(peak, used);
        order.push(`${name}+`);
        await tick();
        await tick();
        used -= Math.min(weight, l.limit);
        order.push(`${name}-`);
      }, weight);
    await Promise.all([task('a', 1), task('b', 1), task('heavy', 2), task('c', 1), task('huge', 5)]);
    expect(peak).toBe(2);
    // a and b run together; heavy starts only when both are done; c (light) still waits behind heavy; a weight
    // above the limit takes the whole limit.
    expect(order.slice(0, 2)).toEqual(['a+', 'b+']);
    expect(order.indexOf('heavy+')).toBeGreaterThan(Math.max(order.indexOf('a-'), order.indexOf('b-')));
    expect(order.indexOf('c+')).toBeGreaterThan(order.indexOf('heavy-'));
    expect(order.indexOf('huge+')).toBeGreaterThan(order.indexOf('c-'));
  });

  it('starts waiters by priority (the largest compression first), arrival order among equals, never past a waiter of its own priority', async () => {
    const l = new Limiter(1);
    const order: string[] = [];
    const task = (name: string, priority: number) => l.run(async () => void (order.push(name), await tick()), 1, priority);
    // The first starts at once; the others wait and start by priority: 24 before 20 before 12, the two 12s in arrival order.
    await Promise.all([task('first', 1), task('p12a', 12), task('p24', 24), task('p12b', 12), task('p0', 0), task('p20', 20), task('top', Infinity)]);
    expect(order).toEqual(['first', 'top', 'p24', 'p20', 'p12a', 'p12b', 'p0']);
  });

  it('refuses a limit below 1', () => {
    expect(() => new Limiter(0)).toThrow(/at least 1/);
  });
});

describe('mapLimit', () => {
  it('keeps result order and rejects with the first failure', async () => {
    expect(await mapLimit([3, 1, 2], 2, async (n) => (await tick(), n * 2))).toEqual([6, 2, 4]);
    await expect(mapLimit([1, 2, 3], 2, async (n) => {
      if (n === 2) throw new Error('two');
      return n;
    })).rejects.toThrow('two');
  });
});
