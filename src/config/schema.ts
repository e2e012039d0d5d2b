// The single source of truth for alerts.yaml: types, defaults, descriptions and the generated
// JSON Schema all come from here, except each alert rule's own key, which its file in
// src/core/rules/ defines (this schema assembles them from the registry). Cross-field rules live in
// ./cross-checks.ts; `${VAR}` interpolation happens before this schema sees a value (./interpolate.ts).
//
// Written with zod/mini, the functional form of zod 4: it bundles to the ~30 kB this file uses,
// where the chained API pulls in all of zod (~750 kB), which `check` then spent ~70 ms loading
// before it could read its configuration. Schemas, parsing, issues and JSON Schema are the same.
import * as z from 'zod/mini';
import { en } from 'zod/locales';
import { channelSchemas, isSecretChannelField } from '../channels/registry.js';
import { GROUP_BY_FIELDS, MAX_METADATA_VALUES, MAX_ROLLING_DAYS, METADATA_GROUP_PREFIX, SEVERITIES } from '../core/alert.js';
import type { AlertConfig as CoreAlertConfig, AlertFilters as CoreAlertFilters } from '../core/alert.js';
import { asRecord, isRecord } from '../core/record.js';
import { describe, httpUrl, nonEmpty, usd } from '../core/schema-parts.js';
import { orList, RULE_KEYS_TEXT, RULES } from '../core/rules/index.js';
import { MAX_TOP, REPORT_WINDOWS } from '../core/report.js';
import { DEFAULT_MODEL_UNIT, MODEL_UNITS, type ModelDefinition } from '../core/models.js';

// zod/mini starts without messages ("Invalid input"); the loader retells most issues itself, and
// uses zod's English text for the rest.
z.config(en());

export const ALERT_NAME_PATTERN = /^[a-z0-9_.-]+$/;
export const WINDOW_PATTERN = /^(day|week|month|[1-9][0-9]*[hd])$/;

export { isCalendarWindow, type AlertGroupBy, type GroupByField, type Severity } from '../core/alert.js';

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

/** `threshold:`, `relative:`, … — one optional key per registered rule kind */
const ruleFields = Object.fromEntries(RULES.map((rule) => [rule.key, z.optional(rule.schema)])) as {
  [Rule in (typeof RULES)[number] as Rule['key']]: z.ZodMiniOptional<Rule['schema']>;
};

/**
 * An alert as written, rule keys all optional: tests build the cases the evaluator refuses from it.
 * The configuration's alerts are `checkedAlertSchema`, which also requires exactly one rule.
 */
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
    ...ruleFields,
    minSpend: describe(z.optional(usd()), 'Noise floor in USD: never fire while spend is below it.'),
    severity: describe(
      z.optional(z.enum(SEVERITIES)),
      'Severity of a single-level threshold (default critical) or a relative or forecast alert (default warning).',
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
    groupBy: describe(
      z.optional(
        z.union([z.enum(GROUP_BY_FIELDS), z.templateLiteral([METADATA_GROUP_PREFIX, z.string()])], {
          error: `must be one of ${GROUP_BY_FIELDS.join(', ')}, or ${METADATA_GROUP_PREFIX}<key>`,
        }),
      ),
      `One series per value of this field; ${METADATA_GROUP_PREFIX}<key> (trace metadata): one series per value listed under \`values\`.`,
    ),
    values: describe(
      z.optional(z.array(nonEmpty()).check(z.minLength(1), z.maxLength(MAX_METADATA_VALUES))),
      `groupBy: ${METADATA_GROUP_PREFIX}<key> only, and required there: the metadata values to watch (1–${MAX_METADATA_VALUES}, distinct), ` +
        'one filtered series each; other values are not watched. Each value is one more filter set (request) per evaluation.',
    ),
    top: describe(
      z._default(z.int().check(z.minimum(1), z.maximum(1000)), 20),
      'groupBy: userId only — how many of the top-spending users to watch.',
    ),
    explain: describe(
      z.optional(z.array(z.enum(GROUP_BY_FIELDS))),
      'What a firing notification lists its top contributors by (3 values each, with spend, share, baseline, change and a ' +
        'Langfuse link); default [model, traceName, userId] less groupBy; [] turns it off. userId costs up to 4 Langfuse ' +
        'requests per firing series, the others none while the hourly rows fit a page.',
    ),
    filters: z.optional(filtersSchema),
    channels: describe(z.array(nonEmpty()).check(z.minLength(1)), 'Names of channels under `channels`.'),
  }),
  `One alert: a window, exactly one rule (${RULE_KEYS_TEXT}) and where to send it.`,
);
export type AlertConfig = CoreAlertConfig;
export type AlertFilters = CoreAlertFilters;

// The core's types (src/core/alert.ts) are what this schema produces, and nothing else.
// (the same keys, and each type assignable to the other: an optional key alone wouldn't stop that)
type Assignable<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
type Same<A, B> = Assignable<A, B> extends true ? Assignable<keyof A, keyof B> : false;
true satisfies Same<z.infer<typeof alertSchema>, CoreAlertConfig>;
true satisfies Same<z.infer<typeof filtersSchema>, CoreAlertFilters>;

