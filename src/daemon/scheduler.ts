// When to evaluate what. One cron task per distinct schedule, in the configured time zone;
// the alerts due at one moment — whichever tasks fire for it — become one batch, so they are
// evaluated together. Batches never overlap: what falls due during an evaluation waits, merged
// with whatever else falls due meanwhile, and runs right after it. The cron tasks are started
// through an injectable StartCron (node-cron's by default), so a test fires the ticks itself.
import { createTask } from 'node-cron';
import type { Logger } from '../log/logger.js';

export interface ScheduledAlert {
  readonly name: string;
  /** the alert's cron expression (its own, or the top-level one) */
  readonly schedule: string;
}

/** Evaluates the named alerts as of `now`; must not reject (failures are the callee's to report). */
export type RunBatch = (alerts: readonly string[], now: Date) => Promise<void>;

/** One cron expression's ticks: started, stopped for good, and its calendar. */
export interface CronTask {
  start(): void;
  destroy(): void;
  /** the next `count` moments it fires at */
  nextRuns(count: number): Date[];
  /** whether it fires at `moment` */
  match(moment: Date): boolean;
}

/** Creates (not yet started) the task that calls `onTick` with each moment `expression` names in `timezone`. */
export type StartCron = (expression: string, timezone: string, onTick: (moment: Date) => void, log: Logger) => CronTask;

/** node-cron's timers, which read the system clock. */
export const nodeCron: StartCron = (expression, timezone, onTick, log) => {
  const task = createTask(expression, (context) => onTick(context.date), { timezone, logger: cronLogger(log) });
  return {
    start: () => void task.start(),
    destroy: () => void task.destroy(),
    nextRuns: (count) => task.getNextRuns(count),
    match: (moment) => task.match(moment),
  };
};

export interface SchedulerOptions {
  readonly run: RunBatch;
  readonly log: Logger;
  /** the wall clock: the moment a batch is evaluated for */
  readonly clock: () => Date;
  /** default node-cron's */
  readonly startCron?: StartCron;
}

interface Task {
  readonly expression: string;
  readonly alerts: readonly string[];
  readonly task: CronTask;
}

/** How many upcoming runs are looked at to find a schedule's longest gap (weekends, month ends). */
const LOOKAHEAD_RUNS = 12;

export class Scheduler {
  private tasks: Task[] = [];
  private readonly pending = new Set<string>();
  private draining: Promise<void> | null = null;
  /** the latest tick moment handled: a second task firing for the same moment adds nothing */
  private lastTick = Number.NEGATIVE_INFINITY;
  private state: 'new' | 'started' | 'stopped' = 'new';
  constructor(private readonly options: SchedulerOptions) {}

  /** Replaces the schedule; what is already queued stays queued if the alert still exists. */
  setSchedule(alerts: readonly ScheduledAlert[], timezone: string): void {
    this.destroyTasks();
    const byExpression = new Map<string, string[]>();
    for (const alert of alerts) {
      const names = byExpression.get(alert.schedule);
      if (names) names.push(alert.name);
      else byExpression.set(alert.schedule, [alert.name]);
    }
    const startCron = this.options.startCron ?? nodeCron;
    this.tasks = [...byExpression].map(([expression, names]) => ({
      expression,
      alerts: names,
      task: startCron(expression, timezone, (moment) => this.tick(moment), this.options.log),
    }));
    const known = new Set(alerts.map((alert) => alert.name));
    for (const name of this.pending) if (!known.has(name)) this.pending.delete(name);
    if (this.state === 'started') for (const { task } of this.tasks) task.start();
  }

  /** Starts the ticks and evaluates every alert now, as the first evaluation. */
  start(): void {
    if (this.state !== 'new') return;
    this.state = 'started';
    for (const { task } of this.tasks) task.start();
    this.enqueue(this.tasks.flatMap((t) => t.alerts));
  }

