// What the worker remembers between evaluations: per series, what was already notified for its
// current period; per notification, which channels still have to accept it. Keyed by alert name
// and series so that editing an alert's threshold or channels neither resurrects nor loses it.
import * as z from 'zod/mini';
import { GROUP_BY_FIELDS, SEVERITIES, type Severity } from './alert.js';
import { RULE_KEYS } from './rules/index.js';
import type { Notification } from './notification.js';
import { isRecord } from './record.js';

export const STATE_VERSION = 4;

/** How many evaluations the state remembers (the status page lists them). */
export const EVALUATIONS_KEPT = 20;

/**
 * What a series notifies once per period: a severity, or for budget steps (threshold { budget,
 * steps }) a step with its severity, `warning@80`.
 */
export type DedupLevel = Severity | `${Severity}@${number}`;

export interface NotifiedPeriod {
  /** calendar: ISO start of the period; rolling: ISO time the episode started */
  readonly period: string;
  /** dedup levels already notified in it */
  readonly notified: readonly DedupLevel[];
}

export interface SeriesState extends NotifiedPeriod {
  readonly alert: string;
  readonly seriesKey: string;
  /** {} without groupBy, else {field: value} */
  readonly group: Readonly<Record<string, string | null>>;
  /** rolling windows: an episode is open (firing, not yet resolved) */
  readonly open: boolean;
  readonly lastValue: number;
  readonly updatedAt: string;
  /** calendar windows: the period before this one, for its final check once late data is in */
  readonly previous?: NotifiedPeriod;
}

/** One channel that has not accepted a notification yet. */
export interface PendingDelivery {
  /** failed attempts so far */
  readonly attempts: number;
  /** not retried before this time (backoff) */
  readonly nextAttemptAt: string;
  readonly lastError?: string;
  /** the peer asked (Retry-After) not to be tried before this time: every delivery to the channel waits for it, even in a `check` */
  readonly notBefore?: string;
  /** a process that is sending it right now, and until when that claim holds */
  readonly claimedBy?: string;
  readonly claimedUntil?: string;
}

export interface OutboxEntry {
  readonly notification: Notification;
  readonly createdAt: string;
  /** 24 h after the notification's period ended: then it is summarised instead of sent; null: never */
  readonly expiresAt: string | null;
  /** channels that have not accepted it yet */
  readonly channels: Readonly<Record<string, PendingDelivery>>;
}

export interface EvaluationRecord {
  readonly at: string;
  readonly ok: boolean;
  readonly alertsEvaluated: number;
  readonly firing: number;
  readonly notificationsSent: number;
  readonly errors: readonly string[];
}

/** A peer (Langfuse, or one channel) that keeps failing: what we told people about it. */
export interface PeerHealth {
  /** consecutive evaluations that failed */
  readonly failures: number;
  readonly since: string | null;
  readonly lastError: string | null;
  /** a "degraded" notice was sent and no "recovered" yet */
  readonly noticeSent: boolean;
}

/**
 * Why the request budget refused an evaluation: `rate-limited` — Langfuse answered 429 and its
 * Retry-After hasn't passed; `limit` — the hour or day is used up; `pace` — within the limit, but
 * ahead of the even spread.
 */
export type Refusal = 'rate-limited' | 'limit' | 'pace';

/** An evaluation the daemon skipped to stay within the Langfuse request budget. */
export interface Deferral {
  readonly at: string;
  /** `pace` or `limit`: the budget stretched the schedule; `rate-limited`: Langfuse's 429 pause */
  readonly kind: Refusal;
  /** the earliest time the budget allows the next evaluation */
  readonly retryAt: string;
  readonly reason: string;
}

