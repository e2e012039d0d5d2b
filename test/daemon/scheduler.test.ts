// The scheduler's queue: one batch at a time, what falls due meanwhile merged into the next one.
import { afterEach, describe, expect, test } from 'vitest';
import type { Logger } from '../../src/log/logger.js';
import { latestRun, nodeCron, Scheduler, type CronTask, type StartCron } from '../../src/daemon/scheduler.js';

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
    scheduler = new Scheduler({ run: g.run, log: quiet, clock: () => new Date() });
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
    scheduler = new Scheduler({ run: g.run, log: quiet, clock: () => new Date() });
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
    scheduler = new Scheduler({ run: g.run, log: quiet, clock: () => new Date() });
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
    scheduler = new Scheduler({ run: async () => {}, log: quiet, clock: () => new Date() });
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

  test('driven by a fake cron and clock: the tasks due at a moment make one batch, evaluated as of that moment, once', async () => {
    const cron = fakeCron({
      // a and b fire every 5 minutes, c every 15: at :15 both tasks fire for the same moment
      '*/5 * * * *': ['2026-11-24T15:05:00Z', '2026-11-24T15:10:00Z', '2026-11-24T15:15:00Z'],
      '*/15 * * * *': ['2026-11-24T15:15:00Z', '2026-11-24T15:30:00Z'],
    });
    const batches: Array<{ alerts: string[]; at: string }> = [];
    scheduler = new Scheduler({
      run: async (alerts, at) => void batches.push({ alerts: [...alerts].sort(), at: at.toISOString() }),
      log: quiet,
      clock: cron.clock,
      startCron: cron.startCron,
    });
    scheduler.setSchedule(
      [
        { name: 'a', schedule: '*/5 * * * *' },
        { name: 'b', schedule: '*/5 * * * *' },
        { name: 'c', schedule: '*/15 * * * *' },
      ],
      'UTC',
    );
    expect(scheduler.nextRuns().map((r) => [r.schedule, r.next?.toISOString()])).toEqual([
      ['*/5 * * * *', '2026-11-24T15:05:00.000Z'],
      ['*/15 * * * *', '2026-11-24T15:15:00.000Z'],
    ]);
    expect(cron.started()).toBe(0);
    scheduler.start();
    expect(cron.started()).toBe(2);
    await scheduler.idle();
    await cron.advanceTo('2026-11-24T15:05:00.250Z', scheduler);
    await cron.advanceTo('2026-11-24T15:15:00.900Z', scheduler);
    expect(batches).toEqual([
      { alerts: ['a', 'b', 'c'], at: '2026-11-24T15:00:00.000Z' },
      { alerts: ['a', 'b'], at: '2026-11-24T15:05:00.000Z' },
      { alerts: ['a', 'b'], at: '2026-11-24T15:10:00.000Z' },
      { alerts: ['a', 'b', 'c'], at: '2026-11-24T15:15:00.000Z' },
    ]);
    scheduler.stop();
    expect(cron.started()).toBe(0);
  });
});

describe('latestRun', () => {
  test('finds the latest time a schedule fired at or before now and after the last one sent, in its zone, within 32 days', () => {
    const mondays = nodeCron('0 9 * * 1', 'Europe/Berlin', () => {}, quiet);
    const yearly = nodeCron('0 0 1 1 *', 'UTC', () => {}, quiet);
    try {
      const now = new Date('2026-12-02T10:00:00.000Z');
      // Monday 2026-11-30 09:00 in Berlin
      expect(latestRun(mondays, now, new Date('2026-11-01T00:00:00.000Z'))?.toISOString()).toBe('2026-11-30T08:00:00.000Z');
      expect(latestRun(mondays, now, new Date('2026-11-30T08:00:00.000Z'))).toBeNull();
      expect(latestRun(mondays, new Date('2026-11-30T08:00:00.000Z'), new Date('2026-11-23T08:00:00.000Z'))?.toISOString()).toBe('2026-11-30T08:00:00.000Z');
      // a yearly schedule last fired months ago: older than the look-back, not caught up
      expect(latestRun(yearly, now, new Date('2025-01-01T00:00:00.000Z'))).toBeNull();
    } finally {
      mondays.destroy();
      yearly.destroy();
    }
  });
});

/**
 * A cron whose calendar is a list of moments per expression, and a clock that stands still until
 * advanceTo moves it: each moment passed fires the tasks due then, and waits for their batch.
 */
function fakeCron(calendar: Record<string, string[]>) {
  let now = new Date('2026-11-24T15:00:00.000Z');
  const tasks: Array<{ expression: string; onTick: (moment: Date) => void; running: boolean }> = [];
  const momentsOf = (expression: string) => (calendar[expression] ?? []).map((m) => new Date(m));
  const startCron: StartCron = (expression, _timezone, onTick): CronTask => {
    const task = { expression, onTick, running: false };
    tasks.push(task);
    return {
      start: () => void (task.running = true),
      destroy: () => void (task.running = false),
      nextRuns: (count) => momentsOf(expression).filter((m) => m > now).slice(0, count),
      match: (moment) => momentsOf(expression).some((m) => m.getTime() === moment.getTime()),
    };
  };
  return {
    startCron,
    clock: () => now,
    started: () => tasks.filter((t) => t.running).length,
    async advanceTo(iso: string, scheduler: Scheduler) {
      const until = new Date(iso);
      const due = [...new Set(tasks.flatMap((t) => momentsOf(t.expression)).map((m) => m.getTime()))].filter((m) => m > now.getTime() && m <= until.getTime()).sort();
      for (const moment of due) {
        // the tick arrives a little after its moment, as real timers do
        now = new Date(moment + 120);
        for (const task of tasks) if (task.running && momentsOf(task.expression).some((m) => m.getTime() === moment)) task.onTick(new Date(moment));
        await scheduler.idle();
      }
      now = until;
    },
  };
}
