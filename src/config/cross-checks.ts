// Rules that span several keys, which the schema can't express. Each reads the interpolated
// document defensively rather than the validated Config, so that they run even when the schema
// found other problems and every problem is reported at once.
import { channelDefinition } from '../channels/registry.js';
import { cronProblem } from './cron.js';
import { parseDuration } from './duration.js';
import type { ConfigPath } from './errors.js';
import { formatPath } from './errors.js';
import { DURATION_PATTERN } from './schema.js';
import { formatDays, isCalendarWindow, isMetadataGroupBy, MAX_ROLLING_DAYS, metadataKey, windowDays } from '../core/alert.js';
import { asRecord } from '../core/record.js';
import { RULES } from '../core/rules/index.js';
import { matchPatternProblem } from '../core/models.js';
import { isValidTimeZone } from '../core/time/zone.js';
import { closest } from './suggest.js';

export interface Finding {
  readonly level: 'error' | 'warning';
  readonly path: ConfigPath;
  readonly message: string;
}

export type CrossCheck = (document: unknown) => Finding[];

type Fields = Readonly<Record<string, unknown>>;

/** The entries of a top-level list that are objects, with their index (the schema reports the rest). */
function entriesOf(document: unknown, list: 'alerts' | 'digests' | 'models'): [number, Fields][] {
  const entries = asRecord(document)?.[list];
  if (!Array.isArray(entries)) return [];
  return entries.flatMap((item, index): [number, Fields][] => {
    const entry = asRecord(item);
    return entry ? [[index, entry]] : [];
  });
}

const has = (entry: Fields, key: string): boolean => entry[key] !== undefined;

export const unknownChannels: CrossCheck = (document) => {
  const defined = Object.keys(asRecord(asRecord(document)?.['channels']) ?? {});
  const isDefined = new Set(defined);
  const known = defined.length > 0 ? `defined: ${defined.join(', ')}` : 'no channels are defined';
  const named = [
    ...entriesOf(document, 'alerts').map(([index, alert]) => ['alerts', index, alert] as const),
    ...entriesOf(document, 'digests').map(([index, digest]) => ['digests', index, digest] as const),
  ];
  return named.flatMap(([list, index, entry]) => {
    const channels = entry['channels'];
    if (!Array.isArray(channels)) return [];
    return channels.flatMap((name, position): Finding[] =>
      typeof name === 'string' && !isDefined.has(name)
        ? [{ level: 'error', path: [list, index, 'channels', position], message: `unknown channel "${name}" (${known})` }]
        : [],
    );
  });
};

export const duplicateDigestNames: CrossCheck = (document) => duplicateNames('digests', entriesOf(document, 'digests'), 'digest');

export const unknownSystemChannels: CrossCheck = (document) => {
  const defined = Object.keys(asRecord(asRecord(document)?.['channels']) ?? {});
  const named = asRecord(document)?.['systemChannels'];
  if (!Array.isArray(named)) return [];
  const isDefined = new Set(defined);
  return named.flatMap((name, position): Finding[] =>
    typeof name === 'string' && !isDefined.has(name)
      ? [{ level: 'error', path: ['systemChannels', position], message: `unknown channel "${name}" (defined: ${defined.join(', ') || 'none'})` }]
      : [],
  );
};

export const duplicateAlertNames: CrossCheck = (document) => duplicateNames('alerts', entriesOf(document, 'alerts'), 'alert');

/** A located error for each entry of a list whose name (`key`) an earlier entry already has. */
function duplicateNames(list: 'alerts' | 'digests' | 'models', entries: readonly [number, Fields][], what: string, key = 'name'): Finding[] {
  const first = new Map<string, number>();
  return entries.flatMap(([index, entry]): Finding[] => {
    const name = entry[key];
    if (typeof name !== 'string') return [];
    const earlier = first.get(name);
    if (earlier === undefined) {
      first.set(name, index);
      return [];
    }
    return [
      {
        level: 'error',
        path: [list, index, key],
        message: `duplicate ${what} name "${name}" (${formatPath([list, earlier])} has it too); names must be unique`,
      },
    ];
  });
}

