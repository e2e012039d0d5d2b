// The command line as users script against it: exit codes, what goes to stdout and stderr, and
// that no secret ever appears there. Runs `main` in-process against real local peers.
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { main } from '../../src/cli/main.js';
import { STATE_VERSION } from '../../src/core/ledger.js';
import { startFakeLangfuse, type FakeLangfuse } from '../../tools/fake-langfuse/server.js';
import type { HttpReceiver } from '../support/http-receiver.js';
import { CHANNELS_YAML, SECRETS, startPeers, type Peers } from '../support/harness.js';
import { spend } from '../support/observations.js';
import type { TestSmtpServer } from '../support/smtp.js';

let dir: string;
let fake: FakeLangfuse;
let slack: HttpReceiver;
let webhook: HttpReceiver;
let smtp: TestSmtpServer;
let env: Record<string, string>;

let peers: Peers;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'spend-alerts-cli-'));
  peers = await startPeers([spend(new Date(Date.now() - 60_000), 61.25)]);
  ({ fake, slack, webhook, smtp, env } = peers);
});

afterEach(async () => {
  await peers.close();
  await rm(dir, { recursive: true, force: true });
});

const ALERTS = `${CHANNELS_YAML}
alerts:
  - name: rolling-budget
    window: 1h
    threshold: 50
    channels: [slack-ops, finance-mail, automation]
`;

async function cli(args: string[], options: { config?: string; env?: Record<string, string>; clock?: () => Date } = {}) {
  await writeFile(join(dir, 'alerts.yaml'), options.config ?? ALERTS);
  let stdout = '';
  let stderr = '';
  const out = new PassThrough().on('data', (c: Buffer) => (stdout += c.toString()));
  const err = new PassThrough().on('data', (c: Buffer) => (stderr += c.toString()));
  const code = await main(args, { stdout: out, stderr: err, env: options.env ?? env, cwd: dir }, options.clock);
  return { code, stdout, stderr };
}

/** stderr split into JSON log lines and the plain lines printed for people. */
function stderrLines(stderr: string): { logs: Array<Record<string, unknown>>; plain: string[] } {
  const logs: Array<Record<string, unknown>> = [];
  const plain: string[] = [];
  for (const line of stderr.split('\n').filter((l) => l !== '')) {
    try {
      logs.push(JSON.parse(line) as Record<string, unknown>);
    } catch {
      plain.push(line);
    }
  }
  return { logs, plain };
}

const secretValues = () => [
  SECRETS.publicKey,
  SECRETS.secretKey,
  SECRETS.slackPath,
  SECRETS.webhookPath,
  SECRETS.webhookSecret,
  SECRETS.smtpPass,
];

/** The Langfuse keys as a proxy may echo them: raw, paired, the Basic header, URL-encoded. */
function langfuseKeyForms(): string[] {
  const pair = `${SECRETS.publicKey}:${SECRETS.secretKey}`;
  const basic = Buffer.from(pair).toString('base64');
  return [SECRETS.publicKey, SECRETS.secretKey, pair, basic, `Basic ${basic}`, encodeURIComponent(pair), encodeURIComponent(`Basic ${basic}`)];
}

function expectNoSecrets(text: string): void {
  for (const secret of secretValues()) expect(text).not.toContain(secret);
}

