// What the core knows of a configured alert: the fields every alert has, whatever its rule. The
// rule-specific field (threshold:, relative:, …) comes from the rule registry (./rules/index.ts).
// The config schema is checked by the compiler to produce exactly this type.
import type { RuleConfigs } from './rules/index.js';

export const SEVERITIES = ['warning', 'critical'] as const;
export type Severity = (typeof SEVERITIES)[number];

export const GROUP_BY_FIELDS = ['model', 'traceName', 'userId', 'environment', 'release'] as const;
export type GroupByField = (typeof GROUP_BY_FIELDS)[number];

/**
 * `groupBy: metadata.KEY`: Langfuse filters on trace metadata but can't group by it, so such an
 * alert lists its `values` and reads one filtered series per value (see `alertReads` in ./query.ts).
 */
export type MetadataGroupBy = `metadata.${string}`;
/** What an alert's series are split by: a field Langfuse groups by, or a metadata key. */
export type AlertGroupBy = GroupByField | MetadataGroupBy;
export const METADATA_GROUP_PREFIX = 'metadata.';
/** The most `values` a metadata groupBy may list: each is a filter set (a request) of its own. */
export const MAX_METADATA_VALUES = 50;

export function isMetadataGroupBy(groupBy: unknown): groupBy is MetadataGroupBy {
  return typeof groupBy === 'string' && groupBy.startsWith(METADATA_GROUP_PREFIX);
}

/** `agent_type` of `metadata.agent_type` */
export function metadataKey(groupBy: MetadataGroupBy): string {
  return groupBy.slice(METADATA_GROUP_PREFIX.length);
}

export const CALENDAR_WINDOWS = ['day', 'week', 'month'] as const;
export type CalendarWindowName = (typeof CALENDAR_WINDOWS)[number];
export function isCalendarWindow(window: string): window is CalendarWindowName {
  return (CALENDAR_WINDOWS as readonly string[]).includes(window);
}

/** The longest rolling window: its hours are fetched, cached and re-cut at every evaluation. */
export const MAX_ROLLING_DAYS = 90;
/** The longest lookback (window × (earlier windows + 1)) a cold start fetches and the history cache keeps. */
export const MAX_LOOKBACK_DAYS = 730;

/** Days a calendar window counts for in the lookback bound: its longest span (a 31-day month). */
const CALENDAR_DAYS: Readonly<Record<CalendarWindowName, number>> = { day: 1, week: 7, month: 31 };

/** A window's length in days (calendar windows at their longest); undefined for what the schema refuses. */
export function windowDays(window: unknown): number | undefined {
  if (typeof window !== 'string') return undefined;
  if (isCalendarWindow(window)) return CALENDAR_DAYS[window];
  const match = /^([1-9][0-9]*)([hd])$/.exec(window);
  return match ? Number(match[1]) / (match[2] === 'h' ? 24 : 1) : undefined;
}

/** `7 days`, `2.5 days` */
export function formatDays(days: number): string {
  return `${Number.isInteger(days) ? days : days.toFixed(1)} days`;
}

type StringOrList = string | string[];

export interface AlertFilters {
  environment?: StringOrList;
  traceName?: StringOrList;
  model?: StringOrList;
  userId?: StringOrList;
  release?: StringOrList;
  tags?: string[];
  metadata?: Record<string, string>;
}

/** The fields of an alert that don't depend on its rule, defaults applied. */
export interface AlertFields {
  name: string;
  window: string;
  minSpend?: number;
  severity?: Severity;
  sendResolved: boolean;
  resolveBelow: number;
  schedule?: string;
  groupBy?: AlertGroupBy;
  /** groupBy metadata.KEY only (and required there): the metadata values watched, one series each */
  values?: string[];
  top: number;
  /** what a firing notification's top contributors are listed by; undefined: [model, traceName, userId] less groupBy (see core/explain.ts) */
  explain?: GroupByField[];
  filters?: AlertFilters;
  channels: string[];
}

/**
 * An alert as configured. Its rule is exactly one of the registry's keys; the type lets each be
 * absent so that tests can build the cases the evaluator refuses (see `ruleOf`).
 */
export type AlertConfig = AlertFields & RuleConfigs;
