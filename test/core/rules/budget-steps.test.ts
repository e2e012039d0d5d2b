// Budget steps (`threshold: { budget, steps }`): the evaluation, the dedup per step and period, the
// ids and state keys, the notification in every channel, and the state file that remembers them.
import { describe, expect, it } from 'vitest';
import type { AlertConfig } from '../../../src/config/schema.js';
import { planNotifications } from '../../../src/core/decide/notifications.js';
import { evaluateAlert } from '../../../src/core/evaluate.js';
import { emptyState, parseState, serializeState, StateCorruptError, type SeriesState } from '../../../src/core/ledger.js';
import type { Notification } from '../../../src/core/notification.js';
import { threshold } from '../../../src/core/rules/threshold.js';
import { renderEmail } from '../../../src/render/email.js';
import { renderSlack } from '../../../src/render/slack.js';
import { webhookBody } from '../../../src/render/webhook.js';
import { alert, grouped, NOW, one, total } from '../evaluation.js';

const steps = alert({ name: 'budget', threshold: { budget: 1000, steps: [50, 80, 100] } });

/** One `check`: evaluate the alert on `value` at `now`, then plan against `state`. */
function check(a: AlertConfig, value: number, state: Record<string, SeriesState> = {}, now = NOW, timezone = 'UTC') {
  const series = evaluateAlert(a, { current: total(value), baselines: [] }, { now, timezone });
  const plan = planNotifications({ evaluated: [{ alert: a, series }], series: state, now, timezone, langfuseUrl: 'https://lf/project/p' });
  return { notifications: plan.notifications.map((p) => p.notification), state: plan.series as Record<string, SeriesState> };
}

const later = (minutes: number, from = NOW) => new Date(from.getTime() + minutes * 60_000);

describe('budget steps: the evaluation', () => {
  it('crosses the highest step the spend is over (greater than, not equal)', () => {
    expect(one(steps, 500).breach).toBeNull();
    expect(one(steps, 500).step).toBeUndefined();
    expect(one(steps, 500.01)).toMatchObject({ breach: 'warning', step: { percent: 50, amount: 500, severity: 'warning' } });
    expect(one(steps, 850)).toMatchObject({ breach: 'warning', step: { percent: 80, amount: 800 } });
    expect(one(steps, 1000.5)).toMatchObject({ breach: 'critical', step: { percent: 100, amount: 1000, severity: 'critical' } });
    // each severity's lowest step is its level
    expect(one(steps, 1).levels).toEqual({ warning: 500, critical: 1000 });
  });

  it('orders the steps whatever order they are written in; 100 and above are critical', () => {
    const unordered = alert({ threshold: { budget: 200, steps: [120, 50, 100] } });
    expect(one(unordered, 1).steps?.map((s) => [s.percent, s.amount, s.severity])).toEqual([
      [50, 100, 'warning'],
      [100, 200, 'critical'],
      [120, 240, 'critical'],
    ]);
    expect(one(unordered, 250).step?.percent).toBe(120);
  });

  it('stay silent under minSpend', () => {
    const floored = alert({ threshold: { budget: 10, steps: [50] }, minSpend: 20 });
    expect(one(floored, 15)).toMatchObject({ breach: null, step: undefined });
  });

  it('give every group its own step', () => {
    const perModel = alert({ groupBy: 'model', threshold: { budget: 100, steps: [50, 100] } });
    const series = evaluateAlert(perModel, { current: grouped([['gpt-4o', 120], ['claude', 60], [null, 10]]), baselines: [] }, { now: NOW, timezone: 'UTC' });
    expect(series.map((s) => [s.groupValue, s.step?.percent ?? null])).toEqual([
      ['gpt-4o', 100],
      ['claude', 50],
      [null, null],
    ]);
  });
});