describe('check', () => {
  test('delivers, records state, exits 0; a second check sends nothing', async () => {
    const first = await cli(['check', '--state-dir', 'state']);
    expect(first.code).toBe(0);
    expect(slack.requests).toHaveLength(1);
    expect(webhook.requests).toHaveLength(1);
    expect(smtp.messages).toHaveLength(1);
    expect(existsSync(join(dir, 'state', 'state.json'))).toBe(true);
    expect(first.stderr).toContain('"notificationsSent":3');
    const second = await cli(['check', '--state-dir', 'state']);
    expect(second.code).toBe(0);
    expect(slack.requests).toHaveLength(1);
    expectNoSecrets(first.stdout + first.stderr + second.stdout + second.stderr);
  });

  test('--dry-run prints what it would send, sends nothing, writes no state: only the request budget records its requests', async () => {
    const result = await cli(['check', '--dry-run', '--state-dir', 'state']);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('would send 1 notification(s) to slack-ops');
    expect(result.stdout).toContain('rolling-budget');
    expect(result.stdout).toContain('$61.25');
    expect(fake.requests.length).toBeGreaterThan(0);
    expect(slack.requests.length + webhook.requests.length + smtp.transactions()).toBe(0);
    expect(await readdir(join(dir, 'state'))).toEqual(['langfuse-budget.json']);
    expectNoSecrets(result.stdout + result.stderr);
  });

  test('a channel that refuses: exit 1, the others delivered, error line without secrets', async () => {
    slack.enqueue({ status: 404, body: 'no_service' });
    const result = await cli(['check', '--state-dir', 'state']);
    expect(result.code).toBe(1);
    expect(webhook.requests).toHaveLength(1);
    expect(smtp.messages).toHaveLength(1);
    expect(result.stderr).toContain('no_service');
    expect(stderrLines(result.stderr).plain).toEqual([
      expect.stringMatching(/^spend-alerts: channel slack-ops did not accept 1 notification\(s\): Slack: HTTP 404 from http:\/\/127\.0\.0\.1:\d+\/…: no_service$/),
      'Still pending: 1 delivery(ies). `run` tries again at the next attempt; every `check` tries again at once.',
      expect.stringMatching(/^  rolling-budget\|-\|[^ ]+ → slack-ops: pending since [^,]+, 1 failed attempt\(s\), last error: Slack: HTTP 404 .*no_service; next attempt at /),
    ]);
    expectNoSecrets(result.stdout + result.stderr);
    const status = await cli(['status', '--state-dir', 'state']);
    expect(status.stdout).toContain('Pending deliveries: 1');
    expect(status.stdout).toContain('slack-ops');
    expectNoSecrets(status.stdout);
  });

  test('a check after fixing a channel retries its pending delivery at once; check and status say what is pending', async () => {
    slack.enqueue({ status: 404, body: 'no_service' });
    const failed = await cli(['check', '--state-dir', 'state']);
    expect(failed.code).toBe(1);
    const left = failed.stderr.split('\n').filter((line) => !line.startsWith('{') && !line.startsWith('spend-alerts: '));
    expect(left[0]).toBe('Still pending: 1 delivery(ies). `run` tries again at the next attempt; every `check` tries again at once.');
    expect(left[1]).toMatch(
      /^ {2}rolling-budget\|.* → slack-ops: pending since \S+Z, 1 failed attempt\(s\), last error: Slack: HTTP 404 from .*no_service; next attempt at \S+Z$/,
    );
    const status = await cli(['status', '--state-dir', 'state']);
    expect(status.stdout).toContain(left[1]);

    // the backoff (1 min) is not over: `run` would wait, a check tries now
    const fixed = await cli(['check', '--state-dir', 'state']);
    expect(fixed.code).toBe(0);
    expect(slack.requests.map((r) => r.status)).toEqual([404, 200]);
    expect(fixed.stderr).not.toContain('Still pending');
    expect((await cli(['status', '--state-dir', 'state'])).stdout).toContain('Pending deliveries: 0');
    expectNoSecrets(failed.stderr + status.stdout + fixed.stderr);
  });

  test('Langfuse refusing the keys: exit 1, one plain error line, no stack, no key', async () => {
    const result = await cli(['check', '--state-dir', 'state'], { env: { ...env, LANGFUSE_SECRET_KEY: 'sk-lf-wrong-key-999' } });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('Langfuse refused the API keys (HTTP 401');
    expect(result.stderr).not.toMatch(/\n\s+at /);
    expect(result.stderr).not.toContain('sk-lf-wrong-key-999');
    expectNoSecrets(result.stdout + result.stderr);
  });

  test('an absurd Retry-After (99999999999999): the next check and status still work, paused for 24 h', async () => {
    fake.inject({ kind: 'status', status: 429, retryAfter: '99999999999999', path: '/api/public/v2/metrics' });
    const first = await cli(['check', '--state-dir', 'state']);
    expect(first.code).toBe(1);
    expect(first.stderr).toContain('Langfuse rate limit reached (HTTP 429; it may be retried in 24.0 h)');
    const queried = fake.requests.length;
    const second = await cli(['check', '--state-dir', 'state']);
    expect(second.code).toBe(1);
    expect(second.stderr).toMatch(/Langfuse asked to wait \(HTTP 429\) until \d{4}-\d\d-\d\dT[\d:.]+Z/);
    expect(second.stderr + first.stderr).not.toContain('Invalid time value');
    expect(fake.requests.length).toBe(queried);
    const stored = JSON.parse(await readFile(join(dir, 'state', 'state.json'), 'utf8')) as { langfuse: object };
    const budget = JSON.parse(await readFile(join(dir, 'state', 'langfuse-budget.json'), 'utf8')) as { pausedUntil: number };
    // the one pause (the request quota's) is 24 h from the first check, not 3 million years
    expect(stored.langfuse).not.toHaveProperty('blockedUntil');
    expect(budget.pausedUntil - fake.requests[0]!.at.getTime()).toBeLessThanOrEqual(24 * 3_600_000 + 60_000);
    const status = await cli(['status', '--state-dir', 'state']);
    expect(status.code).toBe(0);
    expect(status.stdout).toContain(`Langfuse asked not to be queried before ${new Date(budget.pausedUntil).toISOString()}`);
  });

  test('against a self-hosted Langfuse v3 (v2 answers 404), an evaluation with concurrent queries succeeds on v1', async () => {
    const v3 = await startFakeLangfuse({
      observations: [spend(new Date(Date.now() - 60_000), 61.25)],
      publicKey: env.LANGFUSE_PUBLIC_KEY,
      secretKey: env.LANGFUSE_SECRET_KEY,
      v2Enabled: false,
    });
    try {
      const config = `${CHANNELS_YAML}
alerts:
  - { name: rolling-budget, window: 1h, threshold: 50, channels: [terminal] }
  - { name: prod-budget, window: day, threshold: 50, filters: { environment: production }, channels: [terminal] }
  - { name: gpt-budget, window: day, threshold: 50, filters: { model: gpt-4o }, channels: [terminal] }
`;
      const result = await cli(['check', '--state-dir', 'state'], { config, env: { ...env, LANGFUSE_BASE_URL: v3.url } });
      expect(result.stderr).not.toContain('no such endpoint');
      expect(result.code).toBe(0);
      const v2 = v3.requests.filter((r) => r.path === '/api/public/v2/metrics');
      const v1 = v3.requests.filter((r) => r.path === '/api/public/metrics');
      // the queries went out together: more than one met v2's 404
      expect(v2.length).toBeGreaterThan(1);
      expect(v1.length).toBeGreaterThanOrEqual(v2.length);
      expect(v1.every((r) => r.status === 200)).toBe(true);
    } finally {
      await v3.close();
    }
  });

  test('the summary line counts the Langfuse requests and the time, from an injected clock; evaluatedAt is on the minute', async () => {
    const start = Date.now();
    // time passes with the work done, 250 ms per Langfuse request, however often the clock is read
    const clock = () => new Date(start + 250 * fake.requests.length);
    const result = await cli(['check', '--state-dir', 'state'], { clock });
    expect(result.code).toBe(0);
    const summary = stderrLines(result.stderr).logs.find((line) => line['event'] === 'evaluation');
    expect(summary).toMatchObject({
      alerts: ['rolling-budget'],
      langfuseRequests: fake.requests.length,
      ms: 250 * fake.requests.length,
      evaluatedAt: new Date(Math.floor(start / 60_000) * 60_000).toISOString(),
    });
    expect(fake.requests.length).toBeGreaterThan(0);
  });

  describe('Langfuse failing for every alert alike', () => {
    const THREE = `${CHANNELS_YAML}
alerts:
  - name: rolling-budget
    window: 1h
    threshold: 500
    channels: [terminal]
  - name: daily
    window: day
    threshold: 100
    channels: [terminal]
  - name: per-model
    window: 24h
    groupBy: model
    threshold: 100
    filters: { environment: production }
    channels: [terminal]
`;
    const wrongKey = () => ({ ...env, LANGFUSE_SECRET_KEY: 'sk-lf-wrong-key-999' });

    test('check: one plain line and one log line for the one error, naming every alert it affected', async () => {
      const result = await cli(['check', '--state-dir', 'state'], { config: THREE, env: wrongKey() });
      expect(result.code).toBe(1);
      const { logs, plain } = stderrLines(result.stderr);
      expect(plain).toEqual([
        expect.stringMatching(
          /^spend-alerts: Langfuse could not be read \(Langfuse refused the API keys \(HTTP 401[^\n]*\)\): 3 alerts not evaluated: rolling-budget, daily, per-model$/,
        ),
      ]);
      const errors = logs.filter((line) => line['level'] === 'error');
      expect(errors).toHaveLength(1);
      expect(errors[0]).toMatchObject({ alerts: ['rolling-budget', 'daily', 'per-model'], err: expect.stringMatching(/^Langfuse refused the API keys/) });
      expect(errors[0]!['msg']).toBe(plain[0]!.slice('spend-alerts: '.length));
      expect(result.stderr).not.toContain('sk-lf-wrong-key-999');
      const status = await cli(['status', '--state-dir', 'state'], { config: THREE, env: wrongKey() });
      expect(status.stdout.split('\n').filter((line) => line.startsWith('  error: '))).toEqual([`  error: ${errors[0]!['msg']}`]);
    });

    test('--dry-run says Langfuse could not be read, not that nothing would be sent', async () => {
      const result = await cli(['check', '--dry-run', '--state-dir', 'state'], { config: THREE, env: wrongKey() });
      expect(result.code).toBe(1);
      expect(result.stdout).toBe('Dry run: Langfuse could not be read: 3 of 3 alert(s) not evaluated (the errors are on stderr).\n');
      expect(stderrLines(result.stderr).plain).toHaveLength(1);
    });

    test('--dry-run with some alerts read: what would be sent for the others', async () => {
      fake.inject({ kind: 'status', status: 400, body: 'no such view', times: 1, path: '/api/public/v2/metrics' });
      const result = await cli(['check', '--dry-run'], { config: THREE });
      expect(result.code).toBe(1);
      // which filter set's request comes first is up to the planner: the unread alerts are those the log names
      const unread = stderrLines(result.stderr).logs.find((line) => line['level'] === 'error')?.['alerts'] as string[];
      expect([1, 2]).toContain(unread.length);
      expect(result.stdout).toBe(
        `Dry run: Langfuse could not be read: ${unread.length} of 3 alert(s) not evaluated (the errors are on stderr).\n` +
          `Dry run: nothing would be sent for the other ${3 - unread.length}.\n`,
      );
    });
  });

  test('a Langfuse proxy echoing the Authorization header: no key in any form in output, logs, state files, status or notices', async () => {
    // a 24h window reads finished hours, which the history cache keeps
    const config = `langfuse:\n  requestBudget: { perHour: 1000 }\n${ALERTS}  - { name: day, window: 24h, threshold: 1000, channels: [terminal] }\n`;
    expect((await cli(['check', '--state-dir', 'state'], { config })).code).toBe(0);
    fake.inject({ kind: 'echo-auth', times: 1000 });
    const failed = [];
    for (let i = 0; i < 3; i++) failed.push(await cli(['check', '--state-dir', 'state'], { config }));
    expect(failed.map((result) => result.code)).toEqual([1, 1, 1]);
    // the echo did happen, and what Langfuse said still reaches the user, without the keys
    expect(fake.requests.filter((r) => r.status === 401).length).toBeGreaterThanOrEqual(3);
    expect(failed[0]!.stderr).toContain('Langfuse refused the API keys (HTTP 401: Unauthorized: Authorization: Basic [REDACTED]');
    const status = await cli(['status', '--state-dir', 'state']);
    expect(status.stdout).toContain('Langfuse: 3 failed evaluation(s)');
    const files = await readdir(join(dir, 'state'));
    expect(files).toEqual(expect.arrayContaining(['state.json', 'langfuse-budget.json', 'langfuse-cache.json']));
    const stored = await Promise.all(files.map((file) => readFile(join(dir, 'state', file), 'utf8')));
    const notices = [...slack.requests.map((r) => r.body), ...webhook.requests.map((r) => r.body), ...smtp.messages.map((m) => `${m.raw}\n${m.parsed.text ?? ''}\n${m.parsed.html ?? ''}`)];
    expect(notices.join('\n')).toMatch(/Langfuse refused the API keys/);
    for (const text of [...failed.flatMap((r) => [r.stdout, r.stderr]), status.stdout, ...stored, ...notices]) {
      for (const form of langfuseKeyForms()) expect(text).not.toContain(form);
    }
  });

  test('money leaves without float noise: the webhook body, the state and status', async () => {
    const at = new Date(Date.now() - 60_000);
    fake.addObservations([spend(at, 0.1), spend(at, 0.2), spend(at, 0.7)]);
    expect((await cli(['check', '--state-dir', 'state'])).code).toBe(0);
    const body = webhook.requests[0]!.json as { value: number; threshold: number };
    const state = JSON.parse(await readFile(join(dir, 'state', 'state.json'), 'utf8')) as { series: Record<string, { lastValue: number }> };
    const stored = state.series['rolling-budget|']!.lastValue;
    for (const value of [body.value, stored]) {
      expect(value).toBeCloseTo(62.25, 9);
      // at most 10 significant digits: 62.25, not 62.25000000000001
      expect(String(value)).toMatch(/^\d+(\.\d{1,8})?$/);
    }
    expect(body.threshold).toBe(50);
    expect((await cli(['status', '--state-dir', 'state'])).stdout).toContain('last value $62.25');
  });

  test('--alert with an unknown name is a usage error', async () => {
    const result = await cli(['check', '--alert', 'nope']);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('no alert named "nope"');
  });
});

