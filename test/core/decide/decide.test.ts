// decide() and what follows a delivery, on their own: a ledger, evaluations and health in, the
// next ledger, the deliveries to make and the events to log out; every time is an explicit argument.
import { describe, expect, test } from 'vitest';
import { alertSchema, type AlertConfig } from '../../../src/config/schema.js';
import type { SeriesEvaluation } from '../../../src/core/series.js';
import { emptyState, EVALUATIONS_KEPT, type State } from '../../../src/core/ledger.js';
import { decide, decideAfterDelivery, recordEvaluation, type DecideContext, type EvaluatedAlert } from '../../../src/core/decide/index.js';
import { recordOutcome } from '../../../src/core/decide/outbox.js';

const NOW = new Date('2026-11-24T15:00:00.000Z');
const minutes = (n: number, from = NOW) => new Date(from.getTime() + n * 60_000);

const CONTEXT: DecideContext = {
  degradedAfter: 3,
  systemChannels: null,
  lateAfterMs: 15 * 60_000,
  channelBudgetMs: 30_000,
  retryBaseMs: 60_000,
  retryMaxMs: 3_600_000,
  ignoreBackoff: false,
  expireAfterMs: 24 * 3_600_000,
  timezone: 'UTC',
  langfuseUrl: 'https://lf/project/p',
  alerts: ['a'],
  channels: ['slack', 'mail'],
  claim: { by: 'run-1', at: NOW },
};
const at = (now: Date, overrides: Partial<DecideContext> = {}): DecideContext => ({ ...CONTEXT, claim: { by: 'run-1', at: now }, ...overrides });

const ALERT: AlertConfig = alertSchema.parse({ name: 'a', window: '24h', threshold: { warning: 5, critical: 10 }, channels: ['slack'] });

function rolling(value: number, breach: SeriesEvaluation['breach'], now = NOW): SeriesEvaluation {
  return {
    alert: 'a',
    kind: 'threshold',
    groupValue: null,
    seriesKey: '',
    value,
    breach,
    levels: { warning: 5, critical: 10 },
    baseline: null,
    factor: null,
    window: { type: '24h', from: minutes(-24 * 60, now).toISOString(), to: now.toISOString(), timezone: 'UTC' },
    periodStart: null,
    recovered: breach === null && value < 5,
  };
}

const evaluated = (...series: SeriesEvaluation[]): { evaluated: EvaluatedAlert[]; periodChecks: [] } => ({
  evaluated: [{ alert: ALERT, series }],
  periodChecks: [],
});
/** no alert evaluated (Langfuse down, or none due) */
const NOTHING = { evaluated: [], periodChecks: [] };
const HEALTHY_LANGFUSE = { failures: [] };
const LANGFUSE_DOWN = { failures: [{ alert: 'a', error: 'HTTP 503' }] };
const ids = (deliveries: ReadonlyMap<string, readonly { id: string }[]>) =>
  Object.fromEntries([...deliveries].map(([channel, notifications]) => [channel, notifications.map((n) => n.id)]));

describe('dedup and escalation', () => {
  test('a breach notifies once, claimed for this run; the same breach later notifies nothing', () => {
    const first = decide(emptyState(), evaluated(rolling(7, 'warning')), HEALTHY_LANGFUSE, NOW, CONTEXT);
    expect(first.planned.map((p) => [p.notification.severity, p.notification.status])).toEqual([['warning', 'firing']]);
    expect(ids(first.deliveries)).toEqual({ slack: [first.planned[0]!.notification.id] });
    const pending = Object.values(first.ledger.outbox)[0]!.channels['slack']!;
    expect(pending).toMatchObject({ attempts: 0, claimedBy: 'run-1', claimedUntil: minutes(40 / 60).toISOString() });
    expect(first.events).toEqual([]);

    const delivered = recordOutcome(first.ledger, 'slack', { notificationId: first.planned[0]!.notification.id, ok: true }, NOW, CONTEXT);
    const again = decide(delivered, evaluated(rolling(8, 'warning', minutes(5))), HEALTHY_LANGFUSE, minutes(5), at(minutes(5)));
    expect(again.planned).toEqual([]);
    expect(again.deliveries.size).toBe(0);
  });

  test('warning then critical notifies again; critical then warning does not', () => {
    const warning = decide(emptyState(), evaluated(rolling(7, 'warning')), HEALTHY_LANGFUSE, NOW, CONTEXT);
    const critical = decide(warning.ledger, evaluated(rolling(12, 'critical', minutes(5))), HEALTHY_LANGFUSE, minutes(5), at(minutes(5)));
    expect(critical.planned.map((p) => p.notification.severity)).toEqual(['critical']);
    const back = decide(critical.ledger, evaluated(rolling(7, 'warning', minutes(10))), HEALTHY_LANGFUSE, minutes(10), at(minutes(10)));
    expect(back.planned).toEqual([]);
  });

  test('series of an alert no longer configured are forgotten', () => {
    const first = decide(emptyState(), evaluated(rolling(12, 'critical')), HEALTHY_LANGFUSE, NOW, CONTEXT);
    const next = decide(first.ledger, NOTHING, HEALTHY_LANGFUSE, minutes(1), at(minutes(1), { alerts: [] }));
    expect(next.ledger.series).toEqual({});
  });
});