describe('budget steps: notifications', () => {
  it('notify each step once per period, with its own id and state key', () => {
    const first = check(steps, 501);
    expect(first.notifications.map((n) => n.id)).toEqual(['budget|-|2026-11-24T00:00:00Z|warning@50|firing']);
    expect(first.notifications[0]).toMatchObject({ severity: 'warning', step: 50, threshold: 500, value: 501 });

    const again = check(steps, 700, first.state, later(15));
    expect(again.notifications).toEqual([]);

    const eighty = check(steps, 801, again.state, later(30));
    expect(eighty.notifications.map((n) => n.id)).toEqual(['budget|-|2026-11-24T00:00:00Z|warning@80|firing']);
    expect(eighty.notifications[0]).toMatchObject({ severity: 'warning', step: 80, threshold: 800 });

    const hundred = check(steps, 1200, eighty.state, later(45));
    expect(hundred.notifications.map((n) => [n.id, n.severity, n.step, n.threshold])).toEqual([
      ['budget|-|2026-11-24T00:00:00Z|critical@100|firing', 'critical', 100, 1000],
    ]);
    expect(hundred.state['budget|']).toMatchObject({ period: '2026-11-24T00:00:00.000Z', notified: ['warning@50', 'warning@80', 'critical@100'] });

    expect(check(steps, 1300, hundred.state, later(60)).notifications).toEqual([]);
  });

  it('send only the highest step when several are crossed at once; lower steps stay covered', () => {
    const jump = check(steps, 900);
    expect(jump.notifications.map((n) => [n.severity, n.step, n.threshold])).toEqual([['warning', 80, 800]]);
    expect(jump.state['budget|']?.notified).toEqual(['warning@80']);
    // spend corrected down below 80 %: the 50 % step is covered by the 80 % one already sent
    expect(check(steps, 600, jump.state, later(15)).notifications).toEqual([]);

    const all = check(steps, 5000);
    expect(all.notifications.map((n) => n.id)).toEqual(['budget|-|2026-11-24T00:00:00Z|critical@100|firing']);
  });

  it('notify again in the next calendar period of a non-UTC zone (Berlin month, before UTC turns)', () => {
    const monthly = alert({ name: 'budget', window: 'month', threshold: { budget: 1000, steps: [50, 80, 100] } });
    // 2026-11-30 23:30 in Berlin (UTC+1): still November
    const november = check(monthly, 850, {}, new Date('2026-11-30T22:30:00Z'), 'Europe/Berlin');
    expect(november.notifications.map((n) => n.id)).toEqual(['budget|-|2026-10-31T23:00:00Z|warning@80|firing']);
    // 00:30 on 1 December in Berlin, still 30 November in UTC: a new period, every step again
    const december = check(monthly, 600, november.state, new Date('2026-11-30T23:30:00Z'), 'Europe/Berlin');
    expect(december.notifications.map((n) => [n.id, n.step, n.threshold])).toEqual([
      ['budget|-|2026-11-30T23:00:00Z|warning@50|firing', 50, 500],
    ]);
    expect(december.notifications[0]!.window).toMatchObject({ from: '2026-11-30T23:00:00.000Z', timezone: 'Europe/Berlin' });
    expect(december.state['budget|']).toMatchObject({
      period: '2026-11-30T23:00:00.000Z',
      notified: ['warning@50'],
      previous: { period: '2026-10-31T23:00:00.000Z', notified: ['warning@80'] },
    });
    // and 80 % in December is not covered by November's
    expect(check(monthly, 801, december.state, new Date('2026-12-01T10:00:00Z'), 'Europe/Berlin').notifications.map((n) => n.step)).toEqual([80]);
  });

  it("check a closed period once more: late spend sends the steps it crossed, not those already sent", () => {
    const day = check(steps, 600);
    const end = new Date('2026-11-24T23:59:59.999Z');
    const finalPlan = (value: number, state: Record<string, SeriesState>) =>
      planNotifications({
        evaluated: [{ alert: steps, series: evaluateAlert(steps, { current: total(value), baselines: [] }, { now: end, timezone: 'UTC' }), final: true }],
        series: state,
        now: new Date('2026-11-25T00:20:00Z'),
        timezone: 'UTC',
        langfuseUrl: '',
      });
    expect(finalPlan(650, day.state).notifications).toEqual([]);
    const late = finalPlan(850, day.state);
    expect(late.notifications.map((p) => p.notification.id)).toEqual(['budget|-|2026-11-24T00:00:00Z|warning@80|firing']);
    expect(late.series['budget|']?.notified).toEqual(['warning@50', 'warning@80']);
  });

  it('resolve rolling windows below resolveBelow × the lowest step, naming the highest step sent', () => {
    const rolling = alert({ name: 'budget', window: '24h', threshold: { budget: 100, steps: [50, 100] } });
    const fired = check(rolling, 60);
    expect(fired.notifications.map((n) => n.id)).toEqual([`budget|-|${NOW.toISOString().replace('.000', '')}|warning@50|firing`]);
    const critical = check(rolling, 101, fired.state, later(15));
    expect(critical.notifications.map((n) => [n.severity, n.step])).toEqual([['critical', 100]]);
    // 0.9 × $50 = $45: still open at $46
    const hovering = check(rolling, 46, critical.state, later(30));
    expect(hovering.notifications).toEqual([]);
    expect(hovering.state['budget|']?.open).toBe(true);
    const resolved = check(rolling, 44, hovering.state, later(45));
    expect(resolved.notifications.map((n) => [n.id, n.status, n.severity, n.step, n.threshold])).toEqual([
      [`budget|-|${NOW.toISOString().replace('.000', '')}|critical@100|resolved`, 'resolved', 'critical', 100, 100],
    ]);
    // a new episode notifies its steps again
    expect(check(rolling, 70, resolved.state, later(60)).notifications.map((n) => [n.status, n.step])).toEqual([['firing', 50]]);
  });

  it('keep a step state written as a severity by an edited alert: a severity covers the steps of its rank', () => {
    const state: Record<string, SeriesState> = {
      'budget|': {
        alert: 'budget',
        seriesKey: '',
        group: {},
        period: '2026-11-24T00:00:00.000Z',
        notified: ['warning'],
        open: false,
        lastValue: 850,
        updatedAt: NOW.toISOString(),
      },
    };
    expect(check(steps, 850, state).notifications).toEqual([]);
    expect(check(steps, 1001, state).notifications.map((n) => n.step)).toEqual([100]);
  });
});

