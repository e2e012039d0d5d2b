// What a configuration costs in Langfuse requests under the planner, worked out from the schedules
// alone (no network, no clock): with the history cache warm, an evaluation sends one request per
// filter set among the alerts due, plus one per distinct top-N query (`groupBy: userId`, and
// `perTrace`: the top traces, never cached). A `groupBy: metadata.KEY` alert reads one filter set
// per listed value (`alertReads`).
// The alerts due at one moment are evaluated together (the daemon batches them), so they share.
import { validateDetailed } from 'node-cron';
import type { AlertConfig, RequestBudgetSetting } from '../../../config/schema.js';
import { rangesPerEvaluation } from '../../../core/rules/index.js';
import { alertReads, alertShape, type AlertRead } from '../../../core/query.js';
import { isMetadataGroupBy } from '../../../core/alert.js';
import { quotaLimits } from '../quota.js';
import { filterKey } from './keys.js';

export interface PlannedCost {
  /** the busiest evaluation */
  readonly perEvaluation: number;
  /** the busiest day (schedules restricted to some weekdays or dates count as if they fired) */
  readonly perDay: number;
  /** the busiest clock hour of that day */
  readonly busiestHour: number;
  /** evaluations on that day: distinct moments at which some alert is due */
  readonly evaluationsPerDay: number;
  /** distinct filter sets, and distinct top-N queries (one request each): of users, of traces (perTrace), of models with their tokens (unpriced) */
  readonly filterSets: number;
  readonly topN: number;
  /** of `filterSets`, those only metadata groups' values read (one per value), and their requests on the busiest day */
  readonly metadataFilterSets: number;
  readonly metadataPerDay: number;
  readonly topTraces: number;
  readonly topModels: number;
  /** one request per alert window at every evaluation, as without the planner */
  readonly unplannedPerDay: number;
  /** of `perDay`, the requests of the cost exporter (`costExporter`): one at every evaluation */
  readonly exporterPerDay: number;
}

/**
 * `schedule`: the top-level schedule, for the alerts without their own; `exporterRequests`: what
 * every evaluation sends besides the alerts' (the cost exporter's one request, or none).
 */
export function plannedCost(alerts: readonly AlertConfig[], schedule: string, exporterRequests = 0): PlannedCost {
  // Linear in the alerts: each alert's request key is worked out once, and each schedule's ticks
  // once, however many alerts share them (10,000 alerts on one schedule are common).
  const byTick = new Map<number, Set<string>>();
  const ticksOf = new Map<string, readonly number[]>();
  const filterSets = new Set<string>();
  const topN = new Set<string>();
  const topTraces = new Set<string>();
  const topModels = new Set<string>();
  const metadataValueSets = new Set<string>();
  const otherSets = new Set<string>();
  let unplannedPerDay = 0;
  for (const alert of alerts) {
    const due = alert.schedule ?? schedule;
    let ticks = ticksOf.get(due);
    if (ticks === undefined) ticksOf.set(due, (ticks = dailyTicks(due)));
    const reads = alertReads(alert);
    unplannedPerDay += ticks.length * rangesPerEvaluation(alert) * reads.length;
    const keys = reads.map((read) => requestKey(read, alert));
    for (const [index, read] of reads.entries()) {
      if (read.shape.kind === 'topN') (read.shape.by === 'traceId' ? topTraces : read.shape.tokens ? topModels : topN).add(keys[index]!);
      else filterSets.add(keys[index]!);
      (isMetadataGroupBy(alert.groupBy) ? metadataValueSets : otherSets).add(keys[index]!);
    }
    for (const tick of ticks) {
      let keysDue = byTick.get(tick);
      if (keysDue === undefined) byTick.set(tick, (keysDue = new Set()));
      for (const key of keys) keysDue.add(key);
    }
  }
  // a metadata value another alert filters on anyway costs nothing more
  for (const key of otherSets) metadataValueSets.delete(key);
  let perEvaluation = 0;
  let perDay = 0;
  let metadataPerDay = 0;
  const perHour = new Map<number, number>();
  for (const [tick, keys] of byTick) {
    // one request per distinct filter set or top-N query among the alerts due
    const cost = keys.size + exporterRequests;
    perEvaluation = Math.max(perEvaluation, cost);
    perDay += cost;
    if (metadataValueSets.size > 0) for (const key of keys) if (metadataValueSets.has(key)) metadataPerDay += 1;
    const hour = Math.floor(tick / 3600);
    perHour.set(hour, (perHour.get(hour) ?? 0) + cost);
  }
  return {
    perEvaluation,
    perDay,
    busiestHour: Math.max(0, ...perHour.values()),
    evaluationsPerDay: byTick.size,
    filterSets: filterSets.size,
    topN: topN.size,
    metadataFilterSets: metadataValueSets.size,
    metadataPerDay,
    topTraces: topTraces.size,
    topModels: topModels.size,
    unplannedPerDay,
    exporterPerDay: exporterRequests * byTick.size,
  };
}

/** The request a read shares with the others due with it when the cache is warm: its filter set, or its top-N query. */
function requestKey(read: AlertRead, alert: AlertConfig): string {
  return read.shape.kind === 'topN' ? `top-N ${topNKey(alert)}` : `filters ${filterKey(read.filters)}`;
}

export interface Stretch {
  /** how many times further apart evaluations will be, > 1 */
  readonly factor: number;
  /** the top-level schedule's interval, and what it becomes, in minutes */
  readonly everyMinutes: number;
  readonly stretchedMinutes: number;
}

/**
 * How the request budget will stretch the schedule, or null when it fits. The worker spreads a
 * limit evenly and keeps a quarter of it for bursts (see ../quota.ts), so it sustains 80% of it.
 */
export function scheduleStretch(requestBudget: RequestBudgetSetting | undefined, schedule: string, cost: PlannedCost): Stretch | null {
  const limits = quotaLimits(requestBudget);
  const sustained = (limit: number): number => limit / 1.25;
  const factor = Math.max(
    limits.perDay === undefined ? 0 : cost.perDay / sustained(limits.perDay),
    limits.perHour === undefined ? 0 : cost.busiestHour / sustained(limits.perHour),
  );
  if (factor <= 1) return null;
  const everyMinutes = 1440 / Math.max(1, dailyTicks(schedule).length);
  return { factor, everyMinutes, stretchedMinutes: everyMinutes * factor };
}

/** Seconds after midnight at which the expression fires on a day it fires at all. */
function dailyTicks(expression: string): number[] {
  const fields = validateDetailed(expression).fields;
  if (!fields) return [];
  const ticks: number[] = [];
  for (const hour of fields.hour) for (const minute of fields.minute) for (const second of fields.second) ticks.push(hour * 3600 + minute * 60 + second);
  return ticks;
}

/** An alert's top-N request: the same filters, window and shape are one request (perTrace: its own top). */
function topNKey(alert: AlertConfig): string {
  return JSON.stringify([filterKey(alert.filters ?? {}), alert.window, alertShape(alert)]);
}

