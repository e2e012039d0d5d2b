// The scenarios, end to end over real sockets: fake Langfuse → evaluation → state →
// Slack / email / webhook receivers. `now` is the only thing the tests choose.
import { afterEach, describe, expect, test } from 'vitest';
import { verifySignature } from '../support/webhook-signature.js';
import { SECRETS, startHarness, type Harness } from '../support/harness.js';
import { spend, spendSpread } from '../support/observations.js';

let harness: Harness | undefined;
afterEach(async () => {
  await harness?.close();
  harness = undefined;
});

const NOW = new Date('2026-11-24T15:00:00.000Z');
const hoursAgo = (h: number, from = NOW) => new Date(from.getTime() - h * 3600_000);

type WebhookBody = { id: string; status: string; severity: string; alert: string; group: Record<string, string | null>; value: number; threshold: number; baseline: number | null; factor: number | null };
const webhookBodies = (h: Harness) => h.webhook.requests.map((r) => r.json as WebhookBody);

describe('fixed budget', () => {
  const yaml = `
alerts:
  - name: daily-budget
    window: day
    threshold: 50
    channels: [slack-ops, finance-mail, automation]
`;

  test('fires once across two runs, on every channel', async () => {
    harness = await startHarness(yaml, spendSpread(hoursAgo(10), hoursAgo(1), 61.25, 5));
    const first = await harness.check(NOW);
    expect(first.planned.map((p) => p.notification.severity)).toEqual(['critical']);
    expect(harness.slack.requests).toHaveLength(1);
    expect(harness.smtp.messages).toHaveLength(1);
    expect(webhookBodies(harness)).toHaveLength(1);
    expect(harness.slack.requests[0]!.body).toContain('$61.25');
    expect(harness.smtp.messages[0]!.parsed.subject).toContain('daily-budget');

    const second = await harness.check(new Date(NOW.getTime() + 15 * 60_000));
    expect(second.planned).toHaveLength(0);
    expect(harness.slack.requests).toHaveLength(1);
    expect(harness.smtp.messages).toHaveLength(1);
    expect(harness.webhook.requests).toHaveLength(1);
  });

  test('below budget stays silent', async () => {
    harness = await startHarness(yaml, spendSpread(hoursAgo(10), hoursAgo(1), 49.99, 5));
    const report = await harness.check(NOW);
    expect(report.evaluations[0]!.series[0]!.value).toBeCloseTo(49.99, 6);
    expect(report.planned).toHaveLength(0);
    expect(harness.slack.requests).toHaveLength(0);
    expect(harness.smtp.messages).toHaveLength(0);
  });

  test('exactly at the threshold does not fire (greater than, not equal)', async () => {
    harness = await startHarness(yaml, [spend(hoursAgo(2), 50)]);
    expect((await harness.check(NOW)).planned).toHaveLength(0);
  });

  test('a new day is a new period and fires again', async () => {
    harness = await startHarness(yaml, [spend(hoursAgo(2), 60), spend(hoursAgo(-20), 70)]);
    await harness.check(NOW);
    const nextDay = await harness.check(hoursAgo(-22));
    expect(nextDay.planned).toHaveLength(1);
    expect(webhookBodies(harness).map((b) => b.value)).toEqual([60, 70]);
  });
});

describe('relative spike', () => {
  const yaml = `
alerts:
  - name: daily-spike
    window: day
    relative: { factor: 2, baseline: 7 }
    minSpend: 5
    channels: [automation]
`;
  // Each of the 7 previous days spends $10 by 14:00 and more after; today is measured to 15:00.
  const history = () =>
    Array.from({ length: 7 }, (_, i) => {
      const day = new Date(Date.UTC(2026, 10, 23 - i));
      return [spend(new Date(day.getTime() + 9 * 3600_000), 10), spend(new Date(day.getTime() + 20 * 3600_000), 30)];
    }).flat();

  test('fires at 2.5× the baseline', async () => {
    harness = await startHarness(yaml, [...history(), spend(hoursAgo(3), 25)]);
    const report = await harness.check(NOW);
    const [body] = webhookBodies(harness);
    expect(report.planned).toHaveLength(1);
    expect(body).toMatchObject({ status: 'firing', severity: 'warning', value: 25, threshold: 20, baseline: 10, factor: 2 });
  });

  test('stays silent at 1.5× the baseline', async () => {
    harness = await startHarness(yaml, [...history(), spend(hoursAgo(3), 15)]);
    const report = await harness.check(NOW);
    expect(report.evaluations[0]!.series[0]!.baseline).toBeCloseTo(10, 9);
    expect(report.planned).toHaveLength(0);
  });

  test('without history it is silent', async () => {
    harness = await startHarness(yaml, [spend(hoursAgo(3), 500)]);
    const report = await harness.check(NOW);
    expect(report.evaluations[0]!.series[0]!.baseline).toBeNull();
    expect(report.planned).toHaveLength(0);
  });
});

