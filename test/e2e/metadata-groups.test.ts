// `groupBy: metadata.KEY` with `values`, end to end over real sockets: Langfuse filters on trace
// metadata but can't group by it, so every listed value is a filtered query of its own and a
// series of its own; values not listed are not watched.
import { afterEach, describe, expect, test } from 'vitest';
import { startHarness, type Harness } from '../support/harness.js';
import { spend } from '../support/observations.js';

let harness: Harness | undefined;
afterEach(async () => {
  await harness?.close();
  harness = undefined;
});

const NOW = new Date('2026-11-24T15:00:00.000Z');
const hoursAgo = (h: number, from = NOW) => new Date(from.getTime() - h * 3600_000);
const minutesLater = (m: number) => new Date(NOW.getTime() + m * 60_000);

type WebhookBody = { id: string; status: string; severity: string; alert: string; kind: string; group: Record<string, string | null>; value: number; threshold: number; baseline: number | null };
const webhookBodies = (h: Harness) => h.webhook.requests.map((r) => r.json as WebhookBody);

interface SentFilter {
  column: string;
  type: string;
  key?: string;
  operator: string;
  value: unknown;
}
const metricsRequests = (h: Harness) => h.fake.requests.filter((r) => /\/metrics/.test(r.path));
/** the agent_type each metrics request filtered on (undefined: none) */
const agentTypes = (h: Harness) =>
  metricsRequests(h).map((r) => {
    const filters = ((r.query as { filters?: SentFilter[] } | null)?.filters ?? []).filter((f) => f.column === 'metadata');
    expect(filters.every((f) => f.type === 'stringObject' && f.key === 'agent_type' && f.operator === '=')).toBe(true);
    return filters.map((f) => f.value).join(',') || undefined;
  });

