// Runaway traces (`perTrace`), end to end over real sockets: fake Langfuse → evaluation → state →
// Slack / email / webhook receivers.
import { afterEach, describe, expect, test } from 'vitest';
import { startHarness, type Harness } from '../support/harness.js';
import { spend, spendSpread } from '../support/observations.js';
import type { FakeObservation } from '../../tools/fake-langfuse/server.js';

let harness: Harness | undefined;
afterEach(async () => {
  await harness?.close();
  harness = undefined;
});

const NOW = new Date('2026-11-24T15:00:00.000Z');
const hoursAgo = (h: number, from = NOW) => new Date(from.getTime() - h * 3600_000);
const minutes = (m: number, from = NOW) => new Date(from.getTime() + m * 60_000);

/** `usd` over `count` generations of one trace */
function trace(id: string, name: string, userId: string | null, from: Date, to: Date, usd: number, count: number): FakeObservation[] {
  return spendSpread(from, to, usd, count, { traceName: name, userId }).map((o) => ({ ...o, traceId: id }));
}

const metricsRequests = (h: Harness) => h.fake.requests.filter((r) => /\/metrics\/?$/.test(r.path));

interface Body {
  id: string;
  kind: string;
  severity: string;
  group: Record<string, string | null>;
  value: number;
  threshold: number;
  trace: { id: string; name: string | null; userId: string | null };
  traceUrl: string | null;
}
const bodies = (h: Harness) => h.webhook.requests.map((r) => r.json as Body);

const dayAlert = `
alerts:
  - name: runaway
    window: day
    perTrace: { threshold: 10, top: 5 }
    channels: [slack-ops, finance-mail, automation]
`;

describe('perTrace', () => {
  test('names the one trace over the threshold, with its user, cost and link, once; one top-N request per evaluation', async () => {
    harness = await startHarness(dayAlert, [
      ...trace('loop-1', 'research_agent', 'u-dave', hoursAgo(6), hoursAgo(4), 14.5, 30),
      ...trace('ok-1', 'chat', 'u-alice', hoursAgo(5), hoursAgo(1), 9.99, 5),
      ...spendSpread(hoursAgo(8), hoursAgo(1), 40, 20), // many small traces: $40 in all, $2 each
    ]);
    const first = await harness.check(NOW);
    expect(first.planned).toHaveLength(1);
    const [body] = bodies(harness);
    expect(body).toMatchObject({
      kind: 'perTrace',
      severity: 'critical',
      group: { traceId: 'loop-1' },
      value: 14.5,
      threshold: 10,
      trace: { id: 'loop-1', name: 'research_agent', userId: 'u-dave' },
      traceUrl: `${harness.fake.url}/project/${harness.fake.projectId}/traces/loop-1`,
    });
    expect(body!.id).toBe('runaway|traceId=loop-1|2026-11-24T00:00:00Z|critical|firing');
    const slack = harness.slack.requests[0]!.body;
    expect(slack).toContain('research_agent');
    expect(slack).toContain('u-dave');
    expect(slack).toContain('$14.50');
    expect(slack).toContain(`/traces/loop-1|`);
    const mail = harness.smtp.messages[0]!.parsed;
    expect(mail.text).toContain('research_agent');
    expect(mail.html).toContain(`href="${harness.fake.url}/project/${harness.fake.projectId}/traces/loop-1"`);
    // the request cost: one top-N request per alert and evaluation, ranked by Langfuse, never cached
    expect(metricsRequests(harness)).toHaveLength(1);
    expect(metricsRequests(harness)[0]!.query).toMatchObject({
      dimensions: [{ field: 'traceId' }, { field: 'traceName' }, { field: 'userId' }],
      orderBy: [{ field: 'sum_totalCost', direction: 'desc' }],
      config: { row_limit: 5 },
    });

    const second = await harness.check(minutes(15));
    expect(second.planned).toHaveLength(0);
    expect(harness.webhook.requests).toHaveLength(1);
    expect(metricsRequests(harness)).toHaveLength(2);
  });

  test('a hostile trace name and user id are escaped in Slack and email', async () => {
    harness = await startHarness(dayAlert, trace('evil', '<!channel> <https://evil.example|click> *bold*', '@here <b>x</b>', hoursAgo(3), hoursAgo(1), 12, 3));
    await harness.check(NOW);
    const slack = harness.slack.requests[0]!.body;
    expect(slack).not.toContain('<!channel>');
    expect(slack).not.toContain('<https://evil.example|click>');
    expect(slack).toContain('&lt;!channel&gt;');
    expect(slack).not.toMatch(/(^|[^&])@here/);
    const html = harness.smtp.messages[0]!.parsed.html as string;
    expect(html).not.toContain('<b>x</b>');
    expect(html).toContain('&lt;b&gt;x&lt;/b&gt;');
    expect(bodies(harness)[0]!.trace).toEqual({ id: 'evil', name: '<!channel> <https://evil.example|click> *bold*', userId: '@here <b>x</b>' });
  });

  test('calendar windows: a trace notifies once per period; the next day it may fire again', async () => {
    const tomorrow = new Date('2026-11-25T15:00:00.000Z');
    harness = await startHarness(dayAlert, [
      ...trace('loop-2', 'agent', 'u-erin', hoursAgo(5), hoursAgo(2), 11, 10),
      ...trace('loop-2', 'agent', 'u-erin', hoursAgo(5, tomorrow), hoursAgo(2, tomorrow), 12, 10),
    ]);
    expect((await harness.check(NOW)).planned).toHaveLength(1);
    expect((await harness.check(minutes(60))).planned).toHaveLength(0);
    const next = await harness.check(tomorrow);
    expect(next.planned.map((p) => p.notification.id)).toEqual(['runaway|traceId=loop-2|2026-11-25T00:00:00Z|critical|firing']);
  });

  test('rolling windows: notified once while in the window, never resolved, forgotten once out of the window for one window length', async () => {
    const yaml = `
alerts:
  - name: runaway
    window: 1h
    perTrace: { threshold: 5 }
    severity: warning
    channels: [automation]
`;
    const later = minutes(5 * 60);
    harness = await startHarness(yaml, [
      ...trace('loop-3', 'agent', null, minutes(-50), minutes(-10), 6, 8),
      // the same trace id, hours later (a long-lived session trace looping again)
      ...trace('loop-3', 'agent', null, minutes(-50, later), minutes(-10, later), 7, 8),
    ]);
    const first = await harness.check(NOW);
    expect(first.planned.map((p) => p.notification.severity)).toEqual(['warning']);
    expect(bodies(harness)[0]!.trace).toEqual({ id: 'loop-3', name: 'agent', userId: null });
    // still in the window, then out of it: no second notification, no resolved one
    expect((await harness.check(minutes(20))).planned).toHaveLength(0);
    expect((await harness.check(minutes(90))).planned).toHaveLength(0);
    // last read at +20 min: kept until two window lengths after that
    expect((await harness.check(minutes(120))).planned).toHaveLength(0);
    expect(Object.keys((await harness.store.load()).series)).toEqual(['runaway|traceId=loop-3']);
    expect((await harness.check(minutes(141))).planned).toHaveLength(0);
    expect(Object.keys((await harness.store.load()).series)).toEqual([]);
    // forgotten: the trace looping again is news
    const again = await harness.check(later);
    expect(again.planned).toHaveLength(1);
    expect(bodies(harness).map((b) => b.value)).toEqual([6, 7]);
    expect(harness.webhook.requests.every((r) => (r.json as { status: string }).status === 'firing')).toBe(true);
  });
});
