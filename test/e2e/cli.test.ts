// The command line as users script against it: exit codes, what goes to stdout and stderr, and
// that no secret ever appears there. Runs `main` in-process against real local peers.
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { main } from '../../src/cli/main.js';
import type { FakeLangfuse } from '../../src/fake-langfuse/server.js';
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

async function cli(args: string[], options: { config?: string; env?: Record<string, string> } = {}) {
  await writeFile(join(dir, 'alerts.yaml'), options.config ?? ALERTS);
  let stdout = '';
  let stderr = '';
  const out = new PassThrough().on('data', (c: Buffer) => (stdout += c.toString()));
  const err = new PassThrough().on('data', (c: Buffer) => (stderr += c.toString()));
  const code = await main(args, { stdout: out, stderr: err, env: options.env ?? env, cwd: dir });
  return { code, stdout, stderr };
}

const secretValues = () => [
  SECRETS.publicKey,
  SECRETS.secretKey,
  SECRETS.slackPath,
  SECRETS.webhookPath,
  SECRETS.webhookSecret,
  SECRETS.smtpPass,
];

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
    expect(first.stderr).toContain('"notificationsDelivered":3');
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
    expectNoSecrets(result.stdout + result.stderr);
    const status = await cli(['status', '--state-dir', 'state']);
    expect(status.stdout).toContain('Pending deliveries: 1');
    expect(status.stdout).toContain('slack-ops');
    expectNoSecrets(status.stdout);
  });

  test('Langfuse refusing the keys: exit 1, one plain error line, no stack, no key', async () => {
    const result = await cli(['check', '--state-dir', 'state'], { env: { ...env, LANGFUSE_SECRET_KEY: 'sk-lf-wrong-key-999' } });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('Langfuse refused the API keys (HTTP 401');
    expect(result.stderr).not.toMatch(/\n\s+at /);
    expect(result.stderr).not.toContain('sk-lf-wrong-key-999');
    expectNoSecrets(result.stdout + result.stderr);
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

  test('--channel naming nothing is a usage error', async () => {
    const result = await cli(['test-notify', '--channel', 'pager']);
    expect(result.code).toBe(2);
  });
});

test('status on an empty state directory', async () => {
  const result = await cli(['status', '--state-dir', 'nothing-here']);
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
  expect(state.version).toBe(1);
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
