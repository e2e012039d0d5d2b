// What `validate` tells the user about a valid config: what each alert watches, where it goes,
// when it runs, and what that costs in Langfuse requests under the query planner. Pure data plus a
// text rendering; the channel targets never include credentials (hosts and recipients only).
import { quotaLimits, burstAllowance, describeQuota, PLAN_LIMITS } from '../sources/langfuse/quota.js';
import { coldStartCost, type ColdStartCost } from '../sources/langfuse/planner/simulate.js';
import { plannerSettings } from '../config/planner-settings.js';
import { alertShape } from '../core/query.js';
import { explainOf, requestsPerFiringSeries } from '../core/explain.js';
import { digestRanges } from '../core/digest.js';
import { reportRequestBound } from '../sources/langfuse/report-source.js';
import type { GroupByField } from '../core/alert.js';
import { plannedCost, scheduleStretch, type PlannedCost, type Stretch } from '../sources/langfuse/planner/estimate.js';
import { formatUsd } from '../render/money.js';
import { firesPerDay } from '../config/cron.js';
import { describeChannel } from '../channels/registry.js';
import type { AlertConfig, AlertGroupBy, ChannelType, Config } from '../config/schema.js';
import { isCalendarWindow } from '../config/schema.js';
import { rangesPerEvaluation, ruleOf, type RuleKey } from '../core/rules/index.js';

/** Langfuse Cloud's Hobby plan allows this many Metrics API requests a day. */
export const HOBBY_REQUESTS_PER_DAY = PLAN_LIMITS.hobby.perDay!;

export interface AlertSummary {
  readonly name: string;
  readonly window: string;
  readonly windowKind: 'calendar' | 'rolling';
  readonly kind: RuleKey;
  /** e.g. `critical when spend > $50.00` */
  readonly rule: string;
  readonly groupBy?: AlertGroupBy;
  /** groupBy metadata.KEY only: the values watched, each a filter set of its own */
  readonly values?: readonly string[];
  /** groupBy userId only */
  readonly top?: number;
  /** one entry per filter key, e.g. `environment = production` */
  readonly filters: readonly string[];
  readonly channels: readonly string[];
  readonly schedule: string;
  /** true when the alert has its own schedule */
  readonly ownSchedule: boolean;
  readonly evaluationsPerDay: number;
  /** ranges read per evaluation: 1, or 1 + baseline for relative alerts (the planner shares their requests) */
  readonly windowsPerEvaluation: number;
  /** what a firing notification lists its top contributors by ([]: none) */
  readonly explain: readonly GroupByField[];
}

export interface ChannelSummary {
  readonly name: string;
  readonly type: ChannelType;
  /** e.g. `slack (hooks.slack.com)`, `email → finance@example.com via smtp.example.com:587` */
  readonly target: string;
}

export interface ConfigSummary {
  /** origin only, e.g. https://cloud.langfuse.com */
  readonly langfuse: string;
  readonly timezone: string;
  readonly schedule: string;
  readonly alerts: readonly AlertSummary[];
  readonly channels: readonly ChannelSummary[];
  /** Langfuse requests on the busiest day with the history cache warm, all alerts together */
  readonly requestsPerDay: number;
  readonly requests: PlannedCost;
  /** the most requests a firing series costs for its top contributors, over all alerts (0: none) */
  readonly contributorRequests: number;
  /** digests: their reports' own requests on the busiest day (their budgets' alerts read through the planner besides) */
  readonly digests: { readonly count: number; readonly requestsPerDay: number };
  /** `hobby (100 a day)`; null without langfuse.requestBudget */
  readonly budget: string | null;
  /** how the budget stretches the schedule; null when it fits */
  readonly stretch: Stretch | null;
  /** the first evaluations with an empty history cache, at the moment given; null without one */
  readonly coldStart: ColdStart | null;
  readonly warnings: readonly string[];
}

export interface ColdStart extends ColdStartCost {
  /** the most requests one evaluation may send under the budget; Infinity without one */
  readonly allowance: number;
}