describe('Langfuse health', () => {
  test(`degraded on the ${CONTEXT.degradedAfter}rd failed evaluation in a row, once, to every working channel; recovered on the first success`, () => {
    let ledger: State = emptyState();
    const notices: string[][] = [];
    for (let i = 0; i < 4; i++) {
      const step = decide(ledger, NOTHING, LANGFUSE_DOWN, minutes(i), at(minutes(i)));
      notices.push(step.planned.map((p) => `${p.notification.status} → ${p.channels.join(',')}`));
      ledger = step.ledger;
    }
    expect(notices).toEqual([[], [], ['firing → slack,mail'], []]);
    expect(ledger.langfuse).toMatchObject({ failures: 4, since: NOW.toISOString(), lastError: 'HTTP 503', noticeSent: true });

    const recovered = decide(ledger, evaluated(rolling(1, null, minutes(5))), HEALTHY_LANGFUSE, minutes(5), at(minutes(5)));
    expect(recovered.planned.map((p) => [p.notification.alert, p.notification.status])).toEqual([['spend-alerts', 'resolved']]);
    expect(recovered.ledger.langfuse).toEqual({ failures: 0, since: null, lastError: null, noticeSent: false });
  });

});

describe('the outbox', () => {
  function failedOnce(): { ledger: State; id: string } {
    const first = decide(emptyState(), evaluated(rolling(12, 'critical')), HEALTHY_LANGFUSE, NOW, CONTEXT);
    const id = first.planned[0]!.notification.id;
    return { ledger: recordOutcome(first.ledger, 'slack', { notificationId: id, ok: false, error: 'HTTP 500' }, NOW, CONTEXT), id };
  }

  test('a failed delivery backs off retryBase: not due a millisecond before, due at the moment', () => {
    const { ledger, id } = failedOnce();
    expect(ledger.outbox[id]!.channels['slack']).toEqual({ attempts: 1, nextAttemptAt: minutes(1).toISOString(), lastError: 'HTTP 500' });
    const early = new Date(minutes(1).getTime() - 1);
    expect(decide(ledger, NOTHING, HEALTHY_LANGFUSE, early, at(early)).deliveries.size).toBe(0);
    expect(ids(decide(ledger, NOTHING, HEALTHY_LANGFUSE, minutes(1), at(minutes(1))).deliveries)).toEqual({ slack: [id] });
  });

  test('the backoff doubles per failure up to retryMax', () => {
    let { ledger, id } = failedOnce();
    for (let i = 0; i < 8; i++) ledger = recordOutcome(ledger, 'slack', { notificationId: id, ok: false, error: 'HTTP 500' }, NOW, CONTEXT);
    expect(ledger.outbox[id]!.channels['slack']).toMatchObject({ attempts: 9, nextAttemptAt: minutes(60).toISOString() });
  });

  test("a Retry-After holds even when backoff is ignored (a manual check); the backoff alone doesn't", () => {
    const first = decide(emptyState(), evaluated(rolling(12, 'critical')), HEALTHY_LANGFUSE, NOW, CONTEXT);
    const id = first.planned[0]!.notification.id;
    const backedOff = recordOutcome(first.ledger, 'slack', { notificationId: id, ok: false, error: 'HTTP 500' }, NOW, CONTEXT);
    const ignoring = at(minutes(0.5), { ignoreBackoff: true });
    expect(ids(decide(backedOff, NOTHING, HEALTHY_LANGFUSE, minutes(0.5), ignoring).deliveries)).toEqual({ slack: [id] });
    const asked = recordOutcome(first.ledger, 'slack', { notificationId: id, ok: false, error: 'HTTP 429', retryAfterSeconds: 120 }, NOW, CONTEXT);
    expect(asked.outbox[id]!.channels['slack']).toMatchObject({ notBefore: minutes(2).toISOString(), nextAttemptAt: minutes(2).toISOString() });
    expect(decide(asked, NOTHING, HEALTHY_LANGFUSE, minutes(0.5), ignoring).deliveries.size).toBe(0);
  });

  test("a channel's Retry-After holds a notification decided after the 429 too: not due a millisecond before, due at the moment", () => {
    const first = decide(emptyState(), evaluated(rolling(7, 'warning')), HEALTHY_LANGFUSE, NOW, CONTEXT);
    const a = first.planned[0]!.notification.id;
    const asked = recordOutcome(first.ledger, 'slack', { notificationId: a, ok: false, error: 'HTTP 429', retryAfterSeconds: 600 }, NOW, CONTEXT);
    const second = decide(asked, evaluated(rolling(12, 'critical', minutes(2))), HEALTHY_LANGFUSE, minutes(2), at(minutes(2)));
    const b = second.planned[0]!.notification.id;
    expect(second.planned.map((p) => p.notification.severity)).toEqual(['critical']);
    expect(second.deliveries.size).toBe(0);
    expect(second.ledger.outbox[b]!.channels['slack']).toEqual({ attempts: 0, nextAttemptAt: minutes(10).toISOString(), notBefore: minutes(10).toISOString() });
    const early = new Date(minutes(10).getTime() - 1);
    expect(decide(second.ledger, NOTHING, HEALTHY_LANGFUSE, early, at(early)).deliveries.size).toBe(0);
    expect(decide(second.ledger, NOTHING, HEALTHY_LANGFUSE, early, at(early, { ignoreBackoff: true })).deliveries.size).toBe(0);
    expect(ids(decide(second.ledger, NOTHING, HEALTHY_LANGFUSE, minutes(10), at(minutes(10))).deliveries)).toEqual({ slack: [a, b] });
  });

  test("a channel's Retry-After holds a delivery already pending whose own backoff ends sooner", () => {
    const first = decide(emptyState(), evaluated(rolling(7, 'warning')), HEALTHY_LANGFUSE, NOW, CONTEXT);
    const a = first.planned[0]!.notification.id;
    const backedOff = recordOutcome(first.ledger, 'slack', { notificationId: a, ok: false, error: 'HTTP 500' }, NOW, CONTEXT);
    const second = decide(backedOff, evaluated(rolling(12, 'critical', minutes(0.5))), HEALTHY_LANGFUSE, minutes(0.5), at(minutes(0.5)));
    const b = second.planned[0]!.notification.id;
    expect(ids(second.deliveries)).toEqual({ slack: [b] });
    const asked = recordOutcome(second.ledger, 'slack', { notificationId: b, ok: false, error: 'HTTP 429', retryAfterSeconds: 600 }, minutes(0.5), CONTEXT);
    expect(asked.outbox[a]!.channels['slack']!.nextAttemptAt).toBe(minutes(1).toISOString());
    expect(decide(asked, NOTHING, HEALTHY_LANGFUSE, minutes(1), at(minutes(1))).deliveries.size).toBe(0);
    const early = new Date(minutes(10.5).getTime() - 1);
    expect(decide(asked, NOTHING, HEALTHY_LANGFUSE, early, at(early)).deliveries.size).toBe(0);
    expect(ids(decide(asked, NOTHING, HEALTHY_LANGFUSE, minutes(10.5), at(minutes(10.5))).deliveries)).toEqual({ slack: [a, b] });
  });

  test("the summary of a notification expired while its channel waits for a Retry-After waits for it too", () => {
    const first = decide(emptyState(), evaluated(rolling(12, 'critical')), HEALTHY_LANGFUSE, NOW, CONTEXT);
    const id = first.planned[0]!.notification.id;
    const asked = recordOutcome(first.ledger, 'slack', { notificationId: id, ok: false, error: 'HTTP 429', retryAfterSeconds: 2 * 3600 }, minutes(23 * 60), CONTEXT);
    const expiry = minutes(24 * 60);
    const expired = decide(asked, NOTHING, HEALTHY_LANGFUSE, expiry, at(expiry));
    expect(expired.planned.map((p) => p.notification.alert)).toEqual(['spend-alerts']);
    expect(expired.deliveries.size).toBe(0);
    const early = new Date(minutes(25 * 60).getTime() - 1);
    expect(decide(expired.ledger, NOTHING, HEALTHY_LANGFUSE, early, at(early)).deliveries.size).toBe(0);
    expect(ids(decide(expired.ledger, NOTHING, HEALTHY_LANGFUSE, minutes(25 * 60), at(minutes(25 * 60))).deliveries)).toEqual({ slack: [expired.planned[0]!.notification.id] });
  });

  test("another process's claim is left to it, said in an event, until it lapses", () => {
    const first = decide(emptyState(), evaluated(rolling(12, 'critical')), HEALTHY_LANGFUSE, NOW, CONTEXT);
    const claimedUntil = Object.values(first.ledger.outbox)[0]!.channels['slack']!.claimedUntil!;
    const other = (now: Date) => decide(first.ledger, NOTHING, HEALTHY_LANGFUSE, now, { ...at(now), claim: { by: 'run-2', at: now } });
    const held = other(new Date(Date.parse(claimedUntil)));
    expect(held.deliveries.size).toBe(0);
    expect(held.events).toEqual([{ level: 'warn', fields: { claimed: 1, until: claimedUntil }, message: `1 deliveries are claimed by another process until ${claimedUntil}: left to it` }]);
    const lapsed = other(new Date(Date.parse(claimedUntil) + 1));
    expect(lapsed.deliveries.get('slack')).toHaveLength(1);
    expect(lapsed.events).toEqual([]);
  });

  test('a delivery to a channel no longer configured is dropped, and said so', () => {
    const first = decide(emptyState(), evaluated(rolling(12, 'critical')), HEALTHY_LANGFUSE, NOW, CONTEXT);
    const later = minutes(60);
    const step = decide(first.ledger, NOTHING, HEALTHY_LANGFUSE, later, at(later, { channels: ['mail'] }));
    expect(step.ledger.outbox).toEqual({});
    expect(step.events.map((e) => e.message)).toEqual([expect.stringMatching(/^channel slack is no longer configured/)]);
  });

  test('expireAfter past a rolling notification: one summary replaces it, not a millisecond before', () => {
    const { ledger } = failedOnce();
    const expiry = minutes(24 * 60);
    const before = new Date(expiry.getTime() - 1);
    expect(decide(ledger, NOTHING, HEALTHY_LANGFUSE, before, at(before)).events).toEqual([]);
    const step = decide(ledger, NOTHING, HEALTHY_LANGFUSE, expiry, at(expiry));
    expect(step.planned.map((p) => [p.notification.alert, p.notification.message?.slice(0, 40), p.channels])).toEqual([
      ['spend-alerts', '1 notification(s) could not be delivered', ['slack']],
    ]);
    expect(step.events.map((e) => e.message)).toEqual(['1 notification(s) for slack expired undelivered; a summary replaces them']);
    expect(ids(step.deliveries)).toEqual({ slack: [step.planned[0]!.notification.id] });
  });
});