test('groupBy model names only the model over budget', async () => {
  harness = await startHarness(
    `
alerts:
  - name: model-budget
    window: 24h
    groupBy: model
    threshold: 20
    channels: [automation, slack-ops]
`,
    [spend(hoursAgo(3), 21.25, { model: 'gpt-4o' }), spend(hoursAgo(3), 19, { model: 'claude-sonnet-4-5' }), spend(hoursAgo(30), 50, { model: 'gpt-4o-mini' })],
  );
  await harness.check(NOW);
  const bodies = webhookBodies(harness);
  expect(bodies).toHaveLength(1);
  expect(bodies[0]).toMatchObject({ alert: 'model-budget', group: { model: 'gpt-4o' }, value: 21.25, threshold: 20 });
  expect(harness.slack.requests[0]!.body).toContain('gpt-4o');
  expect(harness.slack.requests[0]!.body).not.toContain('claude');
});

test('filters exclude staging', async () => {
  harness = await startHarness(
    `
alerts:
  - name: prod-budget
    window: day
    threshold: 50
    filters: { environment: production }
    channels: [automation]
`,
    [spend(hoursAgo(3), 40, { environment: 'production' }), spend(hoursAgo(3), 40, { environment: 'staging' })],
  );
  const report = await harness.check(NOW);
  expect(report.evaluations[0]!.series[0]!.value).toBeCloseTo(40, 9);
  expect(harness.webhook.requests).toHaveLength(0);
  const filters = harness.fake.requests.map((r) => (r.query as { filters?: unknown[] } | null)?.filters);
  expect(filters[0]).toEqual([{ column: 'environment', type: 'stringOptions', operator: 'any of', value: ['production'] }]);
});

test('tags and metadata filters reach Langfuse and select the traces', async () => {
  harness = await startHarness(
    `
alerts:
  - name: team-a-auditors
    window: day
    threshold: 10
    filters: { tags: [team-a], metadata: { agent_type: auditor } }
    channels: [automation]
`,
    [
      spend(hoursAgo(3), 11, { tags: ['team-a'], metadata: { agent_type: 'auditor' } }),
      spend(hoursAgo(3), 30, { tags: ['team-b'], metadata: { agent_type: 'auditor' } }),
      spend(hoursAgo(3), 30, { tags: ['team-a'], metadata: { agent_type: 'writer' } }),
    ],
  );
  await harness.check(NOW);
  expect(webhookBodies(harness).map((b) => b.value)).toEqual([11]);
});

test('a timezone: America/New_York day is the New York day', async () => {
  // 2026-11-25T03:00Z is 22:00 on Nov 24 in New York: the New York day began at 05:00Z on Nov 24.
  const now = new Date('2026-11-25T03:00:00.000Z');
  harness = await startHarness(
    `
timezone: America/New_York
alerts:
  - name: daily-budget
    window: day
    threshold: 50
    channels: [automation]
`,
    [spend('2026-11-24T04:30:00Z', 40), spend('2026-11-24T06:00:00Z', 30), spend('2026-11-25T02:00:00Z', 25)],
  );
  const report = await harness.check(now);
  expect(report.evaluations[0]!.series[0]!.value).toBeCloseTo(55, 9);
  const [body] = webhookBodies(harness) as Array<WebhookBody & { window: { from: string; timezone: string } }>;
  expect(body!.window).toMatchObject({ from: '2026-11-24T05:00:00.000Z', timezone: 'America/New_York' });
  expect(body!.id).toContain('2026-11-24T05:00:00Z');
});

test('warning then critical sends two notifications, then nothing', async () => {
  harness = await startHarness(
    `
alerts:
  - name: daily-budget
    window: day
    threshold: { warning: 40, critical: 50 }
    channels: [automation]
`,
    [spend(hoursAgo(5), 45), spend(hoursAgo(-0.5), 10)],
  );
  await harness.check(NOW);
  await harness.check(hoursAgo(-1));
  await harness.check(hoursAgo(-2));
  expect(webhookBodies(harness).map((b) => [b.severity, b.value])).toEqual([
    ['warning', 45],
    ['critical', 55],
  ]);
});