describe('invalid configuration exits 2 with file:line:col and path', () => {
  test.each([
    ['YAML syntax', `${CHANNELS_YAML}\nalerts:\n  - name: x\n    window: [day\n`, /alerts\.yaml:\d+:\d+/],
    ['typo in a key', `${CHANNELS_YAML}\nalerts:\n  - name: x\n    window: day\n    treshold: 5\n    channels: [terminal]\n`, /^\.\/alerts\.yaml:21:5 alerts\[0\]\.treshold: unknown key "treshold" \(did you mean "threshold"\?\)$/m],
    ['credentials in the Langfuse URL', `langfuse:\n  baseUrl: https://admin:pw-4711@langfuse.example.com\n${CHANNELS_YAML}\nalerts:\n  - name: x\n    window: day\n    threshold: 5\n    channels: [terminal]\n`, /^\.\/alerts\.yaml:2:12 langfuse\.baseUrl: must not hold credentials \(user:password@\)[^\n]*$(?![^]*pw-4711)/m],
    ['unknown channel', `${CHANNELS_YAML}\nalerts:\n  - name: x\n    window: day\n    threshold: 5\n    channels: [slak-ops]\n`, /^\.\/alerts\.yaml:22:16 alerts\[0\]\.channels\[0\]: unknown channel "slak-ops"/m],
  ])('%s', async (_name, config, pattern) => {
    const result = await cli(['validate'], { config });
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(pattern);
    expect(result.stderr).not.toMatch(/\n\s+at /);
  });

  test('an unset variable names it and its line', async () => {
    const { SLACK_WEBHOOK_URL: _unset, ...rest } = env;
    const result = await cli(['check'], { env: rest });
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/^\.\/alerts\.yaml:5:17 channels\.slack-ops\.webhookUrl: .*SLACK_WEBHOOK_URL/m);
    expect(fake.requests).toHaveLength(0);
  });

  test('test-notify only needs the variables of the channels it sends to', async () => {
    const { SLACK_WEBHOOK_URL: _unset, LANGFUSE_SECRET_KEY: _unset2, ...rest } = env;
    const result = await cli(['test-notify', '--channel', 'automation'], { env: rest });
    expect(result.code).toBe(0);
    expect(webhook.requests).toHaveLength(1);
    expect(webhook.requests[0]!.json).toMatchObject({ kind: 'system', test: true });
  });
});

