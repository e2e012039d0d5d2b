// The webhook body of PRODUCT.md, key for key and in its documented order, so receivers and
// signature checks see exactly what the README shows.
import type { Contributor, MissingContributors, Notification, NotificationKind, NotificationStatus } from '../core/notification.js';
import type { Severity } from '../core/alert.js';

export interface WebhookBody {
  readonly version: '1';
  readonly id: string;
  readonly status: NotificationStatus;
  readonly severity: Severity;
  readonly alert: string;
  readonly kind: NotificationKind;
  readonly group: Readonly<Record<string, string | null>>;
  readonly window: { readonly type: string; readonly from: string; readonly to: string; readonly timezone: string };
  readonly value: number;
  /** null when the rule compares no spend (unpriced) */
  readonly threshold: number | null;
  readonly baseline: number | null;
  readonly factor: number | null;
  /** budget steps: the step, a percent of the budget */
  readonly step?: number;
  /** forecast alerts only */
  readonly forecast?: number;
  readonly share?: number;
  readonly crossesAt?: string | null;
  readonly currency: 'USD';
  readonly evaluatedAt: string;
  readonly langfuseUrl: string;
  /** perTrace only */
  readonly trace?: { readonly id: string; readonly name: string | null; readonly userId: string | null };
  readonly traceUrl?: string | null;
  /** unpriced only: the model's tokens in the window */
  readonly tokens?: { readonly input: number; readonly output: number; readonly total: number };
  /** firing threshold, relative and forecast notifications: the top contributors; every other body: [] */
  readonly contributors: readonly Contributor[];
  /** only when some `explain` dimensions could not be worked out */
  readonly contributorsMissing?: readonly MissingContributors[];
  readonly message?: string;
  readonly test?: true;
  /** present when a retried notification arrives late: when it was first due */
  readonly delayedSince?: string;
}

export function webhookBody(n: Notification): WebhookBody {
  return {
    version: '1',
    id: n.id,
    status: n.status,
    severity: n.severity,
    alert: n.alert,
    kind: n.kind,
    group: { ...n.group },
    window: { type: n.window.type, from: n.window.from, to: n.window.to, timezone: n.window.timezone },
    value: n.value,
    threshold: n.threshold,
    baseline: n.baseline,
    factor: n.factor,
    ...(n.step === undefined ? {} : { step: n.step }),
    ...(n.forecast === undefined ? {} : { forecast: n.forecast, share: n.share, crossesAt: n.crossesAt ?? null }),
    currency: 'USD',
    evaluatedAt: n.evaluatedAt,
    langfuseUrl: n.langfuseUrl,
    ...(n.trace ? { trace: { id: n.trace.id, name: n.trace.name, userId: n.trace.userId }, traceUrl: n.traceUrl ?? null } : {}),
    ...(n.tokens ? { tokens: { input: n.tokens.input, output: n.tokens.output, total: n.tokens.total } } : {}),
    // built key by key: the documented keys in their order, whatever else a stored notification carries
    contributors: (n.contributors ?? []).map((c) => ({
      dimension: c.dimension,
      value: c.value,
      spend: c.spend,
      share: c.share,
      baseline: c.baseline,
      change: c.change,
      url: c.url,
    })),
    ...(n.contributorsMissing?.length
      ? { contributorsMissing: n.contributorsMissing.map((m) => ({ dimension: m.dimension, reason: m.reason })) }
      : {}),
    ...(n.message === undefined ? {} : { message: n.message }),
    ...(n.test ? { test: true as const } : {}),
    ...(n.delayedSince === undefined ? {} : { delayedSince: n.delayedSince }),
  };
}
