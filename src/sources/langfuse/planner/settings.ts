// What the planner needs to know besides an evaluation's queries. The caller derives it from the
// configuration; the planner never sees the configuration itself.
import type { SpendQuery } from '../../../core/query.js';
import { dimensionOf, filterKey, type Dimension } from './keys.js';
import type { Lookbacks } from './evaluation.js';
import { floorTo, HOUR } from './time.js';

export interface PlannerSettings {
  /** ms: hours that ended at least this long ago are final and cached */
  readonly lagMarginMs: number;
  /** the cron expressions evaluations run on: window edges fall at their ticks (see ./cuts.ts) */
  readonly schedules: readonly string[];
  /** the zone calendar windows begin in: their midnights are window edges too */
  readonly timezone: string;
  /**
   * Every configured alert's queries at `now`, due or not: how far back the history cache keeps
   * each filter set and field, and what the alerts not due now add to shared requests.
   */
  readonly retention: (now: Date) => readonly SpendQuery[];
}

/** Where the retained queries' lookbacks begin at `now`, per filter set and dimension. */
export function lookbacksAt(settings: Pick<PlannerSettings, 'retention'>, now: Date): Lookbacks {
  const earliest = new Map<string, { filters: string; dim: Dimension; from: number }>();
  for (const query of settings.retention(now)) {
    // A top-N query is answered by Langfuse as a whole, never from the cache.
    if (query.shape.kind === 'topN') continue;
    const filters = filterKey(query.filters);
    const dim = dimensionOf(query.shape);
    const id = `${dim}|${filters}`;
    const from = query.from.getTime();
    const known = earliest.get(id);
    if (!known || from < known.from) earliest.set(id, { filters, dim, from });
  }
  return { hour: floorTo(now.getTime(), HOUR), needs: [...earliest.values()] };
}
