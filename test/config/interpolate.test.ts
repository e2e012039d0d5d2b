import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseTemplate } from '../../src/config/interpolate.js';
import { loadConfig } from '../../src/config/load.js';
import { configError, fixture, LANGFUSE_ENV, loadFixture } from './helpers.js';

const CHANNEL_ENV = {
  SLACK_WEBHOOK_URL: 'https://hooks.slack.com/services/T000/B000/XXXX',
  SMTP_URL: 'smtp://mailer:hunter22@smtp.example.com:587',
};

function tempFile(content: string): string {
  const path = join(mkdtempSync(join(tmpdir(), 'spend-alerts-')), 'secret');
  writeFileSync(path, content);
  return path;
}

describe('interpolation', () => {
  it('replaces ${VAR}, applies ${VAR:-default}, turns $$ into $ and converts numbers and booleans', async () => {
    const { config } = await loadFixture('interpolation.yaml', { ...CHANNEL_ENV, DAILY_BUDGET: '75' });
    expect(config.langfuse.baseUrl).toBe('https://langfuse.internal.example.com');
    expect(config.timezone).toBe('UTC');
    expect(config.channels['slack-ops']).toEqual({ type: 'slack', webhookUrl: CHANNEL_ENV.SLACK_WEBHOOK_URL });
    expect(config.channels['mail']).toMatchObject({
      from: 'Spend $ bot <alerts@example.com>',
      to: ['finance@example.com', '${NOT_A_VAR}@example.com'],
    });
    expect(config.alerts[0]).toMatchObject({ threshold: 75, minSpend: 0.5 });
    expect(config.alerts[1]).toMatchObject({ threshold: { warning: 40, critical: 50 }, resolveBelow: 0.75, sendResolved: false });
  });

  it('prefers set variables over defaults, and treats an empty one as unset for :-', async () => {
    const { config } = await loadFixture('interpolation.yaml', {
      ...CHANNEL_ENV,
      DAILY_BUDGET: '12.5',
      TZ_NAME: 'America/New_York',
      FINANCE_TO: '',
      SEND_RESOLVED: 'TRUE',
      WARN_AT: '1e2',
      CRIT_AT: '200',
    });
    expect(config.timezone).toBe('America/New_York');
    expect(config.channels['mail']).toMatchObject({ to: ['finance@example.com', '${NOT_A_VAR}@example.com'] });
    expect(config.alerts[0]?.threshold).toBe(12.5);
    expect(config.alerts[1]).toMatchObject({ threshold: { warning: 100, critical: 200 }, sendResolved: true });
  });

  it('keeps a referenced value text where the schema wants text', async () => {
    const text = readFileSync(fixture('minimal.yaml'), 'utf8').replace(
      '    threshold: 10\n',
      '    threshold: 10\n    filters: { release: "${RELEASE}" }\n',
    );
    const { config } = await loadConfig({ path: 'alerts.yaml', text, env: { ...LANGFUSE_ENV, RELEASE: '1.10' }, needs: 'all' });
    expect(config.alerts[0]?.filters).toEqual({ release: '1.10' });
  });

  it('reports a number that is not one at the line of the reference', async () => {
    const error = await configError(loadFixture('interpolation.yaml', { ...CHANNEL_ENV, DAILY_BUDGET: 'abc' }));
    expect(error.issues).toEqual([
      expect.objectContaining({
        line: 16,
        col: 16,
        path: 'alerts[0].threshold',
        message: 'must be a number of USD, { warning, critical } or { budget, steps }, not the text "abc" (from ${DAILY_BUDGET})',
      }),
    ]);
  });

  it('names an unset or empty variable and its line, all of them at once', async () => {
    const error = await configError(loadFixture('interpolation.yaml', { SMTP_URL: '' }));
    expect(error.format().split('\n')).toEqual([
      `${fixture('interpolation.yaml')}:7:17 channels.slack-ops.webhookUrl: environment variable SLACK_WEBHOOK_URL is not set`,
      `${fixture('interpolation.yaml')}:10:14 channels.mail.smtpUrl: environment variable SMTP_URL is empty`,
      `${fixture('interpolation.yaml')}:16:16 alerts[0].threshold: environment variable DAILY_BUDGET is not set`,
    ]);
  });

  it('requires the Langfuse keys when the langfuse block is omitted, saying where they come from', async () => {
    const text = readFileSync(fixture('minimal.yaml'), 'utf8');
    const error = await configError(loadConfig({ path: 'alerts.yaml', text, env: {}, needs: 'all' }));
    expect(error.format().split('\n')).toEqual([
      'alerts.yaml:1:1 langfuse.publicKey: environment variable LANGFUSE_PUBLIC_KEY is not set (the default of an omitted key is ${LANGFUSE_PUBLIC_KEY})',
      'alerts.yaml:1:1 langfuse.secretKey: environment variable LANGFUSE_SECRET_KEY is not set (the default of an omitted key is ${LANGFUSE_SECRET_KEY})',
    ]);
  });

  it('requires only what the command needs', async () => {
    const testNotify = await loadConfig({
      path: fixture('interpolation.yaml'),
      env: { SLACK_WEBHOOK_URL: CHANNEL_ENV.SLACK_WEBHOOK_URL },
      needs: { channels: ['slack-ops'] },
    });
    expect(testNotify.config.channels).toEqual({ 'slack-ops': { type: 'slack', webhookUrl: CHANNEL_ENV.SLACK_WEBHOOK_URL } });
    expect(testNotify.config.alerts).toEqual([]);
    expect(testNotify.config.langfuse.baseUrl).toBe('https://langfuse.internal.example.com');

    const withoutLangfuse = await loadConfig({
      path: fixture('minimal.yaml'),
      env: {},
      needs: { channels: 'all', alerts: true },
    });
    expect(withoutLangfuse.config.langfuse).toEqual({ baseUrl: 'https://cloud.langfuse.com', publicKey: '', secretKey: '', lagMargin: '15m' });
    expect(withoutLangfuse.config.alerts).toHaveLength(1);

    const demo = await configError(
      loadConfig({ path: fixture('interpolation.yaml'), env: { DAILY_BUDGET: '5' }, needs: { channels: 'all', alerts: true } }),
    );
    expect(demo.issues.map((issue) => issue.message)).toEqual([
      'environment variable SLACK_WEBHOOK_URL is not set',
      'environment variable SMTP_URL is not set',
    ]);
  });

  it('still checks the structure of what is not needed', async () => {
    const text = readFileSync(fixture('interpolation.yaml'), 'utf8').replace('    type: email\n', '    type: email\n    port: 25\n');
    const error = await configError(
      loadConfig({ path: 'alerts.yaml', text, env: CHANNEL_ENV, needs: { channels: ['slack-ops'] } }),
    );
    expect(error.format()).toBe('alerts.yaml:10:5 channels.mail.port: unknown key "port" (known keys: type, smtpUrl, from, to)');
  });

  it('reads NAME_FILE when NAME is not set, without its trailing newline', async () => {
    const { config } = await loadFixture('interpolation.yaml', {
      SLACK_WEBHOOK_URL_FILE: tempFile('https://hooks.slack.com/services/from/file\n'),
      SMTP_URL_FILE: tempFile('smtp://a:b@mail.example.com:25\r\n'),
      DAILY_BUDGET_FILE: tempFile('30\n\n'),
      SEND_RESOLVED: 'true',
    });
    expect(config.channels['slack-ops']).toEqual({ type: 'slack', webhookUrl: 'https://hooks.slack.com/services/from/file' });
    expect(config.channels['mail']).toMatchObject({ smtpUrl: 'smtp://a:b@mail.example.com:25' });
    expect(config.alerts[0]?.threshold).toBe(30);
  });

  it('resolves a relative config path and NAME_FILE against cwd, naming the file as given', async () => {
    const cwd = mkdtempSync(join(tmpdir(), 'spend-alerts-cwd-'));
    writeFileSync(join(cwd, 'alerts.yaml'), readFileSync(fixture('interpolation.yaml'), 'utf8'));
    writeFileSync(join(cwd, 'budget'), '42\n');
    const { config, path } = await loadConfig({
      path: 'alerts.yaml',
      cwd,
      env: { ...LANGFUSE_ENV, ...CHANNEL_ENV, DAILY_BUDGET_FILE: 'budget' },
      needs: 'all',
    });
    expect(path).toBe('alerts.yaml');
    expect(config.alerts[0]?.threshold).toBe(42);

    const error = await configError(loadConfig({ path: 'alerts.yaml', cwd, env: LANGFUSE_ENV, needs: 'all' }));
    expect(error.issues[0]?.file).toBe('alerts.yaml');
  });

  it('prefers NAME over NAME_FILE and reports a NAME_FILE it cannot read', async () => {
    const { config } = await loadFixture('interpolation.yaml', {
      ...CHANNEL_ENV,
      DAILY_BUDGET: '1',
      SLACK_WEBHOOK_URL_FILE: '/nonexistent/secret',
    });
    expect(config.channels['slack-ops']).toMatchObject({ webhookUrl: CHANNEL_ENV.SLACK_WEBHOOK_URL });

    const error = await configError(
      loadFixture('interpolation.yaml', { SMTP_URL: CHANNEL_ENV.SMTP_URL, DAILY_BUDGET: '1', SLACK_WEBHOOK_URL_FILE: '/nonexistent/secret' }),
    );
    expect(error.format()).toBe(
      `${fixture('interpolation.yaml')}:7:17 channels.slack-ops.webhookUrl: cannot read SLACK_WEBHOOK_URL_FILE (/nonexistent/secret): ENOENT`,
    );
  });

  it('keeps a secret containing #, ": " and quotes one string', async () => {
    const secret = `s3cr#t: "quoted" 'too' # not a comment\n- not: a list`;
    const text = [
      'channels:',
      '  hook:',
      '    type: webhook',
      '    url: ${HOOK_URL}',
      '    secret: ${HOOK_SECRET}',
      'alerts:',
      '  - name: a',
      '    window: day',
      '    threshold: 1',
      '    channels: [hook]',
      '',
    ].join('\n');
    const { config, secrets } = await loadConfig({
      path: 'alerts.yaml',
      text,
      env: { ...LANGFUSE_ENV, HOOK_URL: 'https://example.com/hook?token=a#b', HOOK_SECRET: secret },
      needs: 'all',
    });
    expect(config.channels['hook']).toEqual({ type: 'webhook', url: 'https://example.com/hook?token=a#b', secret });
    expect(config.alerts).toHaveLength(1);
    expect(secrets).toContain(secret);
  });

  it('still reports a typo in the key of an unresolved reference', async () => {
    const text = readFileSync(fixture('minimal.yaml'), 'utf8').replace('threshold: 10', 'treshold: ${BUDGET}');
    const error = await configError(loadConfig({ path: 'alerts.yaml', text, env: LANGFUSE_ENV, needs: 'all' }));
    expect(error.format().split('\n')).toEqual([
      'alerts.yaml:5:5 alerts[0]: needs a rule: threshold, relative, forecast, perTrace or unpriced',
      'alerts.yaml:7:5 alerts[0].treshold: unknown key "treshold" (did you mean "threshold"?)',
      'alerts.yaml:7:15 alerts[0].treshold: environment variable BUDGET is not set',
    ]);
  });

  it('rejects a malformed reference', async () => {
    const text = readFileSync(fixture('minimal.yaml'), 'utf8').replace('threshold: 10', 'threshold: ${BUDGET-10}');
    const error = await configError(loadConfig({ path: 'alerts.yaml', text, env: LANGFUSE_ENV, needs: 'all' }));
    expect(error.format()).toBe(
      'alerts.yaml:7:16 alerts[0].threshold: invalid reference "${BUDGET-10}": write ${NAME} or ${NAME:-default}, and $$ for a literal $',
    );
  });

  it('hints at quoting when an unquoted reference breaks a flow sequence', async () => {
    const text = readFileSync(fixture('minimal.yaml'), 'utf8').replace('channels: [ops]', 'channels: [${CHANNEL}]');
    const error = await configError(loadConfig({ path: 'alerts.yaml', text, env: LANGFUSE_ENV, needs: 'all' }));
    expect(error.issues[0]?.message).toMatch(/must be quoted/);
  });
});