describe('traced values are hostile: every terminal output shows control characters escaped', () => {
  // an OSC 8 link, a clear-screen, a bell and a NUL, as a model and a user name
  const LINK = '\u001b]8;;http://evil\u0007';
  const MODEL = `gpt-4o${LINK}click\u001b]8;;\u0007\u001b[2J`;
  const USER = `user\u0007\u0000${LINK}`;
  const RAW_CONTROL = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/;
  const HOSTILE = `${CHANNELS_YAML}
alerts:
  - name: per-model
    window: 1h
    groupBy: model
    threshold: 10
    channels: [terminal, slack-ops]
  - name: per-user
    window: 1h
    groupBy: userId
    threshold: 10
    channels: [terminal]
  - name: filtered
    window: 1h
    threshold: 10
    filters: { metadata: { team: "ops\\e]8;;http://evil\\a\\0" } }
    channels: [terminal]
`;

  test('check --dry-run, check through the console channel, status and validate', async () => {
    fake.addObservations([spend(new Date(Date.now() - 60_000), 30, { model: MODEL, userId: USER }), spend(new Date(Date.now() - 60_000), 20, { model: null })]);
    // a peer's answer is quoted in errors: hostile too
    slack.enqueue({ status: 400, body: `invalid\u001b[2J${LINK}payload` }, { status: 400, body: `invalid\u001b[2J${LINK}payload` });
    const dryRun = await cli(['check', '--dry-run', '--state-dir', 'state'], { config: HOSTILE });
    const check = await cli(['check', '--state-dir', 'state'], { config: HOSTILE });
    const status = await cli(['status', '--state-dir', 'state']);
    const validate = await cli(['validate'], { config: HOSTILE });
    const testNotify = await cli(['test-notify', '--channel', 'slack-ops'], { config: HOSTILE });
    expect([dryRun.code, check.code, status.code, validate.code, testNotify.code]).toEqual([0, 1, 0, 0, 1]);
    for (const output of [status.stdout, testNotify.stdout]) expect(output).toContain('invalid\\x1b[2J\\x1b]8;;http://evil\\x07payload');
    // the state holds the names as Langfuse sent them; only what is shown is escaped
    expect(await readFile(join(dir, 'state', 'state.json'), 'utf8')).toContain(JSON.stringify(MODEL).slice(1, -1));
    for (const output of [dryRun.stdout, check.stdout, status.stdout]) {
      expect(output).toContain('model=gpt-4o\\x1b]8;;http://evil\\x07click\\x1b]8;;\\x07\\x1b[2J');
      expect(output).toContain('userId=user\\x07\\x00\\x1b]8;;http://evil\\x07');
    }
    expect(status.stdout).toContain('per-model [model=(none)]');
    expect(validate.stdout).toContain('metadata team = ops\\x1b]8;;http://evil\\x07\\x00');
    for (const output of [dryRun, check, status, validate, testNotify].flatMap((result) => [result.stdout, result.stderr])) {
      expect(output).not.toMatch(RAW_CONTROL);
    }
  });
});

