// The single source of truth for alerts.yaml: types, defaults, descriptions and the generated
// JSON Schema all come from here. Cross-field rules live in ./cross-checks.ts; `${VAR}`
// interpolation happens before this schema sees a value (./interpolate.ts).
//
// Written with zod/mini, the functional form of zod 4: it bundles to the ~30 kB this file uses,
// where the chained API pulls in all of zod (~750 kB), which `check` then spent ~70 ms loading
// before it could read its configuration. Schemas, parsing, issues and JSON Schema are the same.
import * as z from 'zod/mini';
import { en } from 'zod/locales';
import { channelSchemas, isSecretChannelField } from '../channels/registry.js';
import { asRecord } from '../util/record.js';
import { describe, httpUrl, nonEmpty } from '../util/schema.js';

// zod/mini starts without messages ("Invalid input"); the loader retells most issues itself, and
// uses zod's English text for the rest.
z.config(en());

export const ALERT_NAME_PATTERN = /^[a-z0-9_.-]+$/;
export const WINDOW_PATTERN = /^(day|week|month|[1-9][0-9]*[hd])$/;

export const CALENDAR_WINDOWS = ['day', 'week', 'month'] as const;
export type CalendarWindow = (typeof CALENDAR_WINDOWS)[number];
export function isCalendarWindow(window: string): window is CalendarWindow {
  return (CALENDAR_WINDOWS as readonly string[]).includes(window);
}

export const GROUP_BY_FIELDS = ['model', 'traceName', 'userId', 'environment', 'release'] as const;
export type GroupByField = (typeof GROUP_BY_FIELDS)[number];

export const SEVERITIES = ['warning', 'critical'] as const;
export type Severity = (typeof SEVERITIES)[number];

/**
 * What an omitted `langfuse` block (or an omitted key of it) means. They are templates: the loader
 * puts them in before interpolating, so they resolve from the environment like any `${VAR}`.
 */
export const LANGFUSE_CLOUD_URL = 'https://cloud.langfuse.com';

export const LANGFUSE_DEFAULTS = {
  baseUrl: `\${LANGFUSE_BASE_URL:-${LANGFUSE_CLOUD_URL}}`,
  publicKey: '${LANGFUSE_PUBLIC_KEY}',
  secretKey: '${LANGFUSE_SECRET_KEY}',
} as const;

export const DEFAULT_TIMEZONE = 'UTC';
export const DEFAULT_SCHEDULE = '*/15 * * * *';

/**
 * Whether the value at `path` of `document` (alerts.yaml as written) is a credential: never shown
 * in messages, collected for log redaction. A channel's secrets are those its definition names.
 */
export function isSecretPath(path: readonly (string | number)[], document: unknown): boolean {
  if (path[0] === 'langfuse') return path.length === 2 && (path[1] === 'publicKey' || path[1] === 'secretKey');
  if (path[0] !== 'channels' || path.length !== 3) return false;
  const channel = asRecord(asRecord(asRecord(document)?.['channels'])?.[String(path[1])]);
  return isSecretChannelField(channel?.['type'], String(path[2]));
}

const stringOrList = describe(
  z.union([nonEmpty(), z.array(nonEmpty()).check(z.minLength(1))], { error: 'must be a string or a list of strings' }),
  'A value, or a list of values of which any may match.',
);

const usd = (): z.ZodMiniNumber => z.number().check(z.nonnegative());

/** A duration such as `90s`, `15m` or `1h`; see ./duration.ts. */
export const DURATION_PATTERN = /^(0|[1-9][0-9]*)(s|m|h)$/;
export const DEFAULT_LAG_MARGIN = '15m';

export const REQUEST_BUDGET_PLANS = ['hobby', 'core', 'pro', 'self-hosted'] as const;
export type RequestBudgetPlan = (typeof REQUEST_BUDGET_PLANS)[number];

const requestsPerPeriod = (): z.ZodMiniNumber => z.int().check(z.minimum(1));

