// What the Langfuse request planner needs to know of the configuration, and no more: it is
// handed these settings (src/sources/langfuse/planner/settings.ts), never the configuration.
import { alertQueries } from '../core/alert-queries.js';
import type { SpendQuery } from '../core/query.js';
import { parseDuration } from './duration.js';
import type { Config } from './schema.js';

export function plannerSettings(config: Config): {
  lagMarginMs: number;
  schedules: string[];
  timezone: string;
  retention: (now: Date) => SpendQuery[];
} {
  return {
    lagMarginMs: parseDuration(config.langfuse.lagMargin),
    schedules: [config.schedule, ...config.alerts.flatMap((alert) => (alert.schedule ? [alert.schedule] : []))],
    timezone: config.timezone,
    retention: (now) => alertQueries(config.alerts, now, config.timezone),
  };
}