describe('validate', () => {
  test('prints a summary, touches no network, shows no secret', async () => {
    const result = await cli(['validate']);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('rolling-budget');
    expect(result.stdout).toMatch(/requests/i);
    expect(fake.requests).toHaveLength(0);
    expect(slack.requests.length + webhook.requests.length + smtp.transactions()).toBe(0);
    expectNoSecrets(result.stdout + result.stderr);
  });
});

describe('test-notify', () => {
  test('every channel: exit 0 when all accept, marked as a test', async () => {
    const result = await cli(['test-notify']);
    expect(result.code).toBe(0);
    expect(slack.requests).toHaveLength(1);
    expect(smtp.messages).toHaveLength(1);
    expect(webhook.requests).toHaveLength(1);
    expect(result.stdout).toContain('TEST');
    expect(slack.requests[0]!.body).toMatch(/test/i);
    expectNoSecrets(result.stdout + result.stderr);
  });

  test('exit 1 when a channel refuses', async () => {
    webhook.enqueue({ status: 403, body: 'forbidden' });
    const result = await cli(['test-notify']);
    expect(result.code).toBe(1);
    expect(result.stdout).toMatch(/✗ automation/);
    expectNoSecrets(result.stdout + result.stderr);
  });

  test('a channel that accepts the test notification has its pending deliveries due at once; no state directory is created', async () => {
    slack.enqueue({ status: 404, body: 'no_service' });
    await cli(['check', '--state-dir', 'state']);
    const before = JSON.parse(await readFile(join(dir, 'state', 'state.json'), 'utf8')) as { outbox: Record<string, { channels: Record<string, { nextAttemptAt: string }> }> };
    const waiting = Object.values(before.outbox)[0]!.channels['slack-ops']!.nextAttemptAt;
    expect(Date.parse(waiting)).toBeGreaterThan(Date.now());

    const result = await cli(['test-notify', '--channel', 'slack-ops', '--state-dir', 'state']);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('1 pending delivery(ies) to slack-ops are due again');
    const after = JSON.parse(await readFile(join(dir, 'state', 'state.json'), 'utf8')) as typeof before;
    const entry = Object.values(after.outbox)[0]!;
    expect(Date.parse(entry.channels['slack-ops']!.nextAttemptAt)).toBeLessThanOrEqual(Date.now());
    expect(await readdir(join(dir, 'state'))).not.toContain('state.lock');

    expect((await cli(['test-notify', '--channel', 'slack-ops', '--state-dir', 'fresh'])).code).toBe(0);
    expect(existsSync(join(dir, 'fresh'))).toBe(false);
  });

  test("links the Langfuse base URL (never \"\"): the configured one, else Langfuse Cloud", async () => {
    const links = async (options: { config?: string; env?: Record<string, string> }) => {
      const before = webhook.requests.length;
      expect((await cli(['test-notify', '--channel', 'automation'], options)).code).toBe(0);
      return (webhook.requests[before]!.json as { langfuseUrl: string }).langfuseUrl;
    };
    const { LANGFUSE_BASE_URL: _unset, ...withoutBaseUrl } = env;
    expect(await links({})).toBe(fake.url);
    expect(await links({ config: `langfuse:\n  baseUrl: https://langfuse.example.com/prefix/?x=1\n${ALERTS}` })).toBe('https://langfuse.example.com/prefix');
    expect(await links({ env: withoutBaseUrl })).toBe('https://cloud.langfuse.com');
    // a variable test-notify doesn't need, unset
    expect(await links({ config: `langfuse:\n  baseUrl: \${MY_LANGFUSE_URL}\n${ALERTS}` })).toBe('https://cloud.langfuse.com');
  });

  test('--channel naming nothing is a usage error', async () => {
    const result = await cli(['test-notify', '--channel', 'pager']);
    expect(result.code).toBe(2);
  });
});