/** `now`: when the cold start is worked out for (calendar windows make it depend on the date). */
export function summarizeConfig(config: Config, now?: Date): ConfigSummary {
  // Parsing a cron expression costs far more than the rest of an alert's summary, and thousands
  // of alerts share a handful of schedules: each is parsed once.
  const firesPerDayOf = new Map<string, number>();
  const evaluationsPerDay = (schedule: string): number => {
    let fires = firesPerDayOf.get(schedule);
    if (fires === undefined) firesPerDayOf.set(schedule, (fires = firesPerDay(schedule)));
    return fires;
  };
  const alerts = config.alerts.map((alert) => summarizeAlert(alert, config.schedule, evaluationsPerDay));
  const requests = plannedCost(config.alerts, config.schedule, config.costExporter ? 1 : 0);
  const stretch = scheduleStretch(config.langfuse.requestBudget, config.schedule, requests);
  const budget = config.langfuse.requestBudget === undefined ? null : describeQuota(config.langfuse.requestBudget);
  const allowance = burstAllowance(quotaLimits(config.langfuse.requestBudget));
  const coldStart = now === undefined ? null : { ...coldStartCost(plannerSettings(config), now, allowance), allowance };
  const used = new Set(config.alerts.flatMap((alert) => alert.channels));
  const warnings = [
    ...(budget === null ? cloudWarning(config.langfuse.baseUrl, requests.perDay) : []),
    ...(stretch && budget !== null ? [stretchWarning(budget, requests, stretch)] : []),
    ...(coldStart?.evaluations === null ? [neverWarmWarning(coldStart)] : []),
    ...Object.keys(config.channels)
      .filter((name) => !used.has(name))
      .map((name) => `channel ${name} is not used by any alert`),
  ];
  return {
    langfuse: origin(config.langfuse.baseUrl),
    timezone: config.timezone,
    schedule: config.schedule,
    alerts,
    channels: Object.entries(config.channels).map(([name, channel]) => ({
      name,
      type: channel.type,
      target: describeChannel(channel),
    })),
    requestsPerDay: requests.perDay,
    requests,
    contributorRequests: Math.max(0, ...config.alerts.map(requestsPerFiringSeries)),
    digests: {
      count: config.digests.length,
      requestsPerDay: config.digests.reduce(
        (sum, digest) => sum + evaluationsPerDay(digest.schedule) * reportRequestBound(digestRanges(digest.window, now ?? new Date(), config.timezone)),
        0,
      ),
    },
    budget,
    stretch,
    coldStart,
    warnings,
  };
}

export function isLangfuseCloud(baseUrl: string): boolean {
  try {
    const host = new URL(baseUrl).hostname.toLowerCase();
    return host === 'cloud.langfuse.com' || host.endsWith('.cloud.langfuse.com');
  } catch {
    return false;
  }
}

function cloudWarning(baseUrl: string, requestsPerDay: number): string[] {
  if (!isLangfuseCloud(baseUrl)) return [];
  const estimate =
    requestsPerDay > HOBBY_REQUESTS_PER_DAY
      ? `these alerts need up to ${count(requestsPerDay)}, more than that`
      : `these alerts need up to ${count(requestsPerDay)}`;
  return [
    `${origin(baseUrl)} is Langfuse Cloud, whose Hobby plan allows ${HOBBY_REQUESTS_PER_DAY} Metrics API requests a day; ` +
      `${estimate}. No request budget is applied: set langfuse.requestBudget to your plan (hobby, core or pro) ` +
      `and the worker stays under its limit.`,
  ];
}

function stretchWarning(budget: string, requests: PlannedCost, stretch: Stretch): string {
  return (
    `langfuse.requestBudget ${budget} is too small for these alerts on their schedule: they need up to ` +
    `${count(requests.perDay)} Langfuse requests a day and ${count(requests.busiestHour)} in the busiest hour (with the history cache warm). ` +
    `To stay within it the worker will evaluate about every ${minutes(stretch.stretchedMinutes)} instead of every ` +
    `${minutes(stretch.everyMinutes)} (${stretch.factor.toFixed(1)}× less often, on the schedule's ticks) and log each evaluation it skips; ` +
    `set the budget to your plan or schedule less often`
  );
}

