// Cron expressions as node-cron, which schedules them, understands them: 5 fields, or 6 with
// seconds first (plus its @hourly/@daily/@weekly/@monthly/@yearly nicknames).
import { validateDetailed } from 'node-cron';

const FIELDS: Readonly<Record<string, string>> = {
  second: 'second (0-59)',
  minute: 'minute (0-59)',
  hour: 'hour (0-23)',
  dayOfMonth: 'day of month (1-31, L)',
  month: 'month (1-12 or JAN-DEC)',
  dayOfWeek: 'day of week (0-7 or SUN-SAT)',
};

/** Why `expression` is not a schedule, or undefined when it is one. */
export function cronProblem(expression: string): string | undefined {
  if (expression.trim() === '') return 'is empty: expected a cron expression such as "*/15 * * * *"';
  const result = validateDetailed(expression);
  if (result.valid) return undefined;
  const reasons = result.errors.map((error) => {
    const field = FIELDS[error.field];
    if (field === undefined) return error.message.replace(/^pattern includes/, 'includes');
    if (/impossible/.test(error.message)) return `${error.value ?? ''} never occurs in the given month(s)`;
    return `${JSON.stringify(error.value ?? '')} is not a valid ${field}`;
  });
  return `invalid cron expression ${JSON.stringify(expression)}: ${reasons.join('; ')}`;
}

/**
 * How often `expression` fires on a day it fires at all (DST changes aside): the busiest day,
 * which is what a daily request quota has to allow for. 0 for an invalid expression.
 */
export function firesPerDay(expression: string): number {
  const result = validateDetailed(expression);
  if (!result.valid || !result.fields) return 0;
  const { second, minute, hour } = result.fields;
  return second.length * minute.length * hour.length;
}