export interface State {
  readonly version: typeof STATE_VERSION;
  readonly series: Readonly<Record<string, SeriesState>>;
  readonly outbox: Readonly<Record<string, OutboxEntry>>;
  /** the last EVALUATIONS_KEPT evaluations, newest first */
  readonly evaluations: readonly EvaluationRecord[];
  /** resolved once from GET /api/public/projects, for links; keyed by base URL + public key */
  readonly projects: Readonly<Record<string, string>>;
  readonly langfuse: PeerHealth;
  readonly channels: Readonly<Record<string, PeerHealth>>;
  /** per calendar alert: ISO start of the last period whose final value was checked */
  readonly finalized: Readonly<Record<string, string>>;
  /** the daemon's last deferral by the request budget; absent until there was one */
  readonly lastDeferral?: Deferral;
  /** per digest name: the last scheduled time (ISO) it was sent for, so each is sent once */
  readonly digests: Readonly<Record<string, string>>;
}

export const HEALTHY: PeerHealth = { failures: 0, since: null, lastError: null, noticeSent: false };

export function emptyState(): State {
  return {
    version: STATE_VERSION,
    series: {},
    outbox: {},
    evaluations: [],
    projects: {},
    langfuse: HEALTHY,
    channels: {},
    finalized: {},
    digests: {},
  };
}

export function seriesStateKey(alert: string, seriesKey: string): string {
  return `${alert}|${seriesKey}`;
}

/** Forgets series of alerts that no longer exist: a renamed alert is a new one. */
export function pruneRemovedAlerts(
  series: Readonly<Record<string, SeriesState>>,
  alertNames: ReadonlySet<string>,
): Record<string, SeriesState> {
  return Object.fromEntries(Object.entries(series).filter(([, value]) => alertNames.has(value.alert)));
}

/** The file is damaged: it can be moved aside and the worker can start afresh. */
export class StateCorruptError extends Error {
  override name = 'StateCorruptError';
}

/** The file is intact but of a version this build doesn't know: moving it aside would lose it. */
export class StateVersionError extends Error {
  override name = 'StateVersionError';
}

// The shape of the file, exactly: strict objects, so a field this build doesn't write is a file it
// can't trust, and is moved aside like unreadable JSON rather than half read (an outbox entry
// without its notification would crash `status`; a series map of the wrong type would re-send
// everything as if nothing had been notified).
const isoString = z.string();
// a step (`warning@80`) is a level too: files written before budget steps existed stay valid
const severities = z.array(z.union([z.enum(SEVERITIES), z.templateLiteral([z.enum(SEVERITIES), '@', z.number()])]));
const group = z.record(z.string(), z.nullable(z.string()));

