import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { formatIssue } from '../../src/config/errors.js';
import { loadConfig } from '../../src/config/load.js';
import { configError, fixture, LANGFUSE_ENV, loadFixture } from './helpers.js';

const EXAMPLE_ENV = {
  ...LANGFUSE_ENV,
  SLACK_WEBHOOK_URL: 'https://hooks.slack.com/services/T000/B000/XXXX',
  SMTP_URL: 'smtp://mailer:hunter22@smtp.example.com:587',
  ALERT_WEBHOOK_URL: 'https://automation.example.com/spend',
  ALERT_WEBHOOK_SECRET: 'whsec-0123456789',
};

describe('loadConfig: valid files', () => {
  it('loads alerts.example.yaml with every default applied', async () => {
    const path = fileURLToPath(new URL('../../alerts.example.yaml', import.meta.url));
    const { config, warnings } = await loadConfig({ path, env: EXAMPLE_ENV, needs: 'all' });

    expect(warnings).toEqual([]);
    expect(config.langfuse).toEqual({
      baseUrl: 'https://cloud.langfuse.com',
      publicKey: 'pk-lf-test',
      secretKey: 'sk-lf-test',
      lagMargin: '15m',
      requestBudget: 'core',
    });
    expect(config.timezone).toBe('Europe/Berlin');
    expect(Object.keys(config.channels)).toEqual(['slack-ops', 'finance-mail', 'automation', 'terminal']);
    expect(config.channels['finance-mail']).toMatchObject({ to: ['finance@example.com', 'cfo@example.com'] });
    const daily = config.alerts.find((alert) => alert.name === 'daily-budget');
    expect(daily).toMatchObject({ threshold: 50, sendResolved: true, resolveBelow: 0.9, top: 20 });
    expect(config.alerts.map((alert) => alert.name)).toEqual([
      'daily-budget',
      'monthly-budget',
      'monthly-steps',
      'acme-weekly',
      'daily-spike',
      'monthly-forecast',
      'model-budget',
      'agent-budget',
      'runaway-traces',
      'unpriced-models',
      'top-users',
    ]);
    expect(config.digests).toEqual([{ name: 'weekly-summary', schedule: '0 9 * * 1', window: 'week', top: 5, channels: ['slack-ops', 'finance-mail'] }]);
  });

  it('applies the defaults of everything left out, including the langfuse block', async () => {
    const { config } = await loadFixture('minimal.yaml');
    expect(config).toEqual({
      langfuse: { baseUrl: 'https://cloud.langfuse.com', publicKey: 'pk-lf-test', secretKey: 'sk-lf-test', lagMargin: '15m' },
      timezone: 'UTC',
      schedule: '*/15 * * * *',
      degradedAfter: 3,
      costExporter: false,
      channels: { ops: { type: 'console' } },
      alerts: [
        { name: 'daily', window: 'day', threshold: 10, sendResolved: true, resolveBelow: 0.9, top: 20, channels: ['ops'] },
      ],
      digests: [],
      models: [],
    });
  });

  it('takes the Langfuse base URL from LANGFUSE_BASE_URL when the block is omitted', async () => {
    const { config } = await loadFixture('minimal.yaml', { LANGFUSE_BASE_URL: 'https://us.cloud.langfuse.com' });
    expect(config.langfuse.baseUrl).toBe('https://us.cloud.langfuse.com');
  });

  it('loads from text, naming the file it stands for, and locates values', async () => {
    const text = readFileSync(fixture('minimal.yaml'), 'utf8');
    const loaded = await loadConfig({ path: 'bundled.yaml', text, env: LANGFUSE_ENV, needs: 'all' });
    expect(loaded.path).toBe('bundled.yaml');
    expect(loaded.locate(['alerts', 0, 'threshold'])).toEqual({ line: 7, col: 16 });
    expect(loaded.locate(['alerts', 0, 'filters', 'model'])).toEqual({ line: 5, col: 5 });
  });
});