export const duplicateModelNames: CrossCheck = (document) => duplicateNames('models', entriesOf(document, 'models'), 'model', 'modelName');

/**
 * A model's matchPattern is a regular expression (a leading `(?i)` allowed, as Langfuse writes
 * them); its prices are inputPrice/outputPrice or totalPrice, at least one (Langfuse computes no
 * cost without a price, and refuses a model without one).
 */
export const modelDefinitions: CrossCheck = (document) =>
  entriesOf(document, 'models').flatMap(([index, model]): Finding[] => {
    const findings: Finding[] = [];
    const pattern = model['matchPattern'];
    const problem = typeof pattern === 'string' && pattern !== '' ? matchPatternProblem(pattern) : null;
    if (problem !== null) findings.push({ level: 'error', path: ['models', index, 'matchPattern'], message: `is not a valid regular expression: ${problem}` });
    const split = ['inputPrice', 'outputPrice'].filter((key) => has(model, key));
    if (has(model, 'totalPrice') && split.length > 0) {
      findings.push({
        level: 'error',
        path: ['models', index, 'totalPrice'],
        message: `totalPrice prices input and output together: give it or ${split.join(' and ')}, not both`,
      });
    }
    if (!has(model, 'totalPrice') && split.length === 0) {
      findings.push({ level: 'error', path: ['models', index], message: 'needs a price: inputPrice and outputPrice, or totalPrice (USD per unit; 0 for free)' });
    }
    return findings;
  });

export const invalidTimeZone: CrossCheck = (document) => {
  const timezone = asRecord(document)?.['timezone'];
  if (typeof timezone !== 'string' || isValidTimeZone(timezone)) return [];
  const suggestion = closest(timezone, Intl.supportedValuesOf('timeZone'));
  const hint = suggestion ? `did you mean "${suggestion}"?` : 'use an IANA name such as Europe/Berlin or UTC';
  return [{ level: 'error', path: ['timezone'], message: `unknown time zone "${timezone}" (${hint})` }];
};

export const invalidSchedules: CrossCheck = (document) => {
  const schedules: [ConfigPath, unknown][] = [
    [['schedule'], asRecord(document)?.['schedule']],
    ...entriesOf(document, 'alerts').map(([index, alert]): [ConfigPath, unknown] => [['alerts', index, 'schedule'], alert['schedule']]),
    ...entriesOf(document, 'digests').map(([index, digest]): [ConfigPath, unknown] => [['digests', index, 'schedule'], digest['schedule']]),
  ];
  return schedules.flatMap(([path, schedule]): Finding[] => {
    const problem = typeof schedule === 'string' ? cronProblem(schedule) : undefined;
    return problem === undefined ? [] : [{ level: 'error', path, message: problem }];
  });
};

/** A rolling window's hours are fetched, cached and re-cut at every evaluation: it has a bound. */
export const rollingWindowLimit: CrossCheck = (document) =>
  entriesOf(document, 'alerts').flatMap(([index, alert]): Finding[] => {
    const window = alert['window'];
    const days = windowDays(window);
    if (days !== undefined && !isCalendarWindow(window as string) && days > MAX_ROLLING_DAYS) {
      return [
        {
          level: 'error',
          path: ['alerts', index, 'window'],
          message: `a rolling window is at most ${MAX_ROLLING_DAYS}d (got ${String(window)}, ${formatDays(days)}); use month for longer periods`,
        },
      ];
    }
    return [];
  });

/** Each rule kind's own checks (src/core/rules/*), for the alerts that have its key. */
export const ruleChecks: CrossCheck = (document) =>
  entriesOf(document, 'alerts').flatMap(([index, alert]) =>
    RULES.filter((rule) => has(alert, rule.key)).flatMap((rule) =>
      rule.checks.flatMap((check) => check(alert).map((finding): Finding => ({ ...finding, path: ['alerts', index, ...finding.path] }))),
    ),
  );