function neverWarmWarning(coldStart: ColdStart): string {
  return (
    `the request budget lets an evaluation send ${count(coldStart.allowance)} request(s), fewer than these alerts need ` +
    `each time: their history never completes and they are never evaluated; raise the budget or split the alerts by schedule`
  );
}

/**
 * `up to 20 requests at the first evaluation; every alert evaluated within 6 evaluations (up to 111
 * requests, at most 20 an evaluation under the budget)`. Upper bounds: spend in every minute.
 */
function describeColdStart(coldStart: ColdStart): string {
  const first = `up to ${count(coldStart.firstEvaluation)} requests at the first evaluation`;
  if (coldStart.allowance === Infinity) return `${first}, all at once (no request budget)`;
  const cap = `at most ${count(coldStart.allowance)} an evaluation under the budget`;
  if (coldStart.evaluations === null) return `${first}; the alerts never complete their history (${cap})`;
  const evaluations = `${count(coldStart.evaluations)} evaluation${coldStart.evaluations === 1 ? '' : 's'}`;
  return `${first}; every alert evaluated within ${evaluations} (up to ${count(coldStart.requests)} requests, ${cap})`;
}

function minutes(value: number): string {
  if (value >= 120) return `${(value / 60).toFixed(1).replace(/\.0$/, '')} hours`;
  return `${Math.round(value)} minutes`;
}

function summarizeAlert(alert: AlertConfig, defaultSchedule: string, firesPerDayOf: (schedule: string) => number): AlertSummary {
  const schedule = alert.schedule ?? defaultSchedule;
  const evaluationsPerDay = firesPerDayOf(schedule);
  const shape = alertShape(alert);
  return {
    name: alert.name,
    window: alert.window,
    windowKind: isCalendarWindow(alert.window) ? 'calendar' : 'rolling',
    kind: ruleOf(alert).kind.key,
    rule: describeRule(alert),
    ...(alert.groupBy && { groupBy: alert.groupBy }),
    ...(alert.values && { values: alert.values }),
    ...(shape.kind === 'topN' && { top: shape.n }),
    filters: describeFilters(alert),
    channels: alert.channels,
    schedule,
    ownSchedule: alert.schedule !== undefined,
    evaluationsPerDay,
    windowsPerEvaluation: rangesPerEvaluation(alert),
    explain: explainOf(alert),
  };
}

function describeRule(alert: AlertConfig): string {
  const { kind, config } = ruleOf(alert);
  let rule = kind.describe(config, alert, formatUsd);
  if (alert.minSpend !== undefined) rule += `; silent below ${formatUsd(alert.minSpend)}`;
  const shape = alertShape(alert);
  // (an unpriced alert's description already says what it reads)
  if (shape.kind === 'topN' && !shape.tokens) rule += shape.by === 'traceId' ? `; checks the top ${shape.n} traces` : `; per ${shape.by}, top ${shape.n}`;
  else if (shape.kind === 'groups') rule += `; per ${shape.by}`;
  else if (alert.groupBy !== undefined && alert.values !== undefined) {
    const sets = alert.values.length === 1 ? 'one filter set' : `${alert.values.length} filter sets`;
    rule += `; per ${alert.groupBy}: ${alert.values.join(', ')} (${sets})`;
  }
  return rule;
}

function describeFilters(alert: AlertConfig): string[] {
  const filters = alert.filters ?? {};
  return Object.entries(filters).flatMap(([key, value]): string[] => {
    if (value === undefined) return [];
    if (key === 'metadata') {
      return Object.entries(value as Record<string, string>).map(([name, text]) => `metadata ${name} = ${text}`);
    }
    if (key === 'tags') return [`tags any of ${(value as string[]).join(', ')}`];
    return [Array.isArray(value) ? `${key} in ${value.join(', ')}` : `${key} = ${String(value)}`];
  });
}

function origin(url: string): string {
  try {
    return new URL(url).origin;
  } catch {
    return url === '' ? '(not set)' : '(invalid URL)';
  }
}

let countFormat: Intl.NumberFormat | undefined;