  /** Queues alerts for evaluation as soon as nothing else runs. */
  enqueue(alerts: readonly string[]): void {
    if (this.state === 'stopped') return;
    for (const name of alerts) this.pending.add(name);
    this.kick();
  }

  private kick(): void {
    if (this.draining !== null || this.pending.size === 0 || this.state === 'stopped') return;
    this.draining = this.drain().finally(() => {
      this.draining = null;
      // something queued between the last batch and this callback
      this.kick();
    });
  }

  /** No more ticks, nothing more queued; the batch in flight (see idle) goes on. */
  stop(): void {
    this.state = 'stopped';
    this.pending.clear();
    this.destroyTasks();
  }

  /** Resolves when no batch runs. */
  idle(): Promise<void> {
    return this.draining ?? Promise.resolve();
  }

  get busy(): boolean {
    return this.draining !== null;
  }

  /** When each schedule fires next, for the start-up log line. */
  nextRuns(): Array<{ schedule: string; alerts: readonly string[]; next: Date | null }> {
    return this.tasks.map(({ expression, alerts, task }) => ({ schedule: expression, alerts, next: task.nextRuns(1)[0] ?? null }));
  }

  /**
   * The longest gap between two runs of the most frequent schedule, in ms: how long a healthy
   * daemon can go without an evaluation. null without schedules.
   */
  longestQuietMs(): number | null {
    let shortest: number | null = null;
    for (const { task } of this.tasks) {
      const runs = task.nextRuns(LOOKAHEAD_RUNS).map((date) => date.getTime());
      let longest = 0;
      for (let i = 1; i < runs.length; i++) longest = Math.max(longest, runs[i]! - runs[i - 1]!);
      if (longest > 0 && (shortest === null || longest < shortest)) shortest = longest;
    }
    return shortest;
  }

  private tick(moment: Date): void {
    const at = moment.getTime();
    if (at <= this.lastTick) return;
    this.lastTick = at;
    this.enqueue(this.tasks.filter(({ task }) => task.match(moment)).flatMap((t) => t.alerts));
  }

  private async drain(): Promise<void> {
    while (this.pending.size > 0 && this.state !== 'stopped') {
      const batch = [...this.pending];
      this.pending.clear();
      // On the whole second, as the tick that queued it: the history cache cuts windows at the
      // schedule's moments, and stray milliseconds would cost extra Langfuse requests.
      await this.options.run(batch, new Date(Math.floor(this.options.clock().getTime() / 1000) * 1000));
    }
  }

  private destroyTasks(): void {
    for (const { task } of this.tasks) task.destroy();
    this.tasks = [];
  }
}

/** The longest a scheduled time missed during downtime is looked for: longer than any month. */
export const CATCH_UP_MS = 32 * 24 * 3_600_000;

/**
 * The latest moment at or before `now`, and after `after`, that `task` fires at (at most
 * CATCH_UP_MS back), or null. Looked for minute by minute with the task's own calendar, so a
 * schedule with seconds is found on its minutes only.
 */
export function latestRun(task: CronTask, now: Date, after: Date): Date | null {
  const earliest = Math.max(after.getTime() + 1, now.getTime() - CATCH_UP_MS);
  for (let at = Math.floor(now.getTime() / 60_000) * 60_000; at >= earliest; at -= 60_000) {
    if (task.match(new Date(at))) return new Date(at);
  }
  return null;
}

/** node-cron's own messages (a tick missed while the event loop was blocked) into our log. */
function cronLogger(log: Logger): { info(m: string): void; warn(m: string): void; error(m: string | Error): void; debug(m: string | Error): void } {
  const text = (message: string | Error): string => (message instanceof Error ? message.message : message);
  return {
    info: (message) => log.debug({ component: 'node-cron' }, text(message)),
    debug: (message) => log.debug({ component: 'node-cron' }, text(message)),
    warn: (message) => log.warn({ component: 'node-cron' }, text(message)),
    error: (message) => log.error({ component: 'node-cron' }, text(message)),
  };
}
