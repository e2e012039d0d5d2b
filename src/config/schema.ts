// The single source of truth for alerts.yaml: types, defaults, descriptions and the generated
// JSON Schema all come from here. Cross-field rules live in ./cross-checks.ts; `${VAR}`
// interpolation happens before this schema sees a value (./interpolate.ts).
import { z } from 'zod';

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

export const CHANNEL_TYPES = ['slack', 'email', 'webhook', 'console'] as const;

/**
 * What an omitted `langfuse` block (or an omitted key of it) means. They are templates: the loader
 * puts them in before interpolating, so they resolve from the environment like any `${VAR}`.
 */
export const LANGFUSE_DEFAULTS = {
  baseUrl: '${LANGFUSE_BASE_URL:-https://cloud.langfuse.com}',
  publicKey: '${LANGFUSE_PUBLIC_KEY}',
  secretKey: '${LANGFUSE_SECRET_KEY}',
} as const;

export const DEFAULT_TIMEZONE = 'UTC';
export const DEFAULT_SCHEDULE = '*/15 * * * *';

/** Keys whose values are credentials: never shown in messages, collected for log redaction. */
const SECRET_CHANNEL_KEYS: ReadonlySet<string> = new Set(['webhookUrl', 'smtpUrl', 'url', 'secret']);
export function isSecretPath(path: readonly (string | number)[]): boolean {
  if (path[0] === 'langfuse') return path.length === 2 && (path[1] === 'publicKey' || path[1] === 'secretKey');
  return path[0] === 'channels' && path.length === 3 && SECRET_CHANNEL_KEYS.has(String(path[2]));
}

const httpUrl = z.url({ protocol: /^https?$/, error: 'must be an http:// or https:// URL' });

const stringOrList = z
  .union([z.string().min(1), z.array(z.string().min(1)).min(1)], {
    error: 'must be a string or a list of strings',
  })
  .describe('A value, or a list of values of which any may match.');

const usd = z.number().nonnegative();

/** A duration such as `90s`, `15m` or `1h`; see ./duration.ts. */
export const DURATION_PATTERN = /^(0|[1-9][0-9]*)(s|m|h)$/;
export const DEFAULT_LAG_MARGIN = '15m';

export const REQUEST_BUDGET_PLANS = ['hobby', 'core', 'pro', 'self-hosted'] as const;
export type RequestBudgetPlan = (typeof REQUEST_BUDGET_PLANS)[number];

const requestsPerPeriod = z.number().int().min(1);

export const requestBudgetSchema = z
  .union(
    [
      z.enum(REQUEST_BUDGET_PLANS).describe('A Langfuse Cloud plan: hobby 100 a day, core 100 an hour, pro 500 an hour; self-hosted: no limit.'),
      z
        .strictObject({
          perHour: requestsPerPeriod.optional().describe('At most this many Metrics API requests in any hour.'),
          perDay: requestsPerPeriod.optional().describe('At most this many Metrics API requests in any 24 hours.'),
        })
        .describe('Your own limits: perHour, perDay or both.'),
    ],
    { error: 'must be hobby, core, pro, self-hosted, or { perHour, perDay }' },
  )
  .describe(
    'Metrics API requests the worker may spend. Langfuse Cloud limits them per organisation; the worker spreads ' +
      'evaluations to stay under this and stretches schedules when it must.',
  );
export type RequestBudgetSetting = z.infer<typeof requestBudgetSchema>;

export const langfuseSchema = z
  .strictObject({
    baseUrl: httpUrl
      .default(LANGFUSE_DEFAULTS.baseUrl)
      .describe('Langfuse host: https://cloud.langfuse.com (EU), https://us.cloud.langfuse.com, or your own.'),
    publicKey: z.string().min(1).default(LANGFUSE_DEFAULTS.publicKey).describe('Langfuse public key (pk-lf-…).'),
    secretKey: z
      .string()
      .min(1)
      .default(LANGFUSE_DEFAULTS.secretKey)
      .describe('Langfuse secret key (sk-lf-…). Keep it out of the file: use ${VAR}.'),
    lagMargin: z
      .string()
      .regex(DURATION_PATTERN, 'must be a duration such as 90s, 15m or 1h')
      .default(DEFAULT_LAG_MARGIN)
      .describe(
        'How late spend may reach Langfuse: hourly history older than this is cached in the state directory and never ' +
          'fetched again; newer spend is read afresh at every evaluation.',
      ),
    requestBudget: requestBudgetSchema.optional(),
  })
  .default({ ...LANGFUSE_DEFAULTS, lagMargin: DEFAULT_LAG_MARGIN })
  .describe('Where to read spend from. Every key defaults to the environment variables the Langfuse SDKs read.');

export const slackChannelSchema = z
  .strictObject({
    type: z.literal('slack'),
    webhookUrl: httpUrl.describe('Slack incoming-webhook URL. A secret: use ${VAR}.'),
  })
  .describe('Posts to Slack through an incoming webhook.');

