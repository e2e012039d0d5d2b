// What a configuration costs in Langfuse requests under the planner, worked out from the schedules
// alone (no network, no clock): with the history cache warm, an evaluation sends one request per
// filter set among the alerts due, plus one top-N request per distinct `groupBy: userId` alert.
// The alerts due at one moment are evaluated together (the daemon batches them), so they share.
import { validateDetailed } from 'node-cron';
import type { AlertConfig, Config } from '../config/schema.js';
import { budgetLimits } from './budget.js';
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
  /** distinct filter sets, and `groupBy: userId` alerts (one top-N request each) */
  readonly filterSets: number;
  readonly topN: number;
  /** one request per alert window at every evaluation, as without the planner */
  readonly unplannedPerDay: number;
}

export function plannedCost(config: Config): PlannedCost {
  const byTick = new Map<number, AlertConfig[]>();
  let unplannedPerDay = 0;
  for (const alert of config.alerts) {
    const ticks = dailyTicks(alert.schedule ?? config.schedule);
    unplannedPerDay += ticks.length * (1 + (alert.relative?.baseline ?? 0));
    for (const tick of ticks) byTick.set(tick, [...(byTick.get(tick) ?? []), alert]);
  }
  let perEvaluation = 0;
  let perDay = 0;
  const perHour = new Map<number, number>();
  for (const [tick, alerts] of byTick) {
    const cost = requestsFor(alerts);
    perEvaluation = Math.max(perEvaluation, cost);
    perDay += cost;
    const hour = Math.floor(tick / 3600);
    perHour.set(hour, (perHour.get(hour) ?? 0) + cost);
  }
  return {
    perEvaluation,
    perDay,
    busiestHour: Math.max(0, ...perHour.values()),
    evaluationsPerDay: byTick.size,
    filterSets: new Set(config.alerts.filter((a) => a.groupBy !== 'userId').map((a) => filterKey(a.filters ?? {}))).size,
    topN: new Set(config.alerts.filter((a) => a.groupBy === 'userId').map(topNKey)).size,
    unplannedPerDay,
  };
}

/** Requests of one evaluation of these alerts with a warm cache. */
function requestsFor(alerts: readonly AlertConfig[]): number {
  const filterSets = new Set(alerts.filter((a) => a.groupBy !== 'userId').map((a) => filterKey(a.filters ?? {})));
  const topN = new Set(alerts.filter((a) => a.groupBy === 'userId').map(topNKey));
  return filterSets.size + topN.size;
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
 * limit evenly and keeps a quarter of it for bursts (see ./budget.ts), so it sustains 80% of it.
 */
export function scheduleStretch(config: Config, cost: PlannedCost): Stretch | null {
  const limits = budgetLimits(config.langfuse.requestBudget);
  const sustained = (limit: number): number => limit / 1.25;
  const factor = Math.max(
    limits.perDay === undefined ? 0 : cost.perDay / sustained(limits.perDay),
    limits.perHour === undefined ? 0 : cost.busiestHour / sustained(limits.perHour),
  );
  if (factor <= 1) return null;
  const everyMinutes = 1440 / Math.max(1, dailyTicks(config.schedule).length);
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

function topNKey(alert: AlertConfig): string {
  return JSON.stringify([filterKey(alert.filters ?? {}), alert.window, alert.top]);
}
