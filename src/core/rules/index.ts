// The registry of rule kinds: adding one is a file next to these and a line here
// (docs/adding-a-rule.md). Everything that differs between kinds asks this list.
import type * as z from 'zod/mini';
import type { AlertConfig } from '../alert.js';
import { forecast } from './forecast.js';
import { perTrace } from './perTrace.js';
import { relative } from './relative.js';
import type { RuleKind } from './rule.js';
import { threshold } from './threshold.js';
import { unpriced } from './unpriced.js';

export const RULES = [threshold, relative, forecast, perTrace, unpriced] as const;

type Registered = (typeof RULES)[number];
export type RuleKey = Registered['key'];

/** The rule fields of an alert: `threshold?: …`, `relative?: …`, one per registered kind. */
export type RuleConfigs = { [Rule in Registered as Rule['key']]?: z.infer<Rule['schema']> };

export const RULE_KEYS: readonly RuleKey[] = RULES.map((rule) => rule.key);

/** "threshold or relative"; "threshold, relative or forecast" */
export const orList = (words: readonly string[]): string => words.join(', ').replace(/, ([^,]*)$/, ' or $1');

/** "threshold or relative", for messages */
export const RULE_KEYS_TEXT = orList(RULE_KEYS);

/** An alert's rule kind with its configuration, typed together. */
export interface AlertRule {
  readonly kind: RuleKind<RuleKey, unknown>;
  readonly config: unknown;
}

/** The one rule an alert has; throws when it has none or several (the config schema refuses those). */
export function ruleOf(alert: AlertConfig): AlertRule {
  const present = RULES.filter((rule) => alert[rule.key] !== undefined);
  const [only] = present;
  if (only === undefined || present.length > 1) {
    throw new Error(`alert ${alert.name}: needs exactly one of ${orList(RULE_KEYS)}`);
  }
  return { kind: only as RuleKind<RuleKey, unknown>, config: alert[only.key] };
}

/** The kind whose evaluations carry `key`. */
export function ruleKind(key: RuleKey): RuleKind<RuleKey, unknown> {
  return RULES.find((rule) => rule.key === key) as RuleKind<RuleKey, unknown>;
}

/** Ranges read per evaluation: the current window plus the rule's earlier ones. */
export function rangesPerEvaluation(alert: AlertConfig): number {
  const { kind, config } = ruleOf(alert);
  return 1 + kind.earlierRangeCount(config, alert.window);
}