export const emailChannelSchema = z
  .strictObject({
    type: z.literal('email'),
    smtpUrl: z
      .string()
      .regex(/^smtps?:\/\//, 'must start with smtp:// or smtps://')
      .describe('smtp://user:pass@host:587 (STARTTLS when offered) or smtps://user:pass@host:465. A secret: use ${VAR}.'),
    from: z.string().min(3).describe('Sender, e.g. "LLM spend <alerts@example.com>".'),
    to: z.array(z.string().min(3)).min(1).describe('Recipients.'),
  })
  .describe('Sends mail over SMTP.');

export const webhookChannelSchema = z
  .strictObject({
    type: z.literal('webhook'),
    url: httpUrl.describe('Receives one JSON POST per notification. A secret: use ${VAR}.'),
    secret: z
      .string()
      .min(1)
      .optional()
      .describe(
        'Signs every request: X-Spend-Alerts-Signature: sha256=<hex HMAC-SHA256 of "<timestamp>.<body>">. Use ${VAR}.',
      ),
  })
  .describe('POSTs a JSON body per notification to your automation.');

export const consoleChannelSchema = z
  .strictObject({
    type: z.literal('console'),
  })
  .describe('Prints notifications to stdout (demo, dry runs, debugging).');

export const channelSchema = z.discriminatedUnion('type', [
  slackChannelSchema,
  emailChannelSchema,
  webhookChannelSchema,
  consoleChannelSchema,
]);
export type ChannelConfig = z.infer<typeof channelSchema>;
export type ChannelType = ChannelConfig['type'];

export const filtersSchema = z
  .strictObject({
    environment: stringOrList.optional(),
    traceName: stringOrList.optional(),
    model: stringOrList.optional(),
    userId: stringOrList.optional(),
    release: stringOrList.optional(),
    tags: z.array(z.string().min(1)).min(1).optional().describe('Traces carrying any of these tags.'),
    metadata: z
      .record(z.string().min(1), z.string())
      .optional()
      .describe('Trace metadata key → exact value (quote numbers); every pair must match.'),
  })
  .describe('Optional filters, ANDed; a value may be a string or a list (any of).');
export type AlertFilters = z.infer<typeof filtersSchema>;

export const thresholdSchema = z.union(
  [
    usd.describe('Fire when spend is greater than this many USD.'),
    z
      .strictObject({
        warning: usd.optional().describe('USD: fire a warning above this.'),
        critical: usd.optional().describe('USD: fire a critical notification above this.'),
      })
      .describe('Levels in USD; the highest level crossed decides the severity.'),
  ],
  { error: 'must be a number of USD or { warning, critical }' },
);

export const relativeSchema = z
  .strictObject({
    factor: z.number().positive().describe('Fire when spend > factor × baseline.'),
    // ≥ 1 is a cross-check (./cross-checks.ts) rather than a zod bound, so alertSchema.parse can still
    // build the edge cases the evaluator guards against; `minimum` here only informs editors.
    baseline: z.number().int().meta({
      minimum: 1,
      description: 'How many previous windows of the same kind to average, each measured to the same point.',
    }),
  })
  .describe('Fire on a spike against the recent past.');

export const alertSchema = z
  .strictObject({
    name: z
      .string()
      .regex(ALERT_NAME_PATTERN, 'may only contain a-z, 0-9, "-", "_" and "."')
      .describe('Unique; renaming an alert starts its state afresh.'),
    window: z
      .string()
      .regex(WINDOW_PATTERN, 'must be day, week, month, or a rolling <n>h / <n>d such as 1h, 24h, 7d')
      .describe('Calendar day | week | month in `timezone`, or rolling <n>h / <n>d.'),
    threshold: thresholdSchema.optional().describe('USD; or { warning, critical }. Exactly one of threshold and relative.'),
    relative: relativeSchema.optional(),
    minSpend: usd.optional().describe('Noise floor in USD: never fire while spend is below it.'),
    severity: z
      .enum(SEVERITIES)
      .optional()
      .describe('Severity of a single-level threshold (default critical) or a relative alert (default warning).'),
    sendResolved: z
      .boolean()
      .default(true)
      .describe('Rolling windows only: send a resolved notification when the series recovers.'),
    resolveBelow: z
      .number()
      .gt(0)
      .lte(1)
      .default(0.9)
      .describe('Rolling windows only: a firing series resolves when spend falls below this fraction of its threshold.'),
    schedule: z.string().optional().describe('Cron expression overriding the top-level schedule for this alert.'),
    groupBy: z.enum(GROUP_BY_FIELDS).optional().describe('One series per value of this field.'),
    top: z
      .number()
      .int()
      .min(1)
      .max(1000)
      .default(20)
      .describe('groupBy: userId only — how many of the top-spending users to watch.'),
    filters: filtersSchema.optional(),
    channels: z.array(z.string().min(1)).min(1).describe('Names of channels under `channels`.'),
  })
  .describe('One alert: a window, exactly one rule (threshold or relative) and where to send it.');
export type AlertConfig = z.infer<typeof alertSchema>;

export const configSchema = z
  .strictObject({
    langfuse: langfuseSchema,
    timezone: z
      .string()
      .default(DEFAULT_TIMEZONE)
      .describe('IANA time zone: calendar windows start at local midnight / Monday / the 1st.'),
    schedule: z
      .string()
      .default(DEFAULT_SCHEDULE)
      .describe('Cron expression (5 fields, or 6 with seconds first) in `timezone`; an alert may override it.'),
    channels: z
      .record(z.string().regex(ALERT_NAME_PATTERN, 'may only contain a-z, 0-9, "-", "_" and "."'), channelSchema)
      .describe('Name → channel.'),
    alerts: z.array(alertSchema).min(1),
    degradedAfter: z
      .number()
      .int()
      .min(1)
      .default(3)
      .describe('Consecutive failed evaluations (Langfuse, or one channel) before a "monitoring degraded" or "channel failing" notice.'),
    systemChannels: z
      .array(z.string().min(1))
      .min(1)
      .optional()
      .describe("Where the worker's own notices go (degraded, recovered, channel failing); default: every channel that still works."),
  })
  .meta({
    title: 'langfuse-spend-alerts configuration (alerts.yaml)',
    description:
      'String values may reference the environment: ${VAR}, ${VAR:-default}; $$ is a literal $. ' +
      'Where a number or boolean is expected, a reference that resolves to one is one.',
  });
export type Config = z.infer<typeof configSchema>;