describe('after delivery: channel health', () => {
  test('a channel failing degradedAfter times is reported through the others, claimed at once; its recovery to all', () => {
    let ledger: State = emptyState();
    const failure = { deliveries: [{ channel: 'slack', channelType: 'slack', notificationId: 'n', ok: false }], failures: [{ channel: 'slack', notificationIds: ['n'], error: 'HTTP 404' }] };
    const planned: string[][] = [];
    for (let i = 0; i < 3; i++) {
      const step = decideAfterDelivery(ledger, failure, minutes(i), at(minutes(i)));
      planned.push(step.planned.map((p) => `${p.notification.status} → ${p.channels.join(',')}`));
      if (i === 2) expect(ids(step.deliveries)).toEqual({ mail: [step.planned[0]!.notification.id] });
      ledger = step.ledger;
    }
    expect(planned).toEqual([[], [], ['firing → mail']]);
    const ok = { deliveries: [{ channel: 'slack', channelType: 'slack', notificationId: 'n', ok: true }], failures: [] };
    const recovered = decideAfterDelivery(ledger, ok, minutes(5), at(minutes(5)));
    expect(recovered.planned.map((p) => `${p.notification.status} → ${p.channels.join(',')}`)).toEqual(['resolved → slack,mail']);
    expect(recovered.ledger.channels).toEqual({});
  });
});

test('recordEvaluation stamps the summary with now', () => {
  const summary = { ok: true, alertsEvaluated: 1, firing: 0, notificationsSent: 0, errors: [] };
  expect(recordEvaluation(emptyState(), summary, NOW).evaluations).toEqual([{ at: NOW.toISOString(), ...summary }]);
});

test('recordEvaluation keeps the last EVALUATIONS_KEPT evaluations, newest first', () => {
  const summary = (firing: number) => ({ ok: true, alertsEvaluated: 1, firing, notificationsSent: 0, errors: [] });
  let ledger = emptyState();
  for (let i = 0; i < EVALUATIONS_KEPT + 3; i += 1) ledger = recordEvaluation(ledger, summary(i), new Date(NOW.getTime() + i * 60_000));
  expect(ledger.evaluations).toHaveLength(EVALUATIONS_KEPT);
  expect(ledger.evaluations.map((e) => e.firing)).toEqual(Array.from({ length: EVALUATIONS_KEPT }, (_, i) => EVALUATIONS_KEPT + 2 - i));
});
