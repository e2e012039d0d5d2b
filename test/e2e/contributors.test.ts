// Why it fired, end to end over real sockets: the fake Langfuse with a known day → evaluation →
// top contributors in the webhook body, Slack and email; and what they cost in Langfuse requests
// (nothing when nothing fires; within PRODUCT.md's figures when something does).
import { afterEach, describe, expect, test } from 'vitest';
import { startHarness, type Harness } from '../support/harness.js';
import { spend } from '../support/observations.js';
import type { FakeObservation } from '../../tools/fake-langfuse/server.js';

let harness: Harness | undefined;
afterEach(async () => {
  await harness?.close();
  harness = undefined;
});

const NOW = new Date('2026-11-24T15:00:00.000Z');
const hoursAgo = (hours: number) => new Date(NOW.getTime() - hours * 3_600_000);

const alertYaml = (rule: string, extra = '') => `
alerts:
  - name: daily
    window: day
    ${rule}
    channels: [slack-ops, finance-mail, automation]
${extra}`;

type Contributor = { dimension: string; value: string | null; spend: number; share: number; baseline: number | null; change: number | null; url: string | null };
type Body = { id: string; status: string; contributors: Contributor[]; contributorsMissing?: { dimension: string; reason: string }[] };
const bodies = (h: Harness) => h.webhook.requests.map((r) => r.json as Body);
const row = (c: Contributor) => [c.dimension, c.value, c.spend, c.baseline, c.change];

// Today (UTC day, to 15:00): $58 — gpt-4o $40 (research_agent by u-dave $30, chat by u-erin $10),
// claude-3 $12 (chat, u-erin), cheap $5 (summarize, u-fred), small $1 (tiny, u-gus).
// Yesterday to 15:00: gpt-4o chat u-erin $8, claude-3 chat u-erin $4; after 15:00 a $100 run
// (research_agent, u-dave) that the baseline, measured to the same point, leaves out.
const DAY: FakeObservation[] = [
  spend(hoursAgo(5), 30, { model: 'gpt-4o', traceName: 'research_agent', userId: 'u-dave' }),
  spend(hoursAgo(4), 10, { model: 'gpt-4o', traceName: 'chat', userId: 'u-erin' }),
  spend(hoursAgo(3), 12, { model: 'claude-3', traceName: 'chat', userId: 'u-erin' }),
  spend(hoursAgo(2), 5, { model: 'cheap', traceName: 'summarize', userId: 'u-fred' }),
  spend(hoursAgo(1), 1, { model: 'small', traceName: 'tiny', userId: 'u-gus' }),
  spend(hoursAgo(30), 8, { model: 'gpt-4o', traceName: 'chat', userId: 'u-erin' }),
  spend(hoursAgo(29), 4, { model: 'claude-3', traceName: 'chat', userId: 'u-erin' }),
  spend(hoursAgo(19), 100, { model: 'gpt-4o', traceName: 'research_agent', userId: 'u-dave' }),
];