describe('parseTemplate', () => {
  it('splits text and references', () => {
    expect(parseTemplate('a ${X} b ${Y:-d:e} $$ $5')).toEqual({
      ok: true,
      parts: [{ text: 'a ' }, { variable: 'X' }, { text: ' b ' }, { variable: 'Y', fallback: 'd:e' }, { text: ' $ $5' }],
      variables: ['X', 'Y'],
    });
    expect(parseTemplate('${UNCLOSED').ok).toBe(false);
    expect(parseTemplate('${1BAD}').ok).toBe(false);
  });
});

describe('secrets', () => {
  const SECRET_ENV = {
    LANGFUSE_PUBLIC_KEY: 'pk-lf-TOK3N-public',
    LANGFUSE_SECRET_KEY: 'sk-lf-TOK3N-private',
    LF_URL: 'https://langfuse.example.com',
    SLACK_WEBHOOK_URL: 'https://hooks.slack.com/services/T0/B0/TOK3N-slack',
    SMTP_URL: 'smtp://mailer:TOK3N%40smtp@smtp.example.com:587',
    HOOK_URL: 'https://automation.example.com/TOK3N-hook',
    HOOK_SECRET: 'TOK3N-signing',
    BUDGET: '10',
  };

  it('lists every value of a secret-bearing key for redaction, URL passwords and the Langfuse key pair included', async () => {
    const { secrets } = await loadFixture('secrets.yaml', SECRET_ENV);
    expect([...secrets].sort()).toEqual(
      [
        SECRET_ENV.LANGFUSE_PUBLIC_KEY,
        SECRET_ENV.LANGFUSE_SECRET_KEY,
        `${SECRET_ENV.LANGFUSE_PUBLIC_KEY}:${SECRET_ENV.LANGFUSE_SECRET_KEY}`,
        SECRET_ENV.SLACK_WEBHOOK_URL,
        SECRET_ENV.SMTP_URL,
        'TOK3N%40smtp',
        'TOK3N@smtp',
        SECRET_ENV.HOOK_URL,
        SECRET_ENV.HOOK_SECRET,
      ].sort(),
    );
  });

  it('never puts a secret value into an error', async () => {
    const error = await configError(
      loadFixture('secrets.yaml', {
        ...SECRET_ENV,
        LF_URL: 'ftp://langfuse.example.com',
        SLACK_WEBHOOK_URL: 'ftp://hooks.slack.com/TOK3N-slack',
        SMTP_URL: 'mailto:TOK3N-smtp',
        HOOK_URL: 'TOK3N-hook',
        LANGFUSE_SECRET_KEY: '',
        HOOK_SECRET_FILE: tempFile(''),
        HOOK_SECRET: undefined,
      }),
    );
    expect(error.issues.map((issue) => issue.path)).toEqual([
      'langfuse.baseUrl',
      'langfuse.secretKey',
      'channels.slack-ops.webhookUrl',
      'channels.mail.smtpUrl',
      'channels.hook.url',
      'channels.hook.secret',
    ]);
    expect(error.format()).not.toMatch(/TOK3N/);
    expect(error.format()).toContain('channels.mail.smtpUrl: must start with smtp:// or smtps://');
  });

  it('keeps a literal secret out of a YAML syntax error', async () => {
    const text = 'channels:\n  s:\n    type: slack\n    webhookUrl: "https://hooks.slack.com/services/TOK3N-literal\nalerts: []\n';
    const error = await configError(loadConfig({ path: 'alerts.yaml', text, env: LANGFUSE_ENV, needs: 'all' }));
    expect(error.issues.length).toBeGreaterThan(0);
    expect(error.format()).not.toMatch(/TOK3N/);
  });
});