const notifiedPeriodFields = { period: isoString, notified: severities };
const notifiedPeriodSchema = z.strictObject(notifiedPeriodFields);
const seriesStateSchema = z.strictObject({
  ...notifiedPeriodFields,
  alert: z.string(),
  seriesKey: z.string(),
  group,
  open: z.boolean(),
  lastValue: z.number(),
  updatedAt: isoString,
  previous: z.optional(notifiedPeriodSchema),
});
const pendingDeliverySchema = z.strictObject({
  attempts: z.number(),
  nextAttemptAt: isoString,
  lastError: z.optional(z.string()),
  notBefore: z.optional(isoString),
  claimedBy: z.optional(z.string()),
  claimedUntil: z.optional(isoString),
});
const nullableName = z.nullable(z.string());
const reportSchema = z.strictObject({
  window: z.strictObject({ from: isoString, to: isoString, timezone: z.string() }),
  currency: z.literal('USD'),
  total: z.number(),
  previousTotal: z.number(),
  daily: z.array(z.strictObject({ date: z.string(), cost: z.number() })),
  byModel: z.array(z.strictObject({ model: nullableName, cost: z.number(), inputTokens: z.number(), outputTokens: z.number() })),
  byTraceName: z.array(z.strictObject({ traceName: nullableName, cost: z.number() })),
  byEnvironment: z.array(z.strictObject({ environment: nullableName, cost: z.number() })),
  topTraces: z.array(z.strictObject({ traceId: z.string(), traceName: nullableName, userId: nullableName, cost: z.number() })),
  topUsers: z.array(z.strictObject({ userId: nullableName, cost: z.number() })),
  budgets: z.array(
    z.strictObject({ alert: z.string(), group, window: z.string(), spend: z.number(), threshold: z.number(), forecast: z.nullable(z.number()) }),
  ),
});
const notificationWindowSchema = z.strictObject({ type: z.string(), from: isoString, to: isoString, timezone: z.string() });
const notificationSchema = z.strictObject({
  id: z.string(),
  status: z.enum(['firing', 'resolved']),
  severity: z.enum(SEVERITIES),
  alert: z.string(),
  kind: z.enum([...RULE_KEYS, 'system', 'digest']),
  group,
  window: notificationWindowSchema,
  value: z.number(),
  threshold: z.nullable(z.number()),
  baseline: z.nullable(z.number()),
  factor: z.nullable(z.number()),
  step: z.optional(z.number()),
  forecast: z.optional(z.number()),
  share: z.optional(z.number()),
  crossesAt: z.optional(z.nullable(isoString)),
  evaluatedAt: isoString,
  langfuseUrl: z.string(),
  trace: z.optional(z.strictObject({ id: z.string(), name: z.nullable(z.string()), userId: z.nullable(z.string()) })),
  traceUrl: z.optional(z.nullable(z.string())),
  tokens: z.optional(z.strictObject({ input: z.number(), output: z.number(), total: z.number() })),
  contributors: z.optional(
    z.array(
      z.strictObject({
        dimension: z.enum(GROUP_BY_FIELDS),
        value: z.nullable(z.string()),
        spend: z.number(),
        share: z.number(),
        baseline: z.nullable(z.number()),
        change: z.nullable(z.number()),
        url: z.nullable(z.string()),
      }),
    ),
  ),
  contributorsMissing: z.optional(z.array(z.strictObject({ dimension: z.enum(GROUP_BY_FIELDS), reason: z.string() }))),
  message: z.optional(z.string()),
  test: z.optional(z.boolean()),
  digest: z.optional(z.strictObject({ name: z.string(), scheduledFor: isoString, report: reportSchema })),
  delayedSince: z.optional(isoString),
});
const outboxEntrySchema = z.strictObject({
  notification: notificationSchema,
  createdAt: isoString,
  expiresAt: z.nullable(isoString),
  channels: z.record(z.string(), pendingDeliverySchema),
});
const evaluationRecordSchema = z.strictObject({
  at: isoString,
  ok: z.boolean(),
  alertsEvaluated: z.number(),
  firing: z.number(),
  notificationsSent: z.number(),
  errors: z.array(z.string()),
});
const peerHealthFields = { failures: z.number(), since: z.nullable(isoString), lastError: z.nullable(z.string()), noticeSent: z.boolean() };
const deferralSchema = z.strictObject({
  at: isoString,
  kind: z.enum(['rate-limited', 'limit', 'pace'] satisfies Refusal[]),
  retryAt: isoString,
  reason: z.string(),
});
const stateSchema = z.strictObject({
  version: z.literal(STATE_VERSION),
  series: z.record(z.string(), seriesStateSchema),
  outbox: z.record(z.string(), outboxEntrySchema),
  evaluations: z.array(evaluationRecordSchema),
  projects: z.record(z.string(), z.string()),
  langfuse: z.strictObject(peerHealthFields),
  channels: z.record(z.string(), z.strictObject(peerHealthFields)),
  finalized: z.record(z.string(), isoString),
  lastDeferral: z.optional(deferralSchema),
  digests: z.record(z.string(), isoString),
});

/** The schema and the State type describe the same file: a change to one that isn't made to the other fails to compile. */
type SameShape<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const stateSchemaMatchesState: SameShape<Fields<z.infer<typeof stateSchema>>, Fields<State>> = true;
void stateSchemaMatchesState;
/** Every field made required and mutable, so that an optional field missing on one side is a difference too. */
type Fields<T> = T extends readonly (infer U)[] ? Fields<U>[] : T extends object ? { -readonly [K in keyof T]-?: Fields<T[K]> } : T;