/**
 * Exactly one rule key per alert. Checked on any mapping, whatever else is wrong with it, so that
 * every problem is reported at once.
 */
export const checkedAlertSchema = alertSchema.check(
  z.superRefine((alert, ctx) => {
    const present = RULES.filter((rule) => alert[rule.key] !== undefined).map((rule) => rule.key);
    if (present.length === 1) return;
    ctx.addIssue({
      code: 'custom',
      input: alert,
      path: present.length === 0 ? [] : [present[present.length - 1]!],
      message:
        present.length === 0
          ? `needs a rule: ${RULE_KEYS_TEXT}`
          : `an alert has exactly one rule: keep ${orList(present)}, not ${present.length === 2 ? 'both' : 'several'}`,
    });
  }, { when: (payload) => isRecord(payload.value) }),
);

export const digestSchema = describe(
  z.strictObject({
    name: describe(
      z.string().check(z.regex(ALERT_NAME_PATTERN, 'may only contain a-z, 0-9, "-", "_" and "."')),
      'Unique among digests; in the notification id (digest|<name>|<scheduled time>).',
    ),
    schedule: describe(z.string(), 'Cron expression in `timezone`: when the digest is sent.'),
    window: describe(
      z._default(z.enum(REPORT_WINDOWS), '7d'),
      '7d or 30d end at the scheduled time; day, week or month: the last complete period before it.',
    ),
    channels: describe(z.array(nonEmpty()).check(z.minLength(1)), 'Names of channels under `channels`.'),
    top: describe(z._default(z.int().check(z.minimum(1), z.maximum(MAX_TOP)), 5), 'How many models, traces and users each list shows.'),
  }),
  'A spend report sent on a schedule: total and change, the daily trend, top models, traces and users, every budget.',
);
export type DigestConfig = z.infer<typeof digestSchema>;

const modelPrice = (what: string): z.ZodMiniOptional<z.ZodMiniNumber> =>
  describe(z.optional(usd()), `USD per ${what} unit (0: free on purpose).`);

export const modelSchema = describe(
  z.strictObject({
    modelName: describe(nonEmpty(), 'Unique among models; a project model of this name is replaced by apply, and Langfuse prefers it to its own model of the name.'),
    matchPattern: describe(
      nonEmpty(),
      'Regular expression matched against a generation\'s model, such as (?i)^(llama-3-70b-internal)$ (a leading (?i): case-insensitive).',
    ),
    unit: describe(z._default(z.enum(MODEL_UNITS), DEFAULT_MODEL_UNIT), `What the prices are per: ${MODEL_UNITS.join(', ')}.`),
    inputPrice: modelPrice('input'),
    outputPrice: modelPrice('output'),
    totalPrice: describe(z.optional(usd()), 'USD per unit of input and output together; instead of inputPrice/outputPrice, not with them.'),
    startDate: describe(
      z.optional(z.iso.datetime({ offset: true, error: 'must be an ISO 8601 date and time, such as 2026-12-01T00:00:00Z' })),
      'Prices apply to generations after this time only.',
    ),
    tokenizerId: describe(z.optional(nonEmpty()), "Langfuse's tokenizer for generations without usage (openai, claude)."),
  }),
  'A price Langfuse computes cost with: inputPrice/outputPrice or totalPrice (at least one); `spend-alerts models diff|apply` keeps Langfuse in step.',
);
true satisfies Same<z.infer<typeof modelSchema>, ModelDefinition>;

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
  alerts: z.array(checkedAlertSchema).check(z.minLength(1)),
  digests: describe(z._default(z.array(digestSchema), []), 'Spend reports sent on a schedule, each its own message.'),
  degradedAfter: describe(
    z._default(z.int().check(z.minimum(1)), 3),
    'Consecutive failed evaluations (Langfuse, or one channel) before a "monitoring degraded" or "channel failing" notice.',
  ),
  systemChannels: describe(
    z.optional(z.array(nonEmpty()).check(z.minLength(1))),
    "Where the worker's own notices go (degraded, recovered, channel failing); default: every channel that still works.",
  ),
  models: describe(
    z._default(z.array(modelSchema), []),
    'Model prices kept in Langfuse by `spend-alerts models apply`; a model priced at 0 is never reported by an unpriced alert.',
  ),
  costExporter: describe(
    z._default(z.boolean(), false),
    "`run` exports the project's cost and tokens by model and trace name on /metrics (llm_cost_dollars_total, " +
      'llm_tokens_used_total, spend_alerts_window_cost_usd): one more Langfuse request per evaluation.',
  ),
}).register(z.globalRegistry, {
  title: 'langfuse-spend-alerts configuration (alerts.yaml)',
  description:
    'String values may reference the environment: ${VAR}, ${VAR:-default}; $$ is a literal $. ' +
    'Where a number or boolean is expected, a reference that resolves to one is one.',
});
export type Config = z.infer<typeof configSchema>;
