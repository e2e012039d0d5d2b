// Durations in alerts.yaml (`langfuse.lagMargin`): a whole number of seconds, minutes or hours.
import { DURATION_PATTERN } from './schema.js';

const UNIT_MS: Readonly<Record<string, number>> = { s: 1000, m: 60_000, h: 3_600_000 };

/** `15m` → 900000; throws on what the schema would have refused. */
export function parseDuration(text: string): number {
  const match = DURATION_PATTERN.exec(text);
  if (!match) throw new RangeError(`invalid duration "${text}": expected e.g. 90s, 15m or 1h`);
  return Number(match[1]) * UNIT_MS[match[2]!]!;
}