describe('loadConfig: errors, each with file, line, column and path', () => {
  it('reports a YAML syntax error at its line and column', async () => {
    const error = await configError(loadFixture('syntax-error.yaml'));
    expect(error.issues.length).toBeGreaterThanOrEqual(1);
    expect(error.issues[0]).toMatchObject({ file: fixture('syntax-error.yaml'), line: 8, path: '' });
    expect(error.issues[0]?.message).toMatch(/^YAML syntax: /);
  });

  it('reports a typo in a key with its position, path and the key it probably meant', async () => {
    const error = await configError(loadFixture('typo-key.yaml'));
    expect(error.issues).toContainEqual({
      file: fixture('typo-key.yaml'),
      line: 7,
      col: 5,
      path: 'alerts[0].treshold',
      message: 'unknown key "treshold" (did you mean "threshold"?)',
    });
    expect(error.format()).toContain(`${fixture('typo-key.yaml')}:7:5 alerts[0].treshold: unknown key "treshold"`);
  });

  it('lists the known keys when an unknown key resembles none', async () => {
    const error = await configError(
      loadConfig({
        path: 'alerts.yaml',
        text: 'channels:\n  ops:\n    type: console\n    colour: blue\nalerts: []\n',
        env: LANGFUSE_ENV,
        needs: 'all',
      }),
    );
    expect(error.format()).toContain('alerts.yaml:4:5 channels.ops.colour: unknown key "colour" (known keys: type)');
  });

  it('reports an alert sending to an unknown channel, listing the defined ones', async () => {
    const error = await configError(loadFixture('unknown-channel.yaml'));
    expect(error.issues.map(formatIssue)).toEqual([
      `${fixture('unknown-channel.yaml')}:16:9 alerts[1].channels[0]: unknown channel "slak-ops" (defined: slack-ops, finance-mail)`,
    ]);
  });

  it('reports a duplicate alert name at the second alert', async () => {
    const error = await configError(loadFixture('duplicate-names.yaml'));
    expect(error.issues).toEqual([
      expect.objectContaining({ line: 9, col: 11, path: 'alerts[1].name', message: expect.stringMatching(/duplicate alert name "budget"/) }),
    ]);
  });

  it('reports an unknown time zone with a suggestion', async () => {
    const error = await configError(loadFixture('invalid-timezone.yaml'));
    expect(error.issues).toEqual([
      expect.objectContaining({
        line: 1,
        col: 11,
        path: 'timezone',
        message: 'unknown time zone "Europe/Berln" (did you mean "Europe/Berlin"?)',
      }),
    ]);
  });

  it('reports invalid cron expressions, top-level and per alert', async () => {
    const error = await configError(loadFixture('invalid-cron.yaml'));
    expect(error.issues.map((issue) => [issue.line, issue.path])).toEqual([
      [1, 'schedule'],
      [9, 'alerts[0].schedule'],
    ]);
    expect(error.issues[0]?.message).toMatch(/expected 5 or 6 fields but got 4/);
    expect(error.issues[1]?.message).toMatch(/"25" is not a valid hour/);
  });

  it('accepts 6-field cron expressions with seconds first', async () => {
    const text = readFileSync(fixture('minimal.yaml'), 'utf8').replace('channels:\n', 'schedule: "30 */5 * * * *"\nchannels:\n');
    const { config } = await loadConfig({ path: 'alerts.yaml', text, env: LANGFUSE_ENV, needs: 'all' });
    expect(config.schedule).toBe('30 */5 * * * *');
  });

  it('rejects a relative baseline of 0 and groupBy userId on a relative alert', async () => {
    const error = await configError(loadFixture('relative-rules.yaml'));
    expect(error.issues.map((issue) => [issue.line, issue.path, issue.message])).toEqual([
      [9, 'alerts[0].relative.baseline', 'must be at least 1: the number of previous windows to average (got 0)'],
      [13, 'alerts[1].groupBy', 'groupBy: userId works with threshold alerts only, not relative ones'],
    ]);
  });

  it('locates the errors of forecast alerts: rolling windows, groupBy userId, minElapsed and baseline bounds; warns that they never resolve', async () => {
    const load = (alerts: string) =>
      loadConfig({ path: 'alerts.yaml', text: `channels:\n  ops:\n    type: console\nalerts:\n${alerts}`, env: LANGFUSE_ENV, needs: 'all' });
    const error = await configError(
      load(
        [
          '  - { name: a, window: 24h, forecast: { threshold: 5 }, channels: [ops] }',
          '  - { name: b, window: day, groupBy: userId, forecast: { threshold: 5 }, channels: [ops] }',
          '  - { name: c, window: day, forecast: { threshold: 5, minElapsed: 1 }, channels: [ops] }',
          '  - { name: d, window: month, forecast: { threshold: 5, baseline: 23 }, channels: [ops] }',
          '',
        ].join('\n'),
      ),
    );
    expect(error.issues.map((issue) => [issue.line, issue.col, issue.path, issue.message])).toEqual([
      [5, 24, 'alerts[0].window', 'forecast alerts need a calendar window (day, week or month), not 24h'],
      [6, 38, 'alerts[1].groupBy', 'groupBy: userId works with threshold alerts only, not forecast ones'],
      [7, 67, 'alerts[2].forecast.minElapsed', 'must be less than 1'],
      [8, 67, 'alerts[3].forecast.baseline', 'month × (23 + 1) reaches back 744 days, more than 730 days; with this window the baseline is at most 22'],
    ]);
    const { warnings } = await load('  - { name: a, window: day, sendResolved: true, forecast: { threshold: 5 }, channels: [ops] }\n');
    expect(warnings.map((warning) => [warning.line, warning.path, warning.message])).toEqual([
      [5, 'alerts[0].sendResolved', expect.stringContaining("a day alert doesn't resolve")],
    ]);
  });

  it('refuses rolling windows over 90d, baselines over 52 and lookbacks over 730 days (a month counts 31)', async () => {
    const error = await configError(loadFixture('lookback-limits.yaml'));
    expect(error.issues.map((issue) => [issue.line, issue.col, issue.path, issue.message])).toEqual([
      [6, 13, 'alerts[0].window', 'a rolling window is at most 90d (got 2400h, 100 days); use month for longer periods'],
      [10, 13, 'alerts[1].window', 'a rolling window is at most 90d (got 91d, 91 days); use month for longer periods'],
      [15, 38, 'alerts[2].relative.baseline', 'must be at most 52: the number of previous windows to average (got 53)'],
      [19, 38, 'alerts[3].relative.baseline', 'month × (23 + 1) reaches back 744 days, more than 730 days; with this window the baseline is at most 22'],
      [23, 38, 'alerts[4].relative.baseline', '90d × (8 + 1) reaches back 810 days, more than 730 days; with this window the baseline is at most 7'],
    ]);
  });

  it('checks that every alert has exactly one rule and sensible levels', async () => {
    const error = await configError(loadFixture('rule-checks.yaml'));
    expect(error.issues.map((issue) => [issue.line, issue.path, issue.message])).toEqual([
      [5, 'alerts[0]', 'needs a rule: threshold, relative, forecast, perTrace or unpriced'],
      [11, 'alerts[1].relative', 'an alert has exactly one rule: keep threshold or relative, not both'],
      [15, 'alerts[2].threshold.warning', 'warning (60) must be less than critical (50)'],
      [19, 'alerts[3].threshold', 'needs warning, critical or both'],
      [24, 'alerts[4].severity', 'severity does not go with threshold { warning, critical }: each level is its own severity'],
    ]);
  });

  it('locates the problems of budget steps', async () => {
    const error = await configError(loadFixture('budget-steps.yaml'));
    expect(error.issues.map((issue) => [issue.line, issue.col, issue.path, issue.message])).toEqual([
      [7, 26, 'alerts[0].threshold.budget', 'budget must be greater than 0 (got 0)'],
      [11, 26, 'alerts[1].threshold.budget', 'budget must be greater than 0 (got -10)'],
      [15, 39, 'alerts[2].threshold.steps', 'needs 1 to 10 steps (got 0)'],
      [19, 39, 'alerts[3].threshold.steps', 'needs 1 to 10 steps (got 11)'],
      [25, 23, 'alerts[4].threshold.steps[2]', 'duplicate step 50 (steps[0] has it too); steps must be distinct'],
      [29, 40, 'alerts[5].threshold.steps[0]', 'a step is a percent of budget greater than 0 (got 0)'],
      [34, 15, 'alerts[6].severity', 'severity does not go with threshold { budget, steps }: steps under 100 are warning, 100 and above critical'],
      [38, 16, 'alerts[7].threshold', 'budget steps need budget: the USD the steps are percents of'],
      [42, 16, 'alerts[8].threshold', 'must be a number of USD, { warning, critical } or { budget, steps }, not a mapping'],
    ]);
    expect(error.format().split('\n')[0]?.endsWith('/budget-steps.yaml:7:26 alerts[0].threshold.budget: budget must be greater than 0 (got 0)')).toBe(true);
  });

  it('reports every problem at once', async () => {
    const error = await configError(loadFixture('four-errors.yaml'));
    expect(error.issues.map((issue) => `${issue.line}:${issue.col} ${issue.path}`)).toEqual([
      '1:11 timezone',
      '7:13 alerts[0].window',
      '13:5 alerts[1].sevrity',
      '14:16 alerts[1].channels[0]',
    ]);
    expect(error.format().split('\n')).toHaveLength(4);
    expect(error.issues[2]?.message).toBe('unknown key "sevrity" (did you mean "severity"?)');
  });

  it('points a missing required key at its parent', async () => {
    const error = await configError(
      loadConfig({
        path: 'alerts.yaml',
        text: 'channels:\n  ops:\n    type: console\nalerts:\n  - window: day\n    threshold: 1\n    channels: [ops]\n',
        env: LANGFUSE_ENV,
        needs: 'all',
      }),
    );
    expect(error.format()).toBe('alerts.yaml:5:5 alerts[0]: missing required key "name"');
  });

  it('explains wrong types, bad enum values and bad channel types', async () => {
    const text = [
      'channels:',
      '  ops:',
      '    type: slak',
      'alerts:',
      '  - name: a',
      '    window: day',
      '    threshold: lots',
      '    groupBy: modle',
      '    filters: { release: 1.10 }',
      '    channels: [ops]',
      '',
    ].join('\n');
    const error = await configError(loadConfig({ path: 'alerts.yaml', text, env: LANGFUSE_ENV, needs: 'all' }));
    expect(error.format().split('\n')).toEqual([
      'alerts.yaml:3:11 channels.ops.type: must be one of slack, email, webhook, console, not the text "slak" (did you mean "slack"?)',
      'alerts.yaml:7:16 alerts[0].threshold: must be a number of USD, { warning, critical } or { budget, steps }, not the text "lots"',
      'alerts.yaml:8:14 alerts[0].groupBy: must be one of model, traceName, userId, environment, release, or metadata.<key>, not the text "modle" (did you mean "model"?)',
      'alerts.yaml:9:25 alerts[0].filters.release: must be a string or a list of strings, not the number 1.1',
    ]);
  });

  it('reports a missing file clearly, without a position', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'spend-alerts-')), 'alerts.yaml');
    const error = await configError(loadConfig({ path, env: {}, needs: 'all' }));
    expect(error.format()).toBe(`${path}: cannot read the configuration: no such file`);
  });

  it('reports a file that is not a mapping, and an empty file', async () => {
    const list = await configError(loadConfig({ path: 'a.yaml', text: '- 1\n', env: LANGFUSE_ENV, needs: 'all' }));
    expect(list.format()).toBe('a.yaml:1:1: must be a mapping with channels and alerts, not a list');
    const empty = await configError(loadConfig({ path: 'a.yaml', text: '# nothing yet\n', env: LANGFUSE_ENV, needs: 'all' }));
    expect(empty.issues.map((issue) => issue.message)).toEqual([
      'missing required key "channels"',
      'missing required key "alerts"',
    ]);
  });
});