describe('budget steps: what a notification says', () => {
  const [eighty] = check(steps, 850).notifications as [Notification];

  it('the webhook body keeps severity, adds the step and gives its amount as threshold', () => {
    const body = webhookBody(eighty);
    expect(body).toMatchObject({ id: 'budget|-|2026-11-24T00:00:00Z|warning@80|firing', severity: 'warning', kind: 'threshold', step: 80, threshold: 800, value: 850 });
    expect(Object.keys(body).slice(Object.keys(body).indexOf('factor'), Object.keys(body).indexOf('factor') + 3)).toEqual(['factor', 'step', 'currency']);
    // alerts without steps have no step key
    const [plain] = check(alert({ threshold: 50 }), 60).notifications;
    expect(webhookBody(plain!)).not.toHaveProperty('step');
  });

  it('Slack and email show the step as a share of the budget', () => {
    const slack = JSON.stringify(renderSlack([eighty]));
    expect(slack).toContain('80 % of the $1,000.00 budget');
    expect(slack).toContain('$800.00');
    const email = renderEmail([eighty]);
    expect(email.text).toContain('80 % of the $1,000.00 budget');
    expect(email.html).toContain('80 % of the $1,000.00 budget');
    expect(email.subject).toBe('[WARNING] budget: $850.00 > $800.00');
  });

  it('a fractional step and budget read exactly', () => {
    const [n] = check(alert({ name: 'b', threshold: { budget: 333.33, steps: [33.5] } }), 120).notifications;
    expect(n).toMatchObject({ step: 33.5, threshold: 111.66555 });
    expect(n!.id).toContain('|warning@33.5|firing');
    expect(renderEmail([n!]).text).toContain('33.5 % of the $333.33 budget');
  });
});