/**
 * Field names of the file: a problem's location is printed with them, and with `*` for the keys of
 * maps (series keys, notification ids, groups), which carry traced values such as model and user
 * names that have no place in a terminal or a log line.
 */
const FIELD_NAMES: ReadonlySet<string> = new Set(
  [stateSchema, seriesStateSchema, pendingDeliverySchema, deferralSchema, notificationWindowSchema, notificationSchema, outboxEntrySchema, evaluationRecordSchema, stateSchema.shape.langfuse].flatMap((schema) => Object.keys(schema.shape)),
);

/**
 * How a state file of an older version becomes one of the next: entry i turns version i + 1 into
 * i + 2, and STATE_VERSION is one more than the entries. A migration takes the file as it was
 * written (it is checked only after the last one) and must not throw: a field it can't make sense
 * of is left for the schema to refuse.
 */
export type Migration = (data: Record<string, unknown>) => Record<string, unknown>;
export const STATE_MIGRATIONS: readonly Migration[] = [
  /**
   * 1 → 2: "Langfuse asked to wait until" is kept once, by the request quota (langfuse-budget.json),
   * which recorded every such pause too: the copy in `langfuse.blockedUntil` is dropped.
   */
  (data) => {
    const langfuse = data['langfuse'];
    if (!isRecord(langfuse)) return data;
    const { blockedUntil: _dropped, ...health } = langfuse;
    return { ...data, langfuse: health };
  },
  /** 2 → 3: the last evaluation becomes the first of the evaluations kept (the status page lists them). */
  (data) => {
    if (!('lastEvaluation' in data)) return data;
    const { lastEvaluation, ...rest } = data;
    return { ...rest, evaluations: lastEvaluation === null ? [] : [lastEvaluation] };
  },
  /** 3 → 4: digests record the last scheduled time each was sent for; none was sent before. */
  (data) => ({ ...data, digests: {} }),
];

/** Brings `data` of `version` up to the version the migrations end at; older than the first one, or newer, is refused. */
export function migrate(data: Record<string, unknown>, migrations: readonly Migration[]): Record<string, unknown> {
  const target = migrations.length + 1;
  const version = data['version'];
  if (typeof version !== 'number' || !Number.isInteger(version) || version < 1 || version > target) {
    throw new StateVersionError(
      `the state file has version ${String(version)}; this build reads version ${target} ` +
        '(after a downgrade, restore the state directory of this version or move the file away)',
    );
  }
  let migrated = data;
  for (let from = version; from < target; from += 1) migrated = { ...migrations[from - 1]!(migrated), version: from + 1 };
  return migrated;
}

export function parseState(text: string): State {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch {
    throw new StateCorruptError('the state file is not valid JSON');
  }
  if (!isRecord(data)) {
    throw new StateCorruptError('the state file is not a JSON object');
  }
  const parsed = z.safeParse(stateSchema, migrate(data, STATE_MIGRATIONS));
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const where = issue.path.map((key) => (typeof key === 'number' || FIELD_NAMES.has(String(key)) ? String(key) : '*')).join('.');
    throw new StateCorruptError(`the state file is not of the expected shape: ${where || 'the whole file'}: ${shapeProblem(issue)}`);
  }
  return parsed.data;
}

/** The file's text: indented, so that a person can read it. */
export function serializeState(state: State): string {
  return JSON.stringify(state, null, 2) + '\n';
}

/** zod's description of a problem, without the offending value (it may be a traced one). */
function shapeProblem(issue: z.core.$ZodIssue): string {
  switch (issue.code) {
    case 'invalid_type':
      return `expected ${issue.expected}`;
    case 'unrecognized_keys':
      return `unknown field${issue.keys.length === 1 ? '' : 's'} ${issue.keys.map((key) => (FIELD_NAMES.has(key) ? key : '*')).join(', ')}`;
    default:
      return 'not a value this build writes';
  }
}