describe('groupBy metadata.agent_type', () => {
  const yaml = `
alerts:
  - name: agent-budget
    window: day
    groupBy: metadata.agent_type
    values: [auditor, writer]
    threshold: 10
    channels: [automation, slack-ops]
`;

  test('one series per listed value, each firing on its own; unlisted values and untagged spend are not watched', async () => {
    harness = await startHarness(yaml, [
      spend(hoursAgo(3), 12, { metadata: { agent_type: 'auditor' } }),
      spend(hoursAgo(2), 5, { metadata: { agent_type: 'writer' } }),
      spend(hoursAgo(2), 50, { metadata: { agent_type: 'retriever' } }),
      spend(hoursAgo(2), 40, { metadata: { team: 'auditor' } }),
      spend(hoursAgo(1), 30),
      // the writer crosses the threshold later in the day
      spend(minutesLater(20), 6, { metadata: { agent_type: 'writer' } }),
    ]);
    const first = await harness.check(NOW);
    const series = first.evaluations[0]!.series;
    expect(series.map((s) => [s.seriesKey, s.value])).toEqual([
      ['metadata.agent_type=auditor', 12],
      ['metadata.agent_type=writer', 5],
    ]);
    expect(webhookBodies(harness)).toEqual([
      expect.objectContaining({
        id: 'agent-budget|metadata.agent_type=auditor|2026-11-24T00:00:00Z|critical|firing',
        alert: 'agent-budget',
        kind: 'threshold',
        group: { 'metadata.agent_type': 'auditor' },
        value: 12,
        threshold: 10,
      }),
    ]);
    const slack = harness.slack.requests.map((r) => r.body).join('\n');
    expect(slack).toContain('metadata.agent_type=auditor');
    expect(slack).not.toContain('writer');
    expect(slack).not.toContain('retriever');

    // Nothing new for the auditor in the same day; the writer fires on its own once over.
    await harness.check(minutesLater(15));
    expect(harness.webhook.requests).toHaveLength(1);
    await harness.check(minutesLater(30));
    expect(webhookBodies(harness).map((b) => [b.id, b.value])).toEqual([
      ['agent-budget|metadata.agent_type=auditor|2026-11-24T00:00:00Z|critical|firing', 12],
      ['agent-budget|metadata.agent_type=writer|2026-11-24T00:00:00Z|critical|firing', 11],
    ]);
    const state = await harness.store.load();
    expect(Object.values(state.series).map((s) => s.group)).toEqual([
      { 'metadata.agent_type': 'auditor' },
      { 'metadata.agent_type': 'writer' },
    ]);
  });

  test('costs one filter set per value: each request filters on exactly one listed value, as many as an ungrouped alert sends', async () => {
    const observations = () => [spend(hoursAgo(3), 1, { metadata: { agent_type: 'auditor' } })];
    // what one filter set costs: the same day alert without groupBy, cold and then warm
    harness = await startHarness(yaml.replace(/\n    groupBy: .*\n    values: .*\n/, '\n'), observations());
    await harness.check(NOW);
    const plainCold = metricsRequests(harness).length;
    await harness.check(minutesLater(15));
    const plainWarm = metricsRequests(harness).length - plainCold;
    expect(agentTypes(harness).every((value) => value === undefined)).toBe(true);
    await harness.close();

    harness = await startHarness(yaml, observations());
    await harness.check(NOW);
    const cold = agentTypes(harness);
    // on the hour with an empty cache: the hourly buckets and the open hour's minutes, per filter set
    expect(plainCold).toBe(2);
    expect(cold.sort()).toEqual(['auditor', 'auditor', 'writer', 'writer']);
    await harness.check(minutesLater(15));
    // warm: one request per filter set per evaluation
    expect(plainWarm).toBe(1);
    expect(agentTypes(harness).slice(cold.length).sort()).toEqual(['auditor', 'writer']);
  });

  test('works with relative alerts: each value against its own baseline', async () => {
    // Each of the 3 previous days: auditor $10 and writer $4 by 14:00; today auditor $25, writer $6.
    const history = Array.from({ length: 3 }, (_, i) => {
      const day = new Date(Date.UTC(2026, 10, 23 - i));
      return [
        spend(new Date(day.getTime() + 9 * 3600_000), 10, { metadata: { agent_type: 'auditor' } }),
        spend(new Date(day.getTime() + 9 * 3600_000), 4, { metadata: { agent_type: 'writer' } }),
      ];
    }).flat();
    harness = await startHarness(
      `
alerts:
  - name: agent-spike
    window: day
    groupBy: metadata.agent_type
    values: [auditor, writer]
    relative: { factor: 2, baseline: 3 }
    channels: [automation]
`,
      [...history, spend(hoursAgo(3), 25, { metadata: { agent_type: 'auditor' } }), spend(hoursAgo(3), 6, { metadata: { agent_type: 'writer' } })],
    );
    const report = await harness.check(NOW);
    expect(report.evaluations[0]!.series.map((s) => [s.groupValue, s.value, s.baseline])).toEqual([
      ['auditor', 25, 10],
      ['writer', 6, 4],
    ]);
    expect(webhookBodies(harness)).toEqual([
      expect.objectContaining({ kind: 'relative', group: { 'metadata.agent_type': 'auditor' }, value: 25, threshold: 20, baseline: 10 }),
    ]);
  });
});

test('hostile metadata values are escaped in Slack and email', async () => {
  const slackBomb = '<!channel> <https://evil.example|click> @here';
  const headerBomb = 'x\r\nBcc: victim@example.com';
  harness = await startHarness(
    `
alerts:
  - name: agent-budget
    window: day
    groupBy: metadata.agent_type
    values: ["${slackBomb}", "x\\r\\nBcc: victim@example.com"]
    threshold: 1
    channels: [slack-ops, finance-mail, automation]
`,
    [spend(hoursAgo(3), 2, { metadata: { agent_type: slackBomb } }), spend(hoursAgo(3), 3, { metadata: { agent_type: headerBomb } })],
  );
  await harness.check(NOW);
  // the webhook carries the values as they are
  expect(webhookBodies(harness).map((b) => b.group)).toEqual([{ 'metadata.agent_type': slackBomb }, { 'metadata.agent_type': headerBomb }]);
  const slack = harness.slack.requests.map((r) => r.body).join('\n');
  expect(slack).not.toContain('<!channel>');
  expect(slack).not.toContain('<https://evil.example');
  expect(slack).toContain('&lt;!channel&gt;');
  expect(harness.smtp.messages).toHaveLength(1);
  const mail = harness.smtp.messages[0]!;
  expect(mail.parsed.header('bcc')).toBeUndefined();
  expect(mail.raw).not.toMatch(/^Bcc:/im);
  expect(mail.parsed.subject).not.toMatch(/[\r\n]/);
  expect(mail.parsed.html).toContain('&lt;!channel&gt;');
  expect(mail.parsed.html).not.toContain('<!channel>');
});
