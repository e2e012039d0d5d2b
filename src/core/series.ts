// The result of evaluating one series (an alert, or an alert and one groupBy value) at `now`.
// Pure data: the notification planner turns it, together with state, into notifications.
import type { AlertGroupBy, Severity } from './alert.js';
import type { RankedField, TokenUsage } from './query.js';
import type { RuleKey } from './rules/index.js';
import type { Contributor, MissingContributors, NotificationWindow } from './notification.js';
import type { BudgetStep, Projection } from './rules/rule.js';

export interface SeriesEvaluation {
  readonly alert: string;
  readonly kind: RuleKey;
  /** `undefined` when the alert has no groupBy; `traceId` for a rule whose series are single traces */
  readonly groupBy?: AlertGroupBy | RankedField;
  /** the group's value; null is the group Langfuse reports as null */
  readonly groupValue: string | null;
  /** stable key of the series within its alert: '' without groupBy, else e.g. 'model=gpt-4o', 'metadata.agent_type=auditor' */
  readonly seriesKey: string;
  /** a top-N with labels (perTrace): the series' trace name and user, as Langfuse reported them */
  readonly labels?: Readonly<Record<string, string | null>>;
  /** a rule whose shape reads tokens (unpriced): the series' tokens in the window */
  readonly tokens?: TokenUsage;
  /** USD spent in the window up to now */
  readonly value: number;
  /** the highest level crossed now (after minSpend), or null */
  readonly breach: Severity | null;
  /** absolute USD levels (relative: factor × baseline); empty when there is no history yet */
  readonly levels: Readonly<Partial<Record<Severity, number>>>;
  /** relative alerts: the mean of the baseline windows, null without history */
  readonly baseline: number | null;
  readonly factor: number | null;
  readonly window: NotificationWindow;
  /** calendar windows: start of the period the window is in; null for rolling windows */
  readonly periodStart: Date | null;
  /** rolling windows: spend fell below resolveBelow × the lowest level (or there is nothing to compare) */
  readonly recovered: boolean;
  /** threshold { budget, steps }: the alert's steps, lowest first (one array shared by its series) */
  readonly steps?: readonly BudgetStep[];
  /** the highest step crossed now (after minSpend): the breach's dedup level is `severity@percent` */
  readonly step?: BudgetStep;
  /** forecast alerts: the projection, when there was one to make */
  readonly projection?: Projection;
  /** a series that fires now: its top contributors (core/explain.ts), worked out after it was evaluated */
  readonly contributors?: readonly Contributor[];
  /** and the explain dimensions that couldn't be read in time, with why */
  readonly contributorsMissing?: readonly MissingContributors[];
}