test('crossing warning and critical at once is one critical notification', async () => {
  harness = await startHarness(
    `
alerts:
  - name: daily-budget
    window: day
    threshold: { warning: 40, critical: 50 }
    channels: [automation]
`,
    [spend(hoursAgo(5), 55)],
  );
  await harness.check(NOW);
  await harness.check(hoursAgo(-1));
  expect(webhookBodies(harness).map((b) => b.severity)).toEqual(['critical']);
});

test('a rolling alert resolves once spend falls below resolveBelow × threshold', async () => {
  harness = await startHarness(
    `
alerts:
  - name: hourly-burn
    window: 1h
    threshold: 10
    channels: [automation, slack-ops]
`,
    [spend(hoursAgo(0.5), 12), spend(hoursAgo(-0.8), 9.5), spend(hoursAgo(-1.9), 5)],
  );
  await harness.check(NOW); // $12 in the last hour: firing
  await harness.check(hoursAgo(-1)); // $9.50: below the threshold but above 90% of it: still firing
  await harness.check(hoursAgo(-2.5)); // $5 (the 9.50 left the hour): resolved
  await harness.check(hoursAgo(-3)); // nothing new
  const bodies = webhookBodies(harness);
  expect(bodies.map((b) => [b.status, b.value])).toEqual([
    ['firing', 12],
    ['resolved', 5],
  ]);
  expect(bodies[1]!.id.split('|')[2]).toBe(bodies[0]!.id.split('|')[2]);
  expect(harness.slack.requests.map((r) => r.body.includes('RESOLVED') || r.body.includes('resolved'))).toEqual([false, true]);
});

test('a Slack failure does not repeat the email; Slack gets it at the next evaluation', async () => {
  harness = await startHarness(
    `
alerts:
  - name: daily-budget
    window: day
    threshold: 50
    channels: [slack-ops, finance-mail]
`,
    [spend(hoursAgo(3), 61.25)],
  );
  harness.slack.enqueue({ status: 500 }, { status: 500 }, { status: 500 });
  const first = await harness.check(NOW);
  expect(first.deliveryFailures.map((f) => f.channel)).toEqual(['slack-ops']);
  expect(harness.smtp.messages).toHaveLength(1);
  expect(harness.slack.requests.every((r) => r.status === 500)).toBe(true);

  const second = await harness.check(hoursAgo(-0.25));
  expect(second.deliveryFailures).toHaveLength(0);
  expect(harness.smtp.messages).toHaveLength(1);
  expect(harness.slack.requests.filter((r) => r.status === 200)).toHaveLength(1);
  expect(harness.slack.requests.at(-1)!.body).toContain('daily-budget');

  await harness.check(hoursAgo(-0.5));
  expect(harness.slack.requests.filter((r) => r.status === 200)).toHaveLength(1);
  expect(harness.smtp.messages).toHaveLength(1);
});

test('editing an alert threshold or channels keeps its state: nothing is re-sent', async () => {
  harness = await startHarness(
    `
alerts:
  - name: daily-budget
    window: day
    threshold: 50
    channels: [automation]
`,
    [spend(hoursAgo(3), 61.25)],
  );
  await harness.check(NOW);
  const config = harness.config() as { alerts: Array<{ threshold?: unknown; channels: string[] }> };
  config.alerts[0]!.threshold = 55;
  config.alerts[0]!.channels = ['automation', 'slack-ops'];
  const report = await harness.check(hoursAgo(-0.25));
  expect(report.planned).toHaveLength(0);
  expect(harness.webhook.requests).toHaveLength(1);
  expect(harness.slack.requests).toHaveLength(0);
});

test('webhook requests carry a verifiable signature and one request per notification', async () => {
  harness = await startHarness(
    `
alerts:
  - name: model-budget
    window: 24h
    groupBy: model
    threshold: 1
    channels: [automation, slack-ops]
`,
    [spend(hoursAgo(1), 2, { model: 'gpt-4o' }), spend(hoursAgo(1), 3, { model: 'gpt-4o-mini' }), spend(hoursAgo(1), 4, { model: null })],
  );
  await harness.check(NOW);
  expect(harness.webhook.requests).toHaveLength(3);
  expect(harness.slack.requests).toHaveLength(1);
  for (const request of harness.webhook.requests) {
    expect(
      verifySignature({
        secret: SECRETS.webhookSecret,
        timestamp: String(request.headers['x-spend-alerts-timestamp']),
        signature: String(request.headers['x-spend-alerts-signature']),
        body: request.body,
      }),
    ).toBe(true);
  }
  expect(webhookBodies(harness).map((b) => b.group)).toContainEqual({ model: null });
});
