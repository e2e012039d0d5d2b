// What a kind of alert rule (threshold, relative, …) tells the rest of the worker. Each kind is one
// file exporting one RuleKind; ./index.ts lists them. The config schema, the evaluation, the
// planner's request count, validate's summary and the notification text all ask the registry, so
// a new kind needs no other file (docs/adding-a-rule.md).
import type * as z from 'zod/mini';
import type { AlertFields, Severity } from '../alert.js';
import type { Notification } from '../notification.js';
import type { QueryShape, TimeRange } from '../query.js';
import type { WindowSpec } from '../time/windows.js';

export type Levels = Partial<Record<Severity, number>>;

/** What one series is compared with at an evaluation. */
export interface SeriesLevels {
  /** absolute USD levels; empty when there is nothing to compare with (no history yet) */
  readonly levels: Levels;
  /** the USD the levels were derived from, if any (relative: the mean of the earlier windows) */
  readonly baseline: number | null;
  /** the lowest of `levels`; Infinity without levels, so that a series with nothing to compare has recovered */
  readonly lowest: number;
}

/** How an alert's series are compared, made once per evaluation of the alert. */
export interface Comparison {
  /** carried on every evaluation and notification of the alert (relative: its factor), else null */
  readonly factor: number | null;
  /**
   * The levels of one series. `history` gives its spend over each of `earlierRanges(…)`, oldest
   * first; it is only worked out when called, which a rule with fixed levels never does.
   */
  levelsOf(history: () => readonly number[]): SeriesLevels;
}

/** A line the notification text shows for this kind, after Spend and Threshold. */
export interface NotificationFact {
  readonly label: string;
  readonly value: number;
  /** how the value reads: `$12.50` or `2.5×` */
  readonly unit: 'usd' | 'factor';
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
  earlierRangeCount(config: Config): number;
  compare(config: Config, alert: AlertFields): Comparison;
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
}

/** `levels` with their lowest, worked out once. */
export function withLowest(levels: Levels, baseline: number | null): SeriesLevels {
  return { levels, baseline, lowest: Math.min(...Object.values(levels)) };
}
