// What a kind of alert rule (threshold, relative, …) tells the rest of the worker. Each kind is one
// file exporting one RuleKind; ./index.ts lists them. The config schema, the evaluation, the
// planner's request count, validate's summary and the notification text all ask the registry, so
// a new kind needs no other file (docs/adding-a-rule.md).
import type * as z from 'zod/mini';
import type { AlertFields, Severity } from '../alert.js';
import type { Notification } from '../notification.js';
import type { QueryShape, TimeRange, TokenUsage } from '../query.js';
import type { SeriesEvaluation } from '../series.js';
import type { WindowSpec } from '../time/windows.js';

export type Levels = Partial<Record<Severity, number>>;

/** One budget step (threshold { budget, steps }): its own dedup level, `warning@80`. */
export interface BudgetStep {
  /** percent of the budget */
  readonly percent: number;
  /** USD: budget × percent ÷ 100 */
  readonly amount: number;
  /** under 100 % warning, from 100 % critical */
  readonly severity: Severity;
}

/** What one series is compared with at an evaluation. */
export interface SeriesLevels {
  /** absolute USD levels; empty when there is nothing to compare with (no history yet) */
  readonly levels: Levels;
  /** the USD the levels were derived from, if any (relative: the mean of the earlier windows) */
  readonly baseline: number | null;
  /** the lowest of `levels`; Infinity without levels, so that a series with nothing to compare has recovered */
  readonly lowest: number;
  /** budget steps, lowest first: each is notified once per period; `levels` then holds each severity's lowest step */
  readonly steps?: readonly BudgetStep[];
  /** forecast alerts once past minElapsed: the projection the levels were derived from (it goes into the notification) */
  readonly projection?: Projection;
  /**
   * A rule that fires on something other than spend over a level (unpriced: tokens without cost)
   * says here whether the series breaches; its `levels` stay empty, and minSpend doesn't apply.
   */
  readonly breach?: Severity | null;
}

/** A forecast: the window's projected total, from the spend so far and the share usually spent by now. */
export interface Projection {
  /** USD: the projected spend over the whole window */
  readonly forecast: number;
  /** 0 < share ≤ 1: the part of a window's spend usually spent by now */
  readonly share: number;
  /** USD: the budget the projection is compared with */
  readonly threshold: number;
  /** ISO 8601 UTC, rounded up to the minute: when the projected path exceeds the budget; null when spend already has (and for a series that doesn't fire) */
  readonly crossesAt: string | null;
}

/** When and where an alert is evaluated. */
export interface RuleContext {
  readonly now: Date;
  readonly timezone: string;
}

/** How an alert's series are compared, made once per evaluation of the alert. */
export interface Comparison {
  /** carried on every evaluation and notification of the alert (relative: its factor), else null */
  readonly factor: number | null;
  /**
   * The levels of one series. `history` gives its spend over each of `earlierRanges(…)`, oldest
   * first; it is only worked out when called, which a rule with fixed levels never does. `value`:
   * the series' spend in the window (a forecast projects it); `series`: its group value, and its
   * tokens when the rule's shape reads them.
   */
  levelsOf(history: () => readonly number[], value?: number, series?: SeriesRead): SeriesLevels;
}

/** What was read of one series besides its spend. */
export interface SeriesRead {
  /** null: the group Langfuse reports as null (no model) */
  readonly groupValue: string | null;
  readonly tokens?: TokenUsage;
}

/** A line the notification text shows for this kind, after Spend and Threshold. */
export interface NotificationFact {
  readonly label: string;
  readonly value: number;
  /** how the value reads: `$12.50`, `2.5×`, `41%`, `12,345` (a count), or (an instant, epoch ms) `19:40 Europe/Berlin` in the notification's zone */
  readonly unit: 'usd' | 'factor' | 'percent' | 'instant' | 'count';
  /** words before the value; `{threshold}` reads as the notification's threshold in USD */
  readonly lead?: string;
  /** words after the value */
  readonly tail?: string;
}

/** A problem in a rule's configuration that the schema can't express; `path` is below the alert. */
export interface RuleFinding {
  readonly level: 'error' | 'warning';
  readonly path: readonly (string | number)[];
  readonly message: string;
}

/** Reads the alert as written (interpolated, not yet validated), so it runs whatever else is wrong. */
export type RuleCheck = (alert: Readonly<Record<string, unknown>>) => RuleFinding[];

export interface RuleKind<Key extends string = string, Config = unknown> {
  /** the alert's key in alerts.yaml, and the `kind` of its evaluations and notifications */
  readonly key: Key;
  /** the value under `key` */
  readonly schema: z.ZodMiniType<Config>;
  /** a valid value under `key`, as a user would write it (docs, tests) */
  readonly example: Config;
  /**
   * What the rule reads from Langfuse at `now` besides the alert's current window: earlier ranges
   * to compare with, oldest first.
   */
  earlierRanges(config: Config, window: WindowSpec, now: Date, timezone: string): TimeRange[];
  /** how many ranges `earlierRanges` returns, known without a clock: validate and the request estimate count them */
  earlierRangeCount(config: Config, window?: string): number;
  compare(config: Config, alert: AlertFields, context?: RuleContext): Comparison;
  /** validate's summary of the rule, e.g. `critical when spend > $50.00` */
  describe(config: Config, alert: AlertFields, formatUsd: (usd: number) => string): string;
  /** the lines a notification of this kind adds to the common ones (spend, threshold, window) */
  notificationFacts(notification: Notification): NotificationFact[];
  /** checks of `alert[key]` and its neighbours beyond the schema; run when the key is present */
  readonly checks: readonly RuleCheck[];
  /**
   * The rule reads its own shape of query instead of the one `groupBy` gives (perTrace: the top
   * traces); a top-N shape makes each ranked value a series of its own.
   */
  shape?(config: Config): QueryShape;
  /**
   * `once`: each series notifies once (per period on calendar windows) and never resolves; on
   * rolling windows a notified series is forgotten two window lengths after it was last read
   * (once it has been out of the window for one window length). Default: the usual lifecycle.
   */
  readonly lifecycle?: 'once';
  /**
   * What a firing notification's top contributors are compared with (core/explain.ts): `earlier`,
   * the mean over the rule's own earlier ranges (relative); `previous` (the default), the previous
   * window measured to the same point; `none`: the kind lists no contributors (perTrace names its trace).
   */
  readonly contributorBaseline?: 'earlier' | 'previous' | 'none';
  /** a firing notification's `message`: what to do about it (unpriced: add the model's price) */
  notificationMessage?(evaluation: SeriesEvaluation): string;
}

/** `levels` with their lowest, worked out once. */
export function withLowest(levels: Levels, baseline: number | null): SeriesLevels {
  return { levels, baseline, lowest: Math.min(...Object.values(levels)) };
}
