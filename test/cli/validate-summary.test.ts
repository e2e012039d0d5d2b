import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { firesPerDay } from '../../src/config/cron.js';
import { loadConfig } from '../../src/config/load.js';
import type { Config } from '../../src/config/schema.js';
import { formatSummary, isLangfuseCloud, summarizeConfig } from '../../src/cli/validate-summary.js';

const ENV = {
  LANGFUSE_PUBLIC_KEY: 'pk-lf-public-1234',
  LANGFUSE_SECRET_KEY: 'sk-lf-private-5678',
  SLACK_WEBHOOK_URL: 'https://hooks.slack.com/services/T000/B000/slacktoken',
  SMTP_URL: 'smtp://mailer:hunter22@smtp.example.com',
  ALERT_WEBHOOK_URL: 'https://automation.example.com/spend?key=hookkey',
  ALERT_WEBHOOK_SECRET: 'whsec-signing',
};

async function example(env: Record<string, string> = {}) {
  const path = fileURLToPath(new URL('../../alerts.example.yaml', import.meta.url));
  return (await loadConfig({ path, env: { ...ENV, ...env }, needs: 'all' })).config;
}

/** The example on the Hobby plan, whose 100 requests a day its alerts outgrow. */
async function onHobby(): Promise<Config> {
  const config = await example();
  return { ...config, langfuse: { ...config.langfuse, requestBudget: 'hobby' } };
}

