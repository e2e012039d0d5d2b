// The scheduler's queue: one batch at a time, what falls due meanwhile merged into the next one.
import { afterEach, describe, expect, test } from 'vitest';
import type { Logger } from '../../src/log/logger.js';
import { Scheduler } from '../../src/daemon/scheduler.js';

const quiet: Logger = { debug: () => {}, info: () => {}, warn: () => {}, error: () => {} };

interface Gate {
  readonly batches: string[][];
  /** batches running at once, at most */
  readonly maxConcurrent: () => number;
  /** lets the oldest waiting batch finish */
  release(): void;
  /** resolves when `count` batches have started */
  started(count: number): Promise<void>;
}

function gate(): Gate & { run: (alerts: readonly string[]) => Promise<void> } {
  const batches: string[][] = [];
  const releases: Array<() => void> = [];
  const waiters: Array<{ count: number; resolve: () => void }> = [];
  let running = 0;
  let max = 0;
  return {
    batches,
    maxConcurrent: () => max,
    release: () => releases.shift()?.(),
    started: (count) =>
      batches.length >= count ? Promise.resolve() : new Promise((resolve) => waiters.push({ count, resolve })),
    run: async (alerts) => {
      batches.push([...alerts].sort());
      running += 1;
      max = Math.max(max, running);
      for (const waiter of waiters.filter((w) => batches.length >= w.count)) {
        waiters.splice(waiters.indexOf(waiter), 1);
        waiter.resolve();
      }
      await new Promise<void>((resolve) => releases.push(resolve));
      running -= 1;
    },
  };
}

let scheduler: Scheduler | undefined;
afterEach(() => scheduler?.stop());

describe('Scheduler', () => {
  test('evaluates every alert at start, and queues what falls due meanwhile into one batch', async () => {
    const g = gate();
    scheduler = new Scheduler({ run: g.run, log: quiet });
    scheduler.setSchedule(
      [
        { name: 'a', schedule: '0 0 1 1 *' },
        { name: 'b', schedule: '0 0 1 1 *' },
        { name: 'c', schedule: '0 0 2 1 *' },
      ],
      'UTC',
    );
    scheduler.start();
    await g.started(1);
    scheduler.enqueue(['a']);
    scheduler.enqueue(['c']);
    scheduler.enqueue(['a']);
    g.release();
    await g.started(2);
    scheduler.enqueue(['b']);
    g.release();
    await g.started(3);
    g.release();
    await scheduler.idle();
    expect(g.batches).toEqual([['a', 'b', 'c'], ['a', 'c'], ['b']]);
    expect(g.maxConcurrent()).toBe(1);
  });

  test('stop drops what is queued; the batch in flight finishes', async () => {
    const g = gate();
    scheduler = new Scheduler({ run: g.run, log: quiet });
    scheduler.setSchedule([{ name: 'a', schedule: '0 0 1 1 *' }], 'UTC');
    scheduler.start();
    await g.started(1);
    scheduler.enqueue(['a']);
    scheduler.stop();
    expect(scheduler.busy).toBe(true);
    g.release();
    await scheduler.idle();
    scheduler.enqueue(['a']);
    expect(g.batches).toEqual([['a']]);
    expect(scheduler.busy).toBe(false);
  });

  test('a new schedule forgets queued alerts that no longer exist', async () => {
    const g = gate();
    scheduler = new Scheduler({ run: g.run, log: quiet });
    scheduler.setSchedule([{ name: 'a', schedule: '0 0 1 1 *' }, { name: 'b', schedule: '0 0 1 1 *' }], 'UTC');
    scheduler.start();
    await g.started(1);
    scheduler.enqueue(['a', 'b']);
    scheduler.setSchedule([{ name: 'b', schedule: '*/5 * * * *' }], 'UTC');
    g.release();
    await g.started(2);
    g.release();
    await scheduler.idle();
    expect(g.batches).toEqual([['a', 'b'], ['b']]);
  });

  test('longestQuietMs is the longest gap of the most frequent schedule', () => {
    scheduler = new Scheduler({ run: async () => {}, log: quiet });
    scheduler.setSchedule([{ name: 'weekdays', schedule: '0 9 * * 1-5' }], 'UTC');
    // Friday 09:00 to Monday 09:00
    expect(scheduler.longestQuietMs()).toBe(72 * 3_600_000);
    scheduler.setSchedule(
      [
        { name: 'weekdays', schedule: '0 9 * * 1-5' },
        { name: 'often', schedule: '*/15 * * * *' },
      ],
      'UTC',
    );
    expect(scheduler.longestQuietMs()).toBe(15 * 60_000);
  });
});