export const requestBudgetSchema = describe(
  z.union(
    [
      describe(z.enum(REQUEST_BUDGET_PLANS), 'A Langfuse Cloud plan: hobby 100 a day, core 100 an hour, pro 500 an hour; self-hosted: no limit.'),
      describe(
        z.strictObject({
          perHour: describe(z.optional(requestsPerPeriod()), 'At most this many Metrics API requests in any hour.'),
          perDay: describe(z.optional(requestsPerPeriod()), 'At most this many Metrics API requests in any 24 hours.'),
        }),
        'Your own limits: perHour, perDay or both.',
      ),
    ],
    { error: 'must be hobby, core, pro, self-hosted, or { perHour, perDay }' },
  ),
  'Metrics API requests the worker may spend. Langfuse Cloud limits them per organisation; the worker spreads ' +
    'evaluations to stay under this and stretches schedules when it must.',
);
export type RequestBudgetSetting = z.infer<typeof requestBudgetSchema>;

export const langfuseSchema = describe(
  z._default(
    z.strictObject({
      baseUrl: describe(
        z._default(httpUrl, LANGFUSE_DEFAULTS.baseUrl),
        'Langfuse host: https://cloud.langfuse.com (EU), https://us.cloud.langfuse.com, or your own.',
      ),
      publicKey: describe(z._default(nonEmpty(), LANGFUSE_DEFAULTS.publicKey), 'Langfuse public key (pk-lf-…).'),
      secretKey: describe(
        z._default(nonEmpty(), LANGFUSE_DEFAULTS.secretKey),
        'Langfuse secret key (sk-lf-…). Keep it out of the file: use ${VAR}.',
      ),
      lagMargin: describe(
        z._default(z.string().check(z.regex(DURATION_PATTERN, 'must be a duration such as 90s, 15m or 1h')), DEFAULT_LAG_MARGIN),
        'How late spend may reach Langfuse: hourly history older than this is cached in the state directory and never ' +
          'fetched again; newer spend is read afresh at every evaluation.',
      ),
      requestBudget: z.optional(requestBudgetSchema),
    }),
    { ...LANGFUSE_DEFAULTS, lagMargin: DEFAULT_LAG_MARGIN },
  ),
  'Where to read spend from. Every key defaults to the environment variables the Langfuse SDKs read.',
);

/** One schema per channel type of the registry (src/channels/registry.ts), told apart by `type`. */
export const channelSchema = z.discriminatedUnion('type', channelSchemas());
export type ChannelConfig = z.infer<typeof channelSchema>;
export type ChannelType = ChannelConfig['type'];

export const filtersSchema = describe(
  z.strictObject({
    environment: z.optional(stringOrList),
    traceName: z.optional(stringOrList),
    model: z.optional(stringOrList),
    userId: z.optional(stringOrList),
    release: z.optional(stringOrList),
    tags: describe(z.optional(z.array(nonEmpty()).check(z.minLength(1))), 'Traces carrying any of these tags.'),
    metadata: describe(
      z.optional(z.record(nonEmpty(), z.string())),
      'Trace metadata key → exact value (quote numbers); every pair must match.',
    ),
  }),
  'Optional filters, ANDed; a value may be a string or a list (any of).',
);
export type AlertFilters = z.infer<typeof filtersSchema>;

export const thresholdSchema = z.union(
  [
    describe(usd(), 'Fire when spend is greater than this many USD.'),
    describe(
      z.strictObject({
        warning: describe(z.optional(usd()), 'USD: fire a warning above this.'),
        critical: describe(z.optional(usd()), 'USD: fire a critical notification above this.'),
      }),
      'Levels in USD; the highest level crossed decides the severity.',
    ),
  ],
  { error: 'must be a number of USD or { warning, critical }' },
);

/** The longest rolling window: its hours are fetched, cached and re-cut at every evaluation. */
export const MAX_ROLLING_DAYS = 90;
/** The most previous windows a relative alert may average. */
export const MAX_BASELINE = 52;
/** The longest lookback (window × (baseline + 1)) a cold start fetches and the history cache keeps. */
export const MAX_LOOKBACK_DAYS = 730;