describe('summarizeConfig', () => {
  it('describes alerts, channels and the Langfuse requests they cost', async () => {
    const summary = summarizeConfig(await example());

    expect(summary.langfuse).toBe('https://cloud.langfuse.com');
    expect(summary.timezone).toBe('Europe/Berlin');
    expect(summary.channels).toEqual([
      { name: 'slack-ops', type: 'slack', target: 'slack (hooks.slack.com)' },
      { name: 'finance-mail', type: 'email', target: 'email → finance@example.com, cfo@example.com via smtp.example.com:587' },
      { name: 'automation', type: 'webhook', target: 'webhook (automation.example.com, signed)' },
      { name: 'terminal', type: 'console', target: 'console (stdout)' },
    ]);
    const byName = Object.fromEntries(summary.alerts.map((alert) => [alert.name, alert]));
    expect(byName['daily-budget']).toMatchObject({
      windowKind: 'calendar',
      kind: 'threshold',
      rule: 'critical when spend > $50.00',
      channels: ['slack-ops', 'finance-mail'],
      schedule: '*/15 * * * *',
      ownSchedule: false,
      evaluationsPerDay: 96,
      windowsPerEvaluation: 1,
    });
    expect(byName['monthly-budget']).toMatchObject({
      rule: 'warning when spend > $800.00, critical when spend > $1,000.00',
      ownSchedule: true,
      evaluationsPerDay: 24,
    });
    // budget steps: one range per evaluation, like any threshold (the hourly alert shares the unfiltered request)
    expect(byName['monthly-steps']).toMatchObject({
      kind: 'threshold',
      rule: 'steps of the $1,000.00 budget, each once per period: warning at 50 % ($500.00), warning at 80 % ($800.00), critical at 100 % ($1,000.00)',
      evaluationsPerDay: 24,
      windowsPerEvaluation: 1,
    });
    expect(byName['acme-weekly']?.rule).toBe('warning when spend > $300.00');
    expect(byName['daily-spike']).toMatchObject({
      kind: 'relative',
      rule: 'warning when spend > 2 × the mean of the previous 7 days, each to the same point; silent below $5.00',
      windowsPerEvaluation: 8,
    });
    // shares the unfiltered filter set's requests: no request of its own
    expect(byName['monthly-forecast']).toMatchObject({
      kind: 'forecast',
      rule: 'warning when spend > $1,000.00 by the end of the month at the pace of the previous 3 months (from 10% of the month on)',
      windowsPerEvaluation: 1 + 3 * 745,
    });
    expect(byName['model-budget']).toMatchObject({
      windowKind: 'rolling',
      groupBy: 'model',
      filters: [
        'environment = production',
        'traceName in security_audit, security_review',
        'tags any of team-a',
        'metadata agent_type = auditor',
      ],
    });
    expect(byName['top-users']).toMatchObject({ groupBy: 'userId', top: 10, rule: 'critical when spend > $2.00; per userId, top 10' });
    expect(byName['agent-budget']).toMatchObject({
      groupBy: 'metadata.agent_type',
      values: ['auditor', 'writer'],
      rule: 'critical when spend > $30.00; per metadata.agent_type: auditor, writer (2 filter sets)',
    });
    // Five filter sets (none; userId customer-acme; model-budget's; agent_type auditor; agent_type writer),
    // one top-N users query, one top-N traces query (perTrace) and one query of models and tokens
    // (unpriced), every quarter hour; the hourly monthly-budget shares the unfiltered request.
    expect(summary.requests).toEqual({
      perEvaluation: 8,
      perDay: 96 * 8,
      busiestHour: 32,
      evaluationsPerDay: 96,
      filterSets: 5,
      topN: 1,
      topTraces: 1,
      topModels: 1,
      metadataFilterSets: 2,
      metadataPerDay: 96 * 2,
      // monthly-forecast reads its month and, of each of the 3 previous months, 744 hours and the part to now
      unplannedPerDay: 96 + 24 + 24 + 96 + 768 + 96 * (1 + 3 * 745) + 96 + 96 * 2 + 96 + 96 + 96,
      exporterPerDay: 0,
    });
    expect(summary.requestsPerDay).toBe(768);
    expect(summary.budget).toBe('core (100 an hour)');
  });

  it('says how a request budget that is too small stretches the schedule', async () => {
    const config = await onHobby();
    const hobby = summarizeConfig(config);
    expect(hobby.stretch).toEqual({ factor: 768 / 80, everyMinutes: 15, stretchedMinutes: 144 });
    expect(hobby.warnings).toEqual([
      'langfuse.requestBudget hobby (100 a day) is too small for these alerts on their schedule: they need up to 768 Langfuse requests ' +
        'a day and 32 in the busiest hour (with the history cache warm). To stay within it the worker will evaluate about every ' +
        "2.4 hours instead of every 15 minutes (9.6× less often, on the schedule's ticks) and log each evaluation it skips; " +
        'set the budget to your plan or schedule less often',
    ]);

    const core = summarizeConfig(await example());
    expect(core.stretch).toBeNull();
    expect(core.warnings).toEqual([]);

    const hourly = summarizeConfig({ ...config, langfuse: { ...config.langfuse, requestBudget: { perHour: 10 } } });
    expect(hourly.stretch).toEqual({ factor: 4, everyMinutes: 15, stretchedMinutes: 60 });
    expect(hourly.budget).toBe('10 an hour');
  });

  it('warns on Langfuse Cloud without a request budget that Hobby allows 100 requests a day, and only on Cloud hosts', async () => {
    const withoutBudget = (config: Config): Config => ({ ...config, langfuse: { ...config.langfuse, requestBudget: undefined } });
    const cloud = summarizeConfig(withoutBudget(await example()));
    expect(cloud.budget).toBeNull();
    expect(cloud.warnings).toHaveLength(1);
    expect(cloud.warnings[0]).toMatch(/Hobby plan allows 100 Metrics API requests a day; these alerts need up to 768, more than that/);
    expect(cloud.warnings[0]).toMatch(/set langfuse\.requestBudget to your plan/);

    const selfHosted = summarizeConfig(withoutBudget(await example({ LANGFUSE_BASE_URL: 'https://langfuse.internal.example.com' })));
    expect(selfHosted.warnings).toEqual([]);

    expect(['https://cloud.langfuse.com', 'https://us.cloud.langfuse.com', 'https://jp.cloud.langfuse.com', 'https://HIPAA.cloud.langfuse.com/'].map(isLangfuseCloud)).toEqual([true, true, true, true]);
    expect(['https://langfuse.example.com', 'https://cloud.langfuse.com.evil.example', 'not a url'].map(isLangfuseCloud)).toEqual([false, false, false]);
  });

  it('notes channels no alert uses', async () => {
    const config = await example({ LANGFUSE_BASE_URL: 'http://localhost:3000' });
    const summary = summarizeConfig({
      ...config,
      langfuse: { ...config.langfuse, requestBudget: undefined },
      alerts: config.alerts.filter((alert) => alert.name === 'daily-budget'),
    });
    expect(summary.warnings).toEqual(['channel automation is not used by any alert', 'channel terminal is not used by any alert']);
  });

  it('formats a text summary that carries no credentials', async () => {
    const text = formatSummary(summarizeConfig(await onHobby()));
    expect(text).toContain('Alerts (11):');
    expect(text).toContain('  runaway-traces: 24h (rolling), critical when spend > $10.00 in one trace; checks the top 20 traces');
    expect(text).toContain(
      '  unpriced-models: day (calendar), warning when a model has > 1,000 tokens and no cost in the window (ignoring 1); one request of models and their tokens per evaluation',
    );
    expect(text).toContain('  agent-budget: day (calendar), critical when spend > $30.00; per metadata.agent_type: auditor, writer (2 filter sets)');
    expect(text).toContain('  daily-spike: day (calendar), warning when spend > 2 × the mean of the previous 7 days');
    expect(text).toContain('    schedule: 0 * * * * (its own), 24 evaluations a day');
    expect(text).toContain('  finance-mail  email → finance@example.com, cfo@example.com via smtp.example.com:587');
    expect(text).toContain(
      'Langfuse requests (history cache warm): up to 8 per evaluation (5 filter sets, 1 top-N userId query, 1 top-N trace query (perTrace), 1 query of models and tokens (unpriced)), up to 768 a day (busiest day)',
    );
    expect(text).toContain('  metadata values (groupBy metadata.<key>, a filter set each): 2 of those filter sets, up to 192 of those requests a day');
    expect(text).toContain('one request per alert window would be 216,240 a day');
    expect(text).toContain('Request budget: hobby (100 a day)');
    expect(text).toContain('9.6× less often');
    for (const secret of ['slacktoken', 'hunter22', 'hookkey', 'whsec-signing', 'pk-lf-public', 'sk-lf-private']) {
      expect(text).not.toContain(secret);
    }
  });
});

