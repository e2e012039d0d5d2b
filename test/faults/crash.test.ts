// The process killed with SIGKILL between sending and recording: at most one notification is
// repeated, on one channel, and none is lost on any channel.
import { access, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { afterEach, expect, test } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { LangfuseClient } from '../../src/sources/langfuse/client.js';
import { createLogger } from '../../src/log/logger.js';
import { tick } from '../../src/engine/worker.js';
import { LOCK_FILE } from '../../src/storage/lock.js';
import { StateStore } from '../../src/storage/state-store.js';
import { createRedactor } from '../../src/util/redact.js';
import { buildChannels, closeChannels } from '../../src/cli/compose.js';
import { describeState } from '../../src/cli/commands/status.js';
import { startCli } from '../support/cli-process.js';
import { CHANNELS_YAML, checkSpendSource, SECRETS, startPeers } from '../support/harness.js';
import { spend } from '../support/observations.js';

const cleanups: Array<{ close(): Promise<void> }> = [];
let dir: string | undefined;
afterEach(async () => {
  await Promise.all(cleanups.splice(0).map((p) => p.close()));
  if (dir) await rm(dir, { recursive: true, force: true });
});

const ALERTS = ['alpha', 'beta', 'gamma'];
const CONFIG = `${CHANNELS_YAML}
alerts:
${ALERTS.map((name) => `  - name: ${name}\n    window: 24h\n    threshold: 1\n    filters: { traceName: ${name} }\n    channels: [slack-ops, finance-mail, automation]\n`).join('')}`;

/**
 * Resolves once no notification in the state file is pending for `channels` any more, and the
 * worker has let go of the state lock: killed while holding it, it would leave a lease that keeps
 * the next check (and the request budget) waiting in real time.
 */
async function recorded(stateDir: string, channels: string[]): Promise<void> {
  const store = new StateStore(stateDir);
  for (;;) {
    const { outbox } = await store.load();
    const entries = Object.values(outbox);
    const locked = await access(join(stateDir, LOCK_FILE)).then(() => true, () => false);
    if (!locked && entries.length > 0 && entries.every((entry) => channels.every((name) => !(name in entry.channels)))) return;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

test('SIGKILL between send and record: at most one duplicate on one channel, zero lost', async () => {
  dir = await mkdtemp(join(tmpdir(), 'spend-alerts-crash-'));
  const peers = await startPeers(ALERTS.map((name) => spend(new Date(Date.now() - 3600_000), 5, { traceName: name })));
  cleanups.push(peers);
  const { fake, slack, webhook, smtp, env } = peers;
  await writeFile(join(dir, 'alerts.yaml'), CONFIG);

  // The second webhook request is accepted by the receiver but never answered: the worker is
  // killed while it waits, after the peer may already have acted on it.
  webhook.enqueue({}, { hang: true });
  const cli = startCli({
    args: ['check', '--config', join(dir, 'alerts.yaml'), '--state-dir', join(dir, 'state')],
    env,
  });
  await webhook.waitForRequests(2);
  // Channels deliver concurrently: Slack and email are left to finish and record theirs, so the
  // one send in flight is the webhook's.
  await recorded(join(dir, 'state'), ['slack-ops', 'finance-mail']);
  cli.child.kill('SIGKILL');
  expect((await cli.exited).signal).toBe('SIGKILL');

  // The next evaluation, once the dead process's claims have run out (its clock too).
  const later = new Date(Date.now() + 10 * 60_000);
  const loaded = await loadConfig({ path: 'alerts.yaml', cwd: dir, env, needs: 'all' });
  const log = createLogger({ level: 'error', format: 'json', redact: (t) => t, destination: new PassThrough() });
  const channels = buildChannels(loaded.config, Object.keys(loaded.config.channels), { stdout: process.stdout, stderr: process.stderr, env, cwd: dir }, () => new Date());
  const client = new LangfuseClient({ baseUrl: fake.url, publicKey: SECRETS.publicKey, secretKey: SECRETS.secretKey });
  try {
    const report = await tick(
      {
        config: loaded.config,
        alerts: loaded.config.alerts,
        source: await checkSpendSource({ client, stateDir: join(dir, 'state'), config: loaded.config, log, readOnly: false }),
        channels,
        store: new StateStore(join(dir, 'state')),
        clock: () => later,
        langfuseUrl: fake.url,
        log,
        redact: createRedactor(loaded.secrets),
        deliveryOptions: { baseDelayMs: 1, maxDelayMs: 5 },
      },
      later,
    );
    expect(report.deliveryFailures).toEqual([]);
    expect(report.planned).toHaveLength(0);
  } finally {
    await closeChannels(channels);
  }

  const count = (texts: string[]) => Object.fromEntries(ALERTS.map((a) => [a, texts.filter((t) => t.includes(a)).length]));
  const perChannel = {
    slack: count(slack.requests.filter((r) => r.status === 200).map((r) => r.body)),
    email: count(smtp.messages.map((m) => m.parsed.subject + m.parsed.text)),
    webhook: count(webhook.requests.map((r) => (r.json as { alert: string }).alert)),
  };
  for (const [channel, counts] of Object.entries(perChannel)) {
    for (const alert of ALERTS) expect(counts[alert], `${alert} on ${channel}`).toBeGreaterThanOrEqual(1);
  }
  const duplicates = Object.entries(perChannel).flatMap(([channel, counts]) =>
    Object.entries(counts).filter(([, n]) => n > 1).map(([alert, n]) => ({ channel, alert, extra: n - 1 })),
  );
  // The one request in flight when the process died is the only one repeated.
  expect(duplicates).toHaveLength(1);
  expect(duplicates[0]).toMatchObject({ channel: 'webhook', extra: 1 });
});

test('after a SIGKILL, claims lapse within the channel limit + 10 s; until then status and check say who holds them', async () => {
  dir = await mkdtemp(join(tmpdir(), 'spend-alerts-claims-'));
  const peers = await startPeers([spend(new Date(Date.now() - 3600_000), 5, { traceName: 'alpha' })]);
  cleanups.push(peers);
  const { fake, webhook, env } = peers;
  await writeFile(join(dir, 'alerts.yaml'), CONFIG);
  const stateDir = join(dir, 'state');

  webhook.enqueue({ hang: true });
  const cli = startCli({ args: ['check', '--config', join(dir, 'alerts.yaml'), '--state-dir', stateDir, '--alert', 'alpha'], env });
  await webhook.waitForRequests(1);
  await recorded(stateDir, ['slack-ops', 'finance-mail']);
  const killedAt = Date.now();
  cli.child.kill('SIGKILL');
  await cli.exited;

  const store = new StateStore(stateDir);
  const state = await store.load();
  const claimedUntil = Object.values(state.outbox)[0]!.channels['automation']!.claimedUntil!;
  expect(Date.parse(claimedUntil)).toBeGreaterThan(killedAt);
  expect(Date.parse(claimedUntil)).toBeLessThanOrEqual(killedAt + 30_000 + 10_000);
  expect(describeState(state, store.file, new Date(killedAt))).toContain(`1 deliveries are claimed by another process until ${claimedUntil}`);

  const loaded = await loadConfig({ path: 'alerts.yaml', cwd: dir, env, needs: 'all' });
  let logText = '';
  const sink = new PassThrough().on('data', (chunk: Buffer) => (logText += chunk.toString()));
  const log = createLogger({ level: 'warn', format: 'json', redact: (t) => t, destination: sink });
  const channels = buildChannels(loaded.config, Object.keys(loaded.config.channels), { stdout: process.stdout, stderr: process.stderr, env, cwd: dir }, () => new Date());
  const client = new LangfuseClient({ baseUrl: fake.url, publicKey: SECRETS.publicKey, secretKey: SECRETS.secretKey });
  const checkAt = async (at: Date) =>
    tick(
      {
        config: loaded.config,
        alerts: loaded.config.alerts.filter((a) => a.name === 'alpha'),
        source: await checkSpendSource({ client, stateDir, config: loaded.config, log, readOnly: false }),
        channels,
        store,
        clock: () => at,
        langfuseUrl: fake.url,
        log,
        redact: (t) => t,
      },
      at,
    ).then((report) => {
        return report;
    });
  try {
    // a second before the claim runs out: left to the (dead) owner, and said so
    await checkAt(new Date(Date.parse(claimedUntil) - 1000));
    expect(webhook.requests).toHaveLength(1);
    expect(logText).toContain(`1 deliveries are claimed by another process until ${claimedUntil}: left to it`);
    // once it ran out: sent
    const report = await checkAt(new Date(Date.parse(claimedUntil) + 1));
    expect(report.deliveryFailures).toEqual([]);
    expect(webhook.requests.map((r) => r.status)).toEqual([undefined, 200]);
    expect(report.state.outbox).toEqual({});
  } finally {
    await closeChannels(channels);
  }
});
