// The delivery phase under faults, over real sockets: a channel that hangs is cut at its own time
// limit and never costs another channel its delivery; the time limits run on an injected timer, so
// a test makes one run out at the moment it chooses instead of waiting for it.
import { afterEach, describe, expect, test } from 'vitest';
import { describePending } from '../../src/cli/commands/status.js';
import type { StartTimer } from '../../src/util/deadline.js';
import { startHarness, type Harness } from '../support/harness.js';
import { spend } from '../support/observations.js';

let harness: Harness | undefined;
afterEach(async () => {
  await harness?.close();
  harness = undefined;
});

const NOW = new Date('2026-11-24T15:00:00.000Z');
const later = (minutes: number) => new Date(NOW.getTime() + minutes * 60_000);

const BUDGET = `
alerts:
  - name: daily-budget
    window: day
    threshold: 50
    channels: [slack-ops, finance-mail, automation]
`;

/** Time limits that run out only when the test says so. */
function manualTimers() {
  const started: Array<{ ms: number; what: string; expire: () => void; cleared: boolean }> = [];
  const startTimer: StartTimer = (ms, expire, what) => {
    const timer = { ms, what, expire, cleared: false };
    started.push(timer);
    return () => {
      timer.cleared = true;
    };
  };
  /** runs out every running limit whose name matches */
  const expire = (what: RegExp): void => {
    const running = started.filter((t) => !t.cleared && what.test(t.what));
    expect(running.length, `a running limit matching ${what}`).toBeGreaterThan(0);
    for (const timer of running) timer.expire();
  };
  return { started, startTimer, expire };
}

const delivered = (h: Harness) => h.slack.requests.filter((r) => r.status === 200);