describe('top contributors', () => {
  test('a firing threshold lists the top 3 per dimension with spend, share, baseline, change and a link', async () => {
    harness = await startHarness(alertYaml('threshold: 50'), DAY);
    await harness.check(NOW);
    const [body] = bodies(harness);
    expect(body!.status).toBe('firing');
    expect(body!.contributors.map(row)).toEqual([
      ['model', 'gpt-4o', 40, 8, 32],
      ['model', 'claude-3', 12, 4, 8],
      ['model', 'cheap', 5, 0, 5],
      ['traceName', 'research_agent', 30, 0, 30],
      ['traceName', 'chat', 22, 12, 10],
      ['traceName', 'summarize', 5, 0, 5],
      ['userId', 'u-dave', 30, 0, 30],
      ['userId', 'u-erin', 22, 12, 10],
      ['userId', 'u-fred', 5, 0, 5],
    ]);
    expect(body!.contributors[0]!.share).toBeCloseTo(40 / 58, 9);
    expect(body!.contributorsMissing).toBeUndefined();
    // links into the project's lists, over the window (from midnight to now)
    const url = new URL(body!.contributors[3]!.url!);
    expect(url.pathname).toBe(`/project/${harness.fake.projectId}/traces`);
    expect(url.searchParams.get('dateRange')).toBe(`${Date.parse('2026-11-24T00:00:00Z')}-${NOW.getTime()}`);
    expect(new URL(body!.contributors[0]!.url!).pathname).toBe(`/project/${harness.fake.projectId}/observations`);
    // Slack and email show them too
    expect(harness.slack.requests[0]!.body).toContain('research_agent');
    expect(harness.smtp.messages[0]!.parsed.text).toContain('u-dave');
  });

  test('explain chooses the dimensions and their order; explain: [] lists none', async () => {
    harness = await startHarness(alertYaml('threshold: 50\n    explain: [traceName]'), DAY);
    expect((await harness.check(NOW)).planned[0]!.notification.contributors!.map((c) => c.value)).toEqual(['research_agent', 'chat', 'summarize']);
    await harness.close();
    harness = await startHarness(alertYaml('threshold: 50\n    explain: []'), DAY);
    await harness.check(NOW);
    expect(bodies(harness)[0]!.contributors).toEqual([]);
  });

  test('nothing fires: no Langfuse request more than without contributors', async () => {
    const requestsPerCheck = async (yaml: string): Promise<number[]> => {
      harness = await startHarness(yaml, DAY);
      const counts: number[] = [];
      for (const now of [NOW, new Date(NOW.getTime() + 15 * 60_000), new Date(NOW.getTime() + 3_600_000)]) {
        const before = harness.fake.requests.length;
        await harness.check(now);
        counts.push(harness.fake.requests.length - before);
      }
      expect(harness.webhook.requests).toHaveLength(0);
      await harness.close();
      harness = undefined;
      return counts;
    };
    const quiet = await requestsPerCheck(alertYaml('threshold: 1000'));
    const off = await requestsPerCheck(alertYaml('threshold: 1000\n    explain: []'));
    expect(quiet).toEqual(off);
    expect(quiet[0]).toBeGreaterThan(0);
  });

  test('a firing series costs at most 4 requests more (userId: its top-N and the listed users), model and traceName nothing', async () => {
    const firstCheck = async (yaml: string): Promise<number> => {
      harness = await startHarness(yaml, DAY);
      await harness.check(NOW);
      const count = harness.fake.requests.length;
      expect(harness.webhook.requests).toHaveLength(1);
      await harness.close();
      harness = undefined;
      return count;
    };
    const off = await firstCheck(alertYaml('threshold: 50\n    explain: []'));
    const withUsers = await firstCheck(alertYaml('threshold: 50'));
    const withoutUsers = await firstCheck(alertYaml('threshold: 50\n    explain: [model, traceName]'));
    expect(withUsers - off).toBeLessThanOrEqual(4);
    expect(withUsers).toBeGreaterThan(withoutUsers);
    // model and traceName came with the alert's own requests, over both windows
    expect(withoutUsers).toBe(off);
  });

  test('a relative alert compares each contributor with its mean over the baseline windows', async () => {
    // three earlier days to 15:00: gpt-4o $10 each; claude-3 $3 on the day before only; today gpt-4o $30, claude-3 $20
    const days = [1, 2, 3].flatMap((d) => [spend(hoursAgo(24 * d + 2), 10, { model: 'gpt-4o', traceName: 'chat' })]);
    const data = [...days, spend(hoursAgo(26), 3, { model: 'claude-3', traceName: 'chat' }), spend(hoursAgo(3), 30, { model: 'gpt-4o', traceName: 'chat' }), spend(hoursAgo(2), 20, { model: 'claude-3', traceName: 'draft' })];
    harness = await startHarness(alertYaml('relative: { factor: 2, baseline: 3 }\n    explain: [model, traceName]'), data);
    const [planned] = (await harness.check(NOW)).planned;
    const n = planned!.notification;
    expect([n.value, n.baseline]).toEqual([50, 11]);
    expect(n.contributors!.map((c) => [c.dimension, c.value, c.spend, c.baseline, c.change])).toEqual([
      ['model', 'gpt-4o', 30, 10, 20],
      ['model', 'claude-3', 20, 1, 19],
      ['traceName', 'chat', 30, 11, 19],
      ['traceName', 'draft', 20, 0, 20],
    ]);
  });

  test('a metadata group lists the contributors within its value only', async () => {
    const data = [
      spend(hoursAgo(3), 30, { model: 'gpt-4o', traceName: 'research', metadata: { agent_type: 'researcher' } }),
      spend(hoursAgo(2), 5, { model: 'claude-3', traceName: 'write', metadata: { agent_type: 'writer' } }),
      spend(hoursAgo(27), 6, { model: 'gpt-4o', traceName: 'research', metadata: { agent_type: 'researcher' } }),
    ];
    harness = await startHarness(alertYaml('threshold: 20\n    groupBy: metadata.agent_type\n    values: [researcher, writer]\n    explain: [model, traceName]'), data);
    const planned = (await harness.check(NOW)).planned;
    expect(planned.map((p) => p.notification.group)).toEqual([{ 'metadata.agent_type': 'researcher' }]);
    expect(planned[0]!.notification.contributors!.map((c) => [c.dimension, c.value, c.spend, c.baseline])).toEqual([
      ['model', 'gpt-4o', 30, 6],
      ['traceName', 'research', 30, 6],
    ]);
  });

  test('a series that is one user (groupBy userId) lists its models and trace names', async () => {
    const data = [
      spend(hoursAgo(3), 20, { model: 'gpt-4o', traceName: 'research_agent', userId: 'u-dave' }),
      spend(hoursAgo(2), 10, { model: 'claude-3', traceName: 'chat', userId: 'u-dave' }),
      spend(hoursAgo(2), 5, { model: 'claude-3', traceName: 'chat', userId: 'u-erin' }),
      spend(hoursAgo(26), 4, { model: 'gpt-4o', traceName: 'research_agent', userId: 'u-dave' }),
    ];
    harness = await startHarness(alertYaml('threshold: 20\n    groupBy: userId\n    top: 5'), data);
    const planned = (await harness.check(NOW)).planned;
    expect(planned.map((p) => p.notification.group)).toEqual([{ userId: 'u-dave' }]);
    expect(planned[0]!.notification.contributors!.map((c) => [c.dimension, c.value, c.spend, c.baseline])).toEqual([
      ['model', 'gpt-4o', 20, 4],
      ['model', 'claude-3', 10, 0],
      ['traceName', 'research_agent', 20, 4],
      ['traceName', 'chat', 10, 0],
    ]);
  });

  test('when the request budget admits nothing more, the notification goes out on time without the users, saying so', async () => {
    // perHour 10: an evaluation may send 2 (20 %), all of which the alert itself needs
    harness = await startHarness(`langfuse:\n  requestBudget: { perHour: 10 }\n${alertYaml('threshold: 50')}`, DAY);
    const report = await harness.check(NOW);
    const n = report.planned[0]!.notification;
    expect(n.contributors!.map((c) => c.dimension)).toEqual(['model', 'model', 'model', 'traceName', 'traceName', 'traceName']);
    expect(n.contributorsMissing).toEqual([{ dimension: 'userId', reason: 'the Langfuse request budget admits no more requests in this evaluation' }]);
    expect(harness.fake.requests).toHaveLength(2);
    expect(harness.webhook.requests).toHaveLength(1);
  });

  test('a hostile model name among the contributors stays text in Slack and email and exact in the webhook body', async () => {
    const hostile = '<img src=x onerror=alert(1)> <!channel> @here *bold*\nBcc: victim@example.com';
    const data = [spend(hoursAgo(3), 40, { model: hostile, traceName: 'chat' }), spend(hoursAgo(2), 20, { model: 'gpt-4o', traceName: 'chat' })];
    harness = await startHarness(alertYaml('threshold: 50\n    explain: [model]'), data);
    await harness.check(NOW);
    expect(bodies(harness)[0]!.contributors.map((c) => c.value)).toEqual([hostile, 'gpt-4o']);

    const slack = harness.slack.requests[0]!.body;
    expect(slack).not.toContain('<img');
    expect(slack).not.toContain('<!channel>');
    expect(slack).toContain('&lt;img src=x onerror=alert(1)&gt;');

    const mail = harness.smtp.messages[0]!;
    expect(mail.parsed.html).not.toContain('<img');
    expect(mail.parsed.html).toContain('&lt;img src=x onerror=alert(1)&gt;');
    // the value's line break can't start a header: no Bcc line anywhere in the message's head
    expect(mail.raw.split(/\r?\n\r?\n/)[0]).not.toMatch(/^Bcc:/im);
    expect(mail.raw).not.toMatch(/^Bcc: victim/im);
  });

  test('a series of a grouped alert lists what spent most within it, cut from its own hourly requests', async () => {
    harness = await startHarness(alertYaml('threshold: 35\n    groupBy: model\n    explain: [traceName, userId]'), DAY);
    const before = harness.fake.requests.length;
    const planned = (await harness.check(NOW)).planned;
    // only gpt-4o ($40) is over $35; its trace names and users, not claude-3's
    expect(planned.map((p) => p.notification.group)).toEqual([{ model: 'gpt-4o' }]);
    const contributors = planned[0]!.notification.contributors!;
    expect(contributors.map((c) => [c.dimension, c.value, c.spend, c.baseline, c.change])).toEqual([
      ['traceName', 'research_agent', 30, 0, 30],
      ['traceName', 'chat', 10, 8, 2],
      ['userId', 'u-dave', 30, 0, 30],
      ['userId', 'u-erin', 10, 8, 2],
    ]);
    expect(contributors[1]!.share).toBe(0.25);
    // the link narrows to the series' model too, so it opens the observations list
    const url = new URL(contributors[0]!.url!);
    expect(url.pathname).toBe(`/project/${harness.fake.projectId}/observations`);
    expect(url.searchParams.get('filter')).toContain('model;stringOptions;;any of;gpt-4o');
    expect(url.searchParams.get('filter')).toContain('traceName;stringOptions;;any of;research_agent');
    // the pairs came with the alert's own request: the trace names cost nothing, the users 2 (top-N, then their day before)
    const sent = harness.fake.requests.slice(before).map((r) => (r.query as { dimensions?: { field: string }[] }).dimensions?.map((d) => d.field));
    expect(sent.filter((dims) => dims?.includes('traceName'))).toHaveLength(sent.length - 2);
  });
});