describe('budget steps: the state file', () => {
  const withNotified = (notified: unknown[]) => {
    const state = JSON.parse(serializeState(emptyState())) as Record<string, unknown>;
    state['series'] = {
      'budget|': { alert: 'budget', seriesKey: '', group: {}, period: '2026-11-24T00:00:00.000Z', notified, open: false, lastValue: 1, updatedAt: NOW.toISOString() },
    };
    return JSON.stringify(state);
  };

  it('remembers steps next to severities, and files written before steps still read', () => {
    expect(parseState(withNotified(['warning@50', 'critical@100'])).series['budget|']?.notified).toEqual(['warning@50', 'critical@100']);
    expect(parseState(withNotified(['warning', 'critical'])).series['budget|']?.notified).toEqual(['warning', 'critical']);
    expect(parseState(withNotified(['warning@33.5'])).series['budget|']?.notified).toEqual(['warning@33.5']);
  });

  it('refuses a level this build does not write', () => {
    expect(() => parseState(withNotified(['warning@lots']))).toThrow(StateCorruptError);
    expect(() => parseState(withNotified(['urgent@80']))).toThrow(StateCorruptError);
  });
});

describe('budget steps: the rule', () => {
  const findings = (entry: Record<string, unknown>) => threshold.checks.flatMap((check) => check(entry));
  const usd = (amount: number): string => `$${amount}`;

  it('accept 1 to 10 distinct positive steps of a positive budget', () => {
    expect(findings({ threshold: { budget: 1000, steps: [50, 80, 100] } })).toEqual([]);
    expect(findings({ threshold: { budget: 1000, steps: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10] } })).toEqual([]);
    expect(findings({ threshold: { budget: 0, steps: [50] } })).toEqual([{ level: 'error', path: ['threshold', 'budget'], message: 'budget must be greater than 0 (got 0)' }]);
    expect(findings({ threshold: { budget: 10, steps: [] } })).toEqual([{ level: 'error', path: ['threshold', 'steps'], message: 'needs 1 to 10 steps (got 0)' }]);
    expect(findings({ threshold: { budget: 10, steps: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11] } })).toEqual([
      { level: 'error', path: ['threshold', 'steps'], message: 'needs 1 to 10 steps (got 11)' },
    ]);
    expect(findings({ threshold: { budget: 10, steps: [50, 80, 50] } })).toEqual([
      { level: 'error', path: ['threshold', 'steps', 2], message: 'duplicate step 50 (steps[0] has it too); steps must be distinct' },
    ]);
    expect(findings({ threshold: { budget: 10, steps: [-5] } })).toEqual([
      { level: 'error', path: ['threshold', 'steps', 0], message: 'a step is a percent of budget greater than 0 (got -5)' },
    ]);
    expect(findings({ threshold: { budget: 10, steps: [50] }, severity: 'critical' })).toEqual([
      {
        level: 'error',
        path: ['severity'],
        message: 'severity does not go with threshold { budget, steps }: steps under 100 are warning, 100 and above critical',
      },
    ]);
    expect(findings({ threshold: { steps: [50] } })).toEqual([
      { level: 'error', path: ['threshold'], message: 'budget steps need budget: the USD the steps are percents of' },
    ]);
  });

  it('describes itself step by step', () => {
    expect(threshold.describe({ budget: 1000, steps: [100, 50] }, alert({ threshold: 1 }), usd)).toBe(
      'steps of the $1000 budget, each once per period: warning at 50 % ($500), critical at 100 % ($1000)',
    );
  });
});