/** `1,234`: one format for every number of a summary (toLocaleString builds one per call). */
function count(n: number): string {
  return (countFormat ??= new Intl.NumberFormat('en-US')).format(n);
}

export function formatSummary(summary: ConfigSummary): string {
  const lines: string[] = [
    `Langfuse: ${summary.langfuse}`,
    `Time zone: ${summary.timezone}; schedule: ${summary.schedule}`,
    '',
    `Alerts (${summary.alerts.length}):`,
  ];
  for (const alert of summary.alerts) {
    lines.push(`  ${alert.name}: ${alert.window} (${alert.windowKind}), ${alert.rule}`);
    if (alert.filters.length > 0) lines.push(`    filters: ${alert.filters.join('; ')}`);
    if (alert.explain.length > 0) lines.push(`    explains: ${alert.explain.join(', ')}`);
    lines.push(`    channels: ${alert.channels.join(', ')}`);
    const schedule = alert.ownSchedule ? `${alert.schedule} (its own)` : alert.schedule;
    lines.push(`    schedule: ${schedule}, ${count(alert.evaluationsPerDay)} evaluations a day`);
  }
  lines.push('', `Channels (${summary.channels.length}):`);
  const width = Math.max(0, ...summary.channels.map((channel) => channel.name.length));
  for (const channel of summary.channels) lines.push(`  ${channel.name.padEnd(width)}  ${channel.target}`);
  const { requests } = summary;
  const shared = [
    `${requests.filterSets} filter ${requests.filterSets === 1 ? 'set' : 'sets'}`,
    ...(requests.topN > 0 ? [`${requests.topN} top-N userId ${requests.topN === 1 ? 'query' : 'queries'}`] : []),
    ...(requests.topTraces > 0 ? [`${requests.topTraces} top-N trace ${requests.topTraces === 1 ? 'query' : 'queries'} (perTrace)`] : []),
    ...(requests.topModels > 0 ? [`${requests.topModels} ${requests.topModels === 1 ? 'query' : 'queries'} of models and tokens (unpriced)`] : []),
  ].join(', ');
  lines.push(
    '',
    `Langfuse requests (history cache warm): up to ${count(requests.perEvaluation)} per evaluation (${shared}), ` +
      `up to ${count(requests.perDay)} a day (busiest day)`,
    ...(requests.metadataFilterSets > 0
      ? [
          `  metadata values (groupBy metadata.<key>, a filter set each): ${count(requests.metadataFilterSets)} of those filter sets, ` +
            `up to ${count(requests.metadataPerDay)} of those requests a day`,
        ]
      : []),
    ...(summary.contributorRequests > 0
      ? [
          `  top contributors (explain): nothing unless a series fires, then up to ${summary.contributorRequests} per firing series ` +
            '(userId: its top-N and an hourly series per listed user); model, traceName, environment and release ride along the requests above',
        ]
      : []),
    ...(requests.exporterPerDay > 0
      ? [`  cost exporter (costExporter): 1 request per evaluation (in the figures above), ${count(requests.exporterPerDay)} a day`]
      : []),
    ...(summary.digests.count > 0
      ? [
          `  digests: up to ${count(summary.digests.requestsPerDay)} requests a day for their reports ` +
            `(${summary.digests.count} digest${summary.digests.count === 1 ? '' : 's'}, on the busiest day), plus their budgets' alerts through the planner`,
        ]
      : []),
    `  one request per alert window would be ${count(requests.unplannedPerDay)} a day; ` +
      `the first evaluations after a start with an empty cache also fetch the history`,
    ...(summary.coldStart
      ? [
          `Langfuse requests (cold start, empty history cache): ${describeColdStart(summary.coldStart)}` +
            // the exporter's cold read is still one request: from the start of the month (or week)
            (requests.exporterPerDay > 0 ? `; plus the cost exporter's 1 request at each evaluation` : ''),
        ]
      : []),
    `Request budget: ${summary.budget ?? 'none'}`,
  );
  if (summary.warnings.length > 0) {
    lines.push('', 'Warnings:');
    for (const warning of summary.warnings) lines.push(`  - ${warning}`);
  }
  return lines.join('\n');
}