describe('loadConfig: warnings', () => {
  it('warns about top without groupBy userId and resolve settings on calendar windows', async () => {
    const { warnings } = await loadFixture('warnings.yaml');
    expect(warnings.map((warning) => [warning.line, warning.path])).toEqual([
      [8, 'alerts[0].top'],
      [9, 'alerts[0].resolveBelow'],
      [10, 'alerts[0].sendResolved'],
    ]);
    expect(warnings[1]?.message).toMatch(/only applies to rolling windows/);
  });
});


describe('systemChannels', () => {
  it('must name defined channels', async () => {
    const text = `channels:\n  ops: { type: console }\nsystemChannels: [ops, pager]\nalerts:\n  - { name: a, window: day, threshold: 1, channels: [ops] }\n`;
    const error = await loadConfig({ path: 'alerts.yaml', text, env: { LANGFUSE_PUBLIC_KEY: 'pk-lf-x', LANGFUSE_SECRET_KEY: 'sk-lf-y' }, needs: 'all' }).catch((e: unknown) => e);
    expect(String((error as Error).message)).toContain('alerts.yaml:3:23 systemChannels[1]: unknown channel "pager"');
  });
});

describe('email channels', () => {
  const mail = (from: string, to: string, smtpUrl = '${SMTP_URL}'): string =>
    `channels:\n  mail:\n    type: email\n    smtpUrl: ${smtpUrl}\n    from: ${from}\n    to: [${to}]\nalerts:\n  - { name: a, window: day, threshold: 1, channels: [mail] }\n`;
  const env = { ...LANGFUSE_ENV, SMTP_URL: 'smtp://mailer:hunter22@smtp.example.com:587' };

  it('accepts addr@host and Name <addr@host>, a quoted name with a comma among them', async () => {
    const text = mail('LLM spend <alerts@example.com>', `finance@example.com, '"Doe, Jane" <jane@example.com>', <ops@example.com>`);
    const { config } = await loadConfig({ path: 'alerts.yaml', text, env, needs: 'all' });
    expect(config.channels['mail']).toMatchObject({ to: ['finance@example.com', '"Doe, Jane" <jane@example.com>', '<ops@example.com>'] });
  });

  it('refuses what is not one address, located, also when it came from a variable carrying a header', async () => {
    const text = mail('alerts', '"${FINANCE_EMAIL}", "a@example.com, b@example.com"');
    const error = await configError(
      loadConfig({ path: 'alerts.yaml', text, env: { ...env, FINANCE_EMAIL: 'finance@example.com\r\nBcc: spy@evil.example' }, needs: 'all' }),
    );
    const must = 'must be one email address, addr@host or Name <addr@host>, without line breaks or other control characters (quote a name with , or ;)';
    expect(error.format().split('\n')).toEqual([
      `alerts.yaml:5:11 channels.mail.from: ${must}, not the text "alerts"`,
      `alerts.yaml:6:10 channels.mail.to[0]: ${must}, not the text "finance@example.com\\r\\nBcc: spy@evil.example" (from \${FINANCE_EMAIL})`,
      `alerts.yaml:6:30 channels.mail.to[1]: ${must}, not the text "a@example.com, b@example.com"`,
    ]);
  });

  it('warns, located, when smtp:// to another machine opts out of STARTTLS; not for this machine', async () => {
    const optOut = await loadConfig({ path: 'alerts.yaml', text: mail('a@example.com', 'b@example.com'), env: { ...env, SMTP_URL: `${env.SMTP_URL}?requireTLS=false` }, needs: 'all' });
    expect(optOut.warnings.map(formatIssue)).toEqual([
      'alerts.yaml:4:14 channels.mail.smtpUrl: requireTLS=false: if the server offers no STARTTLS (or someone in the middle strips the offer), ' +
        'the SMTP password and the mail cross the network in plain text; keep it for a relay on a network you trust',
    ]);
    const local = await loadConfig({ path: 'alerts.yaml', text: mail('a@example.com', 'b@example.com'), env: { ...env, SMTP_URL: 'smtp://127.0.0.1:25?requireTLS=false' }, needs: 'all' });
    expect(local.warnings).toEqual([]);
  });
});