describe('one hanging channel', () => {
  test('a webhook that never answers: email and Slack delivered, the webhook stays pending with a time-limit error', async () => {
    const timers = manualTimers();
    harness = await startHarness(BUDGET, [spend(later(-60), 60)], { startTimer: timers.startTimer });
    harness.webhook.enqueue({ hang: true });
    const running = harness.check(NOW);
    await harness.webhook.waitForRequests(1);
    timers.expire(/channel automation's/);
    const report = await running;

    expect(harness.smtp.messages).toHaveLength(1);
    expect(delivered(harness)).toHaveLength(1);
    expect(report.deliveryFailures).toEqual([
      { channel: 'automation', notificationIds: [expect.any(String)], error: "webhook: no answer (channel automation's time limit of 30 s ran out)" },
    ]);
    const [entry] = Object.values(report.state.outbox);
    expect(Object.keys(entry!.channels)).toEqual(['automation']);
    expect(entry!.channels['automation']).toMatchObject({ attempts: 1, lastError: expect.stringContaining('time limit of 30 s ran out') });
    expect(entry!.channels['automation']!.claimedBy).toBeUndefined();
    // every channel had its own limit from the policy, inside the phase's
    expect(timers.started.map((t) => [t.ms, t.what]).sort()).toEqual([
      [30_000, "channel automation's time limit of 30 s ran out"],
      [30_000, "channel finance-mail's time limit of 30 s ran out"],
      [30_000, "channel slack-ops's time limit of 30 s ran out"],
      [90_000, "the delivery phase's time limit of 90 s ran out"],
    ]);
    expect(timers.started.every((t) => t.cleared)).toBe(true);
  });

  test('the "channel failing" notice goes out through email and Slack in the same evaluation', async () => {
    const timers = manualTimers();
    harness = await startHarness(BUDGET, [spend(later(-60), 60)], { startTimer: timers.startTimer, policy: { degradedAfter: 1 } });
    harness.webhook.enqueue({ hang: true });
    const running = harness.check(NOW);
    await harness.webhook.waitForRequests(1);
    timers.expire(/channel automation's/);
    const report = await running;

    expect(report.deliveryFailures.map((f) => f.channel)).toEqual(['automation']);
    expect(harness.smtp.messages).toHaveLength(2);
    expect(harness.smtp.messages[1]!.parsed.text).toContain('Channel "automation"');
    expect(delivered(harness)).toHaveLength(2);
    expect(delivered(harness)[1]!.body).toContain('Channel \\"automation\\"');
    // the notice is not sent to the failing channel, which was asked only once
    expect(harness.webhook.requests).toHaveLength(1);
  });

  test('an SMTP server that takes the message and never answers is cut at its limit too', async () => {
    const timers = manualTimers();
    harness = await startHarness(BUDGET, [spend(later(-60), 60)], { startTimer: timers.startTimer });
    const held = harness.smtp.hangNext();
    const running = harness.check(NOW);
    await held;
    timers.expire(/channel finance-mail's/);
    const report = await running;

    expect(delivered(harness)).toHaveLength(1);
    expect(harness.webhook.requests.filter((r) => r.status === 200)).toHaveLength(1);
    expect(report.deliveryFailures).toEqual([
      { channel: 'finance-mail', notificationIds: [expect.any(String)], error: "email: no answer (channel finance-mail's time limit of 30 s ran out)" },
    ]);
  });

  test('the phase limit cancels every channel still delivering and says so', async () => {
    const timers = manualTimers();
    harness = await startHarness(BUDGET, [spend(later(-60), 60)], { startTimer: timers.startTimer, policy: { deliveryBudgetMs: 45_000 } });
    harness.webhook.enqueue({ hang: true });
    harness.slack.enqueue({ hang: true });
    const held = harness.smtp.hangNext();
    const running = harness.check(NOW);
    await Promise.all([harness.webhook.waitForRequests(1), harness.slack.waitForRequests(1), held]);
    timers.expire(/delivery phase/);
    const report = await running;
    expect(report.deliveryFailures.map((f) => [f.channel, f.error])).toEqual([
      ['slack-ops', "slack: no answer (the delivery phase's time limit of 45 s ran out)"],
      ['finance-mail', "email: no answer (the delivery phase's time limit of 45 s ran out)"],
      ['automation', "webhook: no answer (the delivery phase's time limit of 45 s ran out)"],
    ]);
    expect(Object.keys(Object.values(report.state.outbox)[0]!.channels).sort()).toEqual(['automation', 'finance-mail', 'slack-ops']);
  });
});

describe('backoff and Retry-After', () => {
  test("a channel's Retry-After beyond the evaluation's wait is honoured by the next attempt, even by a check that ignores backoff", async () => {
    harness = await startHarness(BUDGET, [spend(later(-60), 60)], { policy: { ignoreBackoff: true } });
    harness.slack.enqueue({ status: 429, headers: { 'retry-after': '3600' }, body: 'rate_limited' });
    const first = await harness.check(NOW);
    expect(first.deliveryFailures[0]!.error).toContain('asked to retry after 3600 s');
    const [entry] = Object.values(first.state.outbox);
    expect(entry!.channels['slack-ops']).toMatchObject({ attempts: 1, nextAttemptAt: later(60).toISOString(), notBefore: later(60).toISOString() });

    await harness.check(later(5));
    expect(harness.slack.requests).toHaveLength(1);
    await harness.check(later(61));
    expect(harness.slack.requests.map((r) => r.status)).toEqual([429, 200]);
  });

  test('a Retry-After: 600 answering the last attempt of an evaluation holds the next evaluation 2 min later; the delivery is sent once after it', async () => {
    harness = await startHarness(BUDGET.replace('slack-ops, finance-mail, automation', 'slack-ops'), [spend(later(-60), 60)]);
    harness.slack.enqueue({ status: 503, body: 'busy' });
    harness.slack.enqueue({ status: 503, body: 'busy' });
    harness.slack.enqueue({ status: 429, headers: { 'retry-after': '600' }, body: 'rate_limited' });
    const first = await harness.check(NOW);
    expect(first.deliveryFailures[0]!.error).toContain('asked to retry after 600 s (after 3 attempts)');
    const [entry] = Object.values(first.state.outbox);
    expect(entry!.channels['slack-ops']).toMatchObject({ attempts: 1, nextAttemptAt: later(10).toISOString(), notBefore: later(10).toISOString() });

    await harness.check(later(2));
    expect(harness.slack.requests.map((r) => r.status)).toEqual([503, 503, 429]);
    const last = await harness.check(later(10));
    expect(harness.slack.requests.map((r) => r.status)).toEqual([503, 503, 429, 200]);
    expect(last.state.outbox).toEqual({});
  });

  test('a webhook answering 429 with Retry-After: 600 is sent none of the other notifications until then, and each once after', async () => {
    const twoAlerts = `
alerts:
  - name: daily-budget
    window: day
    threshold: 50
    channels: [automation]
  - name: daily-watch
    window: day
    threshold: 40
    channels: [automation]
`;
    harness = await startHarness(twoAlerts, [spend(later(-60), 60)]);
    harness.webhook.enqueue({ status: 429, headers: { 'retry-after': '600' }, body: 'rate_limited' });
    const first = await harness.check(NOW);
    expect(harness.webhook.requests).toHaveLength(1);
    const pending = Object.values(first.state.outbox).map((entry) => entry.channels['automation']);
    expect(pending).toEqual([
      expect.objectContaining({ attempts: 1, notBefore: later(10).toISOString() }),
      expect.objectContaining({ attempts: 1, notBefore: later(10).toISOString(), lastError: 'not sent: webhook asked to retry after 600 s' }),
    ]);

    await harness.check(later(2));
    expect(harness.webhook.requests).toHaveLength(1);
    await harness.check(later(10));
    const alerts = harness.webhook.requests.slice(1).map((r) => (JSON.parse(r.body) as { alert: string }).alert);
    expect(alerts.sort()).toEqual(['daily-budget', 'daily-watch']);
  });

  test('a webhook answering 429 with Retry-After: 600 gets no notification decided 2 min later before then; at +10 min both, each once', async () => {
    const twoAlerts = `
alerts:
  - name: daily-budget
    window: day
    threshold: 50
    channels: [automation]
  - name: daily-overrun
    window: day
    threshold: 100
    channels: [automation]
`;
    harness = await startHarness(twoAlerts, [spend(later(-60), 60)]);
    harness.webhook.enqueue({ status: 429, headers: { 'retry-after': '600' }, body: 'rate_limited' });
    const first = await harness.check(NOW);
    expect(first.planned.map((p) => p.notification.alert)).toEqual(['daily-budget']);
    expect(harness.webhook.requests.map((r) => r.status)).toEqual([429]);

    harness.fake.addObservations([spend(later(1), 50)]);
    const second = await harness.check(later(2));
    expect(second.planned.map((p) => p.notification.alert)).toEqual(['daily-overrun']);
    expect(harness.webhook.requests).toHaveLength(1);
    // status says when each will be tried, the one decided after the 429 included
    const waiting = describePending(second.state, later(2)).filter((line) => line.includes('→ automation'));
    expect(waiting).toEqual([
      expect.stringContaining(`next attempt at ${later(10).toISOString()} (the channel asked not to be tried before ${later(10).toISOString()})`),
      expect.stringContaining(`not tried yet; next attempt at ${later(10).toISOString()} (the channel asked not to be tried before ${later(10).toISOString()})`),
    ]);

    const last = await harness.check(later(10));
    const alerts = harness.webhook.requests.slice(1).map((r) => (JSON.parse(r.body) as { alert: string }).alert);
    expect(alerts.sort()).toEqual(['daily-budget', 'daily-overrun']);
    expect(last.state.outbox).toEqual({});
  });

  test('ignoreBackoff (check) tries a pending delivery at once; without it (run) the backoff holds', async () => {
    harness = await startHarness(BUDGET, [spend(later(-60), 60)], { policy: { ignoreBackoff: true } });
    harness.slack.enqueue({ status: 404, body: 'no_service' });
    const first = await harness.check(NOW);
    expect(Object.values(first.state.outbox)[0]!.channels['slack-ops']).toMatchObject({ attempts: 1, nextAttemptAt: later(1).toISOString() });
    const second = await harness.check(later(0.5));
    expect(harness.slack.requests.map((r) => r.status)).toEqual([404, 200]);
    expect(second.state.outbox).toEqual({});
  });
});
