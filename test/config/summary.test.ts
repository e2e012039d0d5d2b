import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { firesPerDay } from '../../src/config/cron.js';
import { loadConfig } from '../../src/config/load.js';
import { formatSummary, isLangfuseCloud, summarizeConfig } from '../../src/config/summary.js';

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
      requestsPerEvaluation: 1,
      requestsPerDay: 96,
    });
    expect(byName['monthly-budget']).toMatchObject({
      rule: 'warning when spend > $800.00, critical when spend > $1,000.00',
      ownSchedule: true,
      requestsPerDay: 24,
    });
    expect(byName['acme-weekly']?.rule).toBe('warning when spend > $300.00');
    expect(byName['daily-spike']).toMatchObject({
      kind: 'relative',
      rule: 'warning when spend > 2 × the mean of the previous 7 days, each to the same point; silent below $5.00',
      requestsPerEvaluation: 8,
      requestsPerDay: 768,
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
    expect(summary.requestsPerDay).toBe(96 + 24 + 96 + 768 + 96 + 96);
  });

  it('warns that Langfuse Cloud Hobby allows 100 requests a day, and only for Cloud hosts', async () => {
    const cloud = summarizeConfig(await example());
    expect(cloud.warnings).toHaveLength(1);
    expect(cloud.warnings[0]).toMatch(/Hobby plan allows 100 Metrics API requests a day; these alerts need up to 1,176, more than that/);
    expect(cloud.warnings[0]).toMatch(/langfuse\.requestBudget/);

    const selfHosted = summarizeConfig(await example({ LANGFUSE_BASE_URL: 'https://langfuse.internal.example.com' }));
    expect(selfHosted.warnings).toEqual([]);

    expect(['https://cloud.langfuse.com', 'https://us.cloud.langfuse.com', 'https://jp.cloud.langfuse.com', 'https://HIPAA.cloud.langfuse.com/'].map(isLangfuseCloud)).toEqual([true, true, true, true]);
    expect(['https://langfuse.example.com', 'https://cloud.langfuse.com.evil.example', 'not a url'].map(isLangfuseCloud)).toEqual([false, false, false]);
  });

  it('notes channels no alert uses', async () => {
    const config = await example({ LANGFUSE_BASE_URL: 'http://localhost:3000' });
    const summary = summarizeConfig({ ...config, alerts: config.alerts.filter((alert) => alert.name === 'daily-budget') });
    expect(summary.warnings).toEqual(['channel automation is not used by any alert', 'channel terminal is not used by any alert']);
  });

  it('formats a text summary that carries no credentials', async () => {
    const text = formatSummary(summarizeConfig(await example()));
    expect(text).toContain('Alerts (6):');
    expect(text).toContain('  daily-spike: day (calendar), warning when spend > 2 × the mean of the previous 7 days');
    expect(text).toContain('96 evaluations a day × 8 requests = 768 Langfuse requests a day');
    expect(text).toContain('  finance-mail  email → finance@example.com, cfo@example.com via smtp.example.com:587');
    expect(text).toContain('Langfuse requests: up to 1,176 a day');
    for (const secret of ['slacktoken', 'hunter22', 'hookkey', 'whsec-signing', 'pk-lf-public', 'sk-lf-private']) {
      expect(text).not.toContain(secret);
    }
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
