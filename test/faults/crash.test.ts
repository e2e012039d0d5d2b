// The process killed with SIGKILL between sending and recording: at most one notification is
// repeated, on one channel, and none is lost on any channel.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { afterEach, expect, test } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { LangfuseClient } from '../../src/langfuse/client.js';
import { LangfuseSpendSource } from '../../src/langfuse/spend-source.js';
import { createLogger } from '../../src/log/logger.js';
import { runCheck } from '../../src/pipeline/check.js';
import { StateStore } from '../../src/state/store.js';
import { createRedactor } from '../../src/util/redact.js';
import { buildChannels, closeChannels } from '../../src/cli/runtime.js';
import { startCli } from '../support/cli-process.js';
import { CHANNELS_YAML, SECRETS, startPeers } from '../support/harness.js';
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
  cli.child.kill('SIGKILL');
  expect((await cli.exited).signal).toBe('SIGKILL');

  // The next evaluation, once the dead process's claims have run out.
  const loaded = await loadConfig({ path: 'alerts.yaml', cwd: dir, env, needs: 'all' });
  const log = createLogger({ level: 'error', format: 'json', redact: (t) => t, destination: new PassThrough() });
  const channels = buildChannels(loaded.config, Object.keys(loaded.config.channels), { stdout: process.stdout, stderr: process.stderr, env, cwd: dir });
  const client = new LangfuseClient({ baseUrl: fake.url, publicKey: SECRETS.publicKey, secretKey: SECRETS.secretKey });
  try {
    const report = await runCheck({
      config: loaded.config,
      alerts: loaded.config.alerts,
      source: new LangfuseSpendSource(client),
      channels,
      store: new StateStore(join(dir, 'state')),
      now: new Date(Date.now() + 10 * 60_000),
      langfuseUrl: fake.url,
      log,
      redact: createRedactor(loaded.secrets),
      deliveryOptions: { baseDelayMs: 1, maxDelayMs: 5 },
    });
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