describe('the cost exporter', () => {
  const withExporter = (costExporter: string) => `
costExporter: ${costExporter}
channels: { terminal: { type: console } }
alerts:
  - { name: daily, window: day, threshold: 10, channels: [terminal] }
  - { name: hourly, window: day, threshold: 10, schedule: "0 * * * *", filters: { environment: production }, channels: [terminal] }
`;
  const summarize = async (costExporter: string) => summarizeConfig((await loadConfig({ path: 'alerts.yaml', text: withExporter(costExporter), env: ENV, needs: 'all' })).config);

  it('costs one request at every evaluation, counted in the figures per evaluation, hour and day', async () => {
    const off = await summarize('false');
    const on = await summarize('true');
    // 96 evaluations a day (*/15; the hourly alert's ticks are among them)
    expect(on.requests).toMatchObject({ perEvaluation: off.requests.perEvaluation + 1, perDay: off.requests.perDay + 96, busiestHour: off.requests.busiestHour + 4, exporterPerDay: 96 });
    expect(off.requests.exporterPerDay).toBe(0);
    expect(formatSummary(on)).toContain('  cost exporter (costExporter): 1 request per evaluation (in the figures above), 96 a day');
    expect(formatSummary(off)).not.toContain('cost exporter');
  });

  it('adds its one request to each evaluation of the cold start too', async () => {
    const now = new Date('2026-12-02T10:00:00Z');
    const cold = async (costExporter: string) =>
      formatSummary(summarizeConfig((await loadConfig({ path: 'alerts.yaml', text: withExporter(costExporter), env: ENV, needs: 'all' })).config, now));
    expect(await cold('true')).toMatch(/^Langfuse requests \(cold start, empty history cache\): .*; plus the cost exporter's 1 request at each evaluation$/m);
    expect(await cold('false')).not.toContain("plus the cost exporter's");
  });
});

describe('firesPerDay', () => {
  it('counts the firings of a day the expression fires on', () => {
    expect(firesPerDay('*/15 * * * *')).toBe(96);
    expect(firesPerDay('0 * * * *')).toBe(24);
    expect(firesPerDay('0 9 * * 1-5')).toBe(1);
    expect(firesPerDay('*/30 * * * * *')).toBe(2880);
    expect(firesPerDay('0 0,12 1 * *')).toBe(2);
    expect(firesPerDay('@daily')).toBe(1);
  });
});

describe('what digests cost', () => {
  const digests = (timezone: string) => `
timezone: ${timezone}
channels: { terminal: { type: console } }
alerts:
  - { name: daily, window: day, threshold: 10, channels: [terminal] }
digests:
  - { name: morning, schedule: "0 9 * * *", window: day, channels: [terminal] }
  - { name: hourly-week, schedule: "0 * * * *", window: 7d, channels: [terminal] }
`;
  const summarize = async (timezone: string) =>
    summarizeConfig((await loadConfig({ path: 'alerts.yaml', text: digests(timezone), env: ENV, needs: 'all' })).config, new Date('2026-06-10T12:00:00Z'));

  it('counts each report’s own requests on the busiest day: 7 a report where midnight is on the hour', async () => {
    const summary = await summarize('Europe/Berlin');
    // once a day a day report (7), 24 times a day a 7-day report (7)
    expect(summary.digests).toEqual({ count: 2, requestsPerDay: 7 + 24 * 7 });
    expect(formatSummary(summary)).toContain('digests: up to 175 requests a day for their reports (2 digests, on the busiest day)');
  });

  it('adds a request per local midnight inside a UTC hour (Asia/Kolkata)', async () => {
    // a day report crosses no midnight inside it; a 7-day one 7 (its first day is partial)
    expect((await summarize('Asia/Kolkata')).digests).toEqual({ count: 2, requestsPerDay: 7 + 24 * (7 + 7) });
  });
});