export const topWithoutUserId: CrossCheck = (document) =>
  entriesOf(document, 'alerts').flatMap(([index, alert]): Finding[] =>
    has(alert, 'top') && alert['groupBy'] !== 'userId'
      ? [{ level: 'warning', path: ['alerts', index, 'top'], message: 'top only applies to groupBy: userId; ignored' }]
      : [],
  );

/**
 * `explain`: distinct dimensions; the alert's own groupBy is left out (each series is one of its
 * values); a rule whose notifications list no contributors (perTrace, unpriced) takes none.
 */
export const explainDimensions: CrossCheck = (document) =>
  entriesOf(document, 'alerts').flatMap(([index, alert]): Finding[] => {
    const explain = alert['explain'];
    if (!Array.isArray(explain)) return [];
    const at = (...path: (string | number)[]): ConfigPath => ['alerts', index, 'explain', ...path];
    const none = RULES.find((rule) => has(alert, rule.key) && rule.contributorBaseline === 'none');
    if (none && explain.length > 0) {
      return [{ level: 'error', path: at(), message: `${none.key} notifications list no contributors; remove explain` }];
    }
    const seen = new Map<unknown, number>();
    return explain.flatMap((dimension, position): Finding[] => {
      const first = seen.get(dimension);
      if (first !== undefined) {
        return [{ level: 'error', path: at(position), message: `duplicate dimension ${String(dimension)} (explain[${first}] has it too)` }];
      }
      seen.set(dimension, position);
      return dimension === alert['groupBy']
        ? [{ level: 'warning', path: at(position), message: `${String(dimension)} is the alert's groupBy: each series is one ${String(dimension)}; ignored` }]
        : [];
    });
  });

/**
 * `groupBy: metadata.KEY` needs its `values` (Langfuse filters on metadata but can't group by it),
 * distinct; `values` means nothing without it; the group's key can't also be a metadata filter.
 */
export const metadataGroups: CrossCheck = (document) =>
  entriesOf(document, 'alerts').flatMap(([index, alert]): Finding[] => {
    const at = (...path: (string | number)[]): ConfigPath => ['alerts', index, ...path];
    const groupBy = alert['groupBy'];
    const values = alert['values'];
    if (!isMetadataGroupBy(groupBy)) {
      if (!has(alert, 'values')) return [];
      return [
        {
          level: 'error',
          path: at('values'),
          message: `values only goes with groupBy: metadata.<key>, whose values Langfuse can't list (${groupBy === undefined ? 'no groupBy here' : `groupBy here is ${String(groupBy)}`})`,
        },
      ];
    }
    const key = metadataKey(groupBy);
    if (key.trim() === '') {
      return [{ level: 'error', path: at('groupBy'), message: 'metadata. needs a key: groupBy: metadata.agent_type' }];
    }
    const findings: Finding[] = [];
    if (values === undefined) {
      findings.push({
        level: 'error',
        path: at('groupBy'),
        message: `${groupBy} needs values: the ${key} values to watch, one series each (Langfuse filters on metadata but can't group by it)`,
      });
    }
    if (Array.isArray(values)) {
      const first = new Map<unknown, number>();
      values.forEach((value, position) => {
        const earlier = first.get(value);
        if (earlier === undefined) first.set(value, position);
        else if (typeof value === 'string') {
          findings.push({ level: 'error', path: at('values', position), message: `duplicate value "${value}" (values[${earlier}] has it too); values must be distinct` });
        }
      });
    }
    const filtered = asRecord(asRecord(alert['filters'])?.['metadata']);
    if (filtered && Object.hasOwn(filtered, key)) {
      findings.push({
        level: 'error',
        path: at('filters', 'metadata', key),
        message: `groupBy: ${groupBy} reads each of its values already: drop this filter, or list only the values you want under values`,
      });
    }
    return findings;
  });