export const relativeSchema = describe(
  z.strictObject({
    factor: describe(z.number().check(z.positive()), 'Fire when spend > factor × baseline.'),
    // 1 to 52 is a cross-check (./cross-checks.ts) rather than a zod bound, so alertSchema.parse can still
    // build the edge cases the evaluator guards against; `minimum`/`maximum` here only inform editors.
    baseline: z.int().register(z.globalRegistry, {
      minimum: 1,
      maximum: MAX_BASELINE,
      description:
        'How many previous windows of the same kind to average, each measured to the same point; ' +
        `at most ${MAX_BASELINE}, and window × (baseline + 1) at most ${MAX_LOOKBACK_DAYS} days.`,
    }),
  }),
  'Fire on a spike against the recent past.',
);

export const alertSchema = describe(
  z.strictObject({
    name: describe(
      z.string().check(z.regex(ALERT_NAME_PATTERN, 'may only contain a-z, 0-9, "-", "_" and "."')),
      'Unique; renaming an alert starts its state afresh.',
    ),
    window: describe(
      z.string().check(z.regex(WINDOW_PATTERN, 'must be day, week, month, or a rolling <n>h / <n>d such as 1h, 24h, 7d')),
      `Calendar day | week | month in \`timezone\`, or rolling <n>h / <n>d of at most ${MAX_ROLLING_DAYS} days (${MAX_ROLLING_DAYS * 24}h / ${MAX_ROLLING_DAYS}d).`,
    ),
    threshold: describe(z.optional(thresholdSchema), 'USD; or { warning, critical }. Exactly one of threshold and relative.'),
    relative: z.optional(relativeSchema),
    minSpend: describe(z.optional(usd()), 'Noise floor in USD: never fire while spend is below it.'),
    severity: describe(
      z.optional(z.enum(SEVERITIES)),
      'Severity of a single-level threshold (default critical) or a relative alert (default warning).',
    ),
    sendResolved: describe(
      z._default(z.boolean(), true),
      'Rolling windows only: send a resolved notification when the series recovers.',
    ),
    resolveBelow: describe(
      z._default(z.number().check(z.gt(0), z.lte(1)), 0.9),
      'Rolling windows only: a firing series resolves when spend falls below this fraction of its threshold.',
    ),
    schedule: describe(z.optional(z.string()), 'Cron expression overriding the top-level schedule for this alert.'),
    groupBy: describe(z.optional(z.enum(GROUP_BY_FIELDS)), 'One series per value of this field.'),
    top: describe(
      z._default(z.int().check(z.minimum(1), z.maximum(1000)), 20),
      'groupBy: userId only — how many of the top-spending users to watch.',
    ),
    filters: z.optional(filtersSchema),
    channels: describe(z.array(nonEmpty()).check(z.minLength(1)), 'Names of channels under `channels`.'),
  }),
  'One alert: a window, exactly one rule (threshold or relative) and where to send it.',
);
export type AlertConfig = z.infer<typeof alertSchema>;

export const configSchema = z.strictObject({
  langfuse: langfuseSchema,
  timezone: describe(
    z._default(z.string(), DEFAULT_TIMEZONE),
    'IANA time zone: calendar windows start at local midnight / Monday / the 1st.',
  ),
  schedule: describe(
    z._default(z.string(), DEFAULT_SCHEDULE),
    'Cron expression (5 fields, or 6 with seconds first) in `timezone`; an alert may override it.',
  ),
  channels: describe(
    z.record(z.string().check(z.regex(ALERT_NAME_PATTERN, 'may only contain a-z, 0-9, "-", "_" and "."')), channelSchema),
    'Name → channel.',
  ),
  alerts: z.array(alertSchema).check(z.minLength(1)),
  degradedAfter: describe(
    z._default(z.int().check(z.minimum(1)), 3),
    'Consecutive failed evaluations (Langfuse, or one channel) before a "monitoring degraded" or "channel failing" notice.',
  ),
  systemChannels: describe(
    z.optional(z.array(nonEmpty()).check(z.minLength(1))),
    "Where the worker's own notices go (degraded, recovered, channel failing); default: every channel that still works.",
  ),
}).register(z.globalRegistry, {
  title: 'langfuse-spend-alerts configuration (alerts.yaml)',
  description:
    'String values may reference the environment: ${VAR}, ${VAR:-default}; $$ is a literal $. ' +
    'Where a number or boolean is expected, a reference that resolves to one is one.',
});
export type Config = z.infer<typeof configSchema>;