test('status hides credentials a state file written by an older version may hold', async () => {
  expect((await cli(['check', '--state-dir', 'state'])).code).toBe(0);
  const file = join(dir, 'state', 'state.json');
  const state = JSON.parse(await readFile(file, 'utf8')) as { evaluations: Array<{ errors: string[] }> };
  state.evaluations[0]!.errors = ['old: HTTP 401: Authorization: Basic cGstbGYtb2xkOnNrLWxmLW9sZA== from https://bob:hunter22@proxy.example.com'];
  await writeFile(file, JSON.stringify(state));
  const status = await cli(['status', '--state-dir', 'state']);
  expect(status.stdout).toContain('error: old: HTTP 401: Authorization: Basic [REDACTED] from https://bob:[REDACTED]@proxy.example.com');
  expect(status.stdout).not.toMatch(/cGstbGYtb2xk|hunter22/);
});

test('status on an empty state directory', async () => {
  await mkdir(join(dir, 'empty'));
  const result = await cli(['status', '--state-dir', 'empty']);
  expect(result.code).toBe(0);
  expect(result.stdout).toContain('Last evaluation: never');
});

test('usage errors exit 2', async () => {
  expect((await cli(['frobnicate'])).code).toBe(2);
  expect((await cli(['check', '--channel', 'x'])).code).toBe(2);
  expect((await cli(['check', '--log-level', 'loud'])).code).toBe(2);
});

test('state is written atomically with a version', async () => {
  await cli(['check', '--state-dir', 'state']);
  const state = JSON.parse(await readFile(join(dir, 'state', 'state.json'), 'utf8')) as { version: number; series: object };
  expect(state.version).toBe(STATE_VERSION);
  expect(Object.keys(state.series)).toEqual(['rolling-budget|']);
});

test('a corrupt state file is moved aside and reported; check goes on', async () => {
  await mkdir(join(dir, 'state'));
  await writeFile(join(dir, 'state', 'state.json'), '{"version": 1, "outbox": {');
  const result = await cli(['check', '--state-dir', 'state']);
  expect(result.code).toBe(0);
  expect(result.stderr).toContain('the state file was damaged (the state file is not valid JSON): moved aside to');
  expect(webhook.requests).toHaveLength(1);
  expect((await readdir(join(dir, 'state'))).some((name) => name.startsWith('state.json.corrupt-'))).toBe(true);
});