export const resolvingOnCalendarWindow: CrossCheck = (document) =>
  entriesOf(document, 'alerts').flatMap(([index, alert]) => {
    const window = alert['window'];
    if (typeof window !== 'string' || !isCalendarWindow(window)) return [];
    return ['resolveBelow', 'sendResolved'].flatMap((key): Finding[] =>
      has(alert, key)
        ? [
            {
              level: 'warning',
              path: ['alerts', index, key],
              message:
                `${key} only applies to rolling windows (like 24h); ` +
                `a ${window} alert doesn't resolve, its period ends; ignored`,
            },
          ]
        : [],
    );
  });

export const emptyRequestBudget: CrossCheck = (document) => {
  const budget = asRecord(asRecord(asRecord(document)?.['langfuse'])?.['requestBudget']);
  if (!budget || has(budget, 'perHour') || has(budget, 'perDay')) return [];
  return [
    {
      level: 'error',
      path: ['langfuse', 'requestBudget'],
      message: 'needs perHour, perDay or both (or a plan name: hobby, core, pro, self-hosted)',
    },
  ];
};

/** Above this the open stretch re-read at every evaluation gets long, and so do the requests. */
const LONG_LAG_MARGIN_MS = 24 * 3_600_000;

export const longLagMargin: CrossCheck = (document) => {
  const margin = asRecord(asRecord(document)?.['langfuse'])?.['lagMargin'];
  if (typeof margin !== 'string' || !DURATION_PATTERN.test(margin) || parseDuration(margin) <= LONG_LAG_MARGIN_MS) return [];
  return [
    {
      level: 'warning',
      path: ['langfuse', 'lagMargin'],
      message: `${margin} is more than a day: every evaluation re-reads that much history from Langfuse`,
    },
  ];
};

/** Each channel's own checks, from its definition (e.g. email's plain-text SMTP warning). */
export const channelChecks: CrossCheck = (document) =>
  Object.entries(asRecord(asRecord(document)?.['channels']) ?? {}).flatMap(([name, channel]): Finding[] => {
    const entry = asRecord(channel);
    const check = entry && channelDefinition(entry['type'])?.check;
    if (!entry || !check) return [];
    return check(entry).map((finding) => ({ ...finding, path: ['channels', name, ...finding.path] }));
  });

/**
 * `https://user:pass@host` would send the password to Langfuse in the clear of every log line and
 * state file that names the host; Langfuse takes its credentials from publicKey and secretKey. The
 * message says where, never what.
 */
export const credentialsInBaseUrl: CrossCheck = (document) => {
  const baseUrl = asRecord(asRecord(document)?.['langfuse'])?.['baseUrl'];
  if (typeof baseUrl !== 'string' || !URL.canParse(baseUrl)) return [];
  const url = new URL(baseUrl);
  if (url.username === '' && url.password === '') return [];
  return [
    {
      level: 'error',
      path: ['langfuse', 'baseUrl'],
      message: 'must not hold credentials (user:password@): give the keys as langfuse.publicKey and langfuse.secretKey',
    },
  ];
};

export const CROSS_CHECKS: readonly CrossCheck[] = [
  unknownChannels,
  duplicateAlertNames,
  duplicateDigestNames,
  duplicateModelNames,
  modelDefinitions,
  invalidTimeZone,
  invalidSchedules,
  rollingWindowLimit,
  ruleChecks,
  topWithoutUserId,
  metadataGroups,
  resolvingOnCalendarWindow,
  explainDimensions,
  emptyRequestBudget,
  longLagMargin,
  unknownSystemChannels,
  channelChecks,
  credentialsInBaseUrl,
];

export function runCrossChecks(document: unknown): Finding[] {
  return CROSS_CHECKS.flatMap((check) => check(document));
}
