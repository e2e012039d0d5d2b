// One evaluation pipeline wired to real local peers: the fake Langfuse, an HTTP receiver for
// Slack and webhooks, an SMTP server. Only `now` is chosen by the test. Langfuse is read through
// the planner `check` uses (history cache in the state directory, request budget), so scenarios
// exercise the code that ships.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { loadConfig } from '../../src/config/load.js';
import type { Config } from '../../src/config/schema.js';
import { startFakeLangfuse, type FakeLangfuse, type FakeObservation } from '../../tools/fake-langfuse/server.js';
import { createLogger } from '../../src/log/logger.js';
import { tick, type CheckPolicy, type CheckReport } from '../../src/engine/worker.js';
import { LangfuseClient, langfuseIdentity } from '../../src/sources/langfuse/client.js';
import { createSpendSource, openRequestQuota, type PlannedSpendSource, type SpendSourceOptions } from '../../src/sources/langfuse/planner/index.js';
import { plannerSettings } from '../../src/config/planner-settings.js';
import type { Logger } from '../../src/log/logger.js';
import { StateStore } from '../../src/storage/state-store.js';
import { buildChannels, closeChannels } from '../../src/cli/compose.js';
import type { StartTimer } from '../../src/util/deadline.js';
import { createRedactor } from '../../src/util/redact.js';
import { startHttpReceiver, type HttpReceiver } from './http-receiver.js';
import { startSmtpServer, type TestSmtpServer } from './smtp.js';

export const SECRETS = {
  publicKey: 'pk-lf-e2e-public-4711',
  secretKey: 'sk-lf-e2e-secret-0815',
  slackPath: '/services/T0000/B0000/slacktoken123456',
  webhookPath: '/hooks/abcdef-secret-path',
  webhookSecret: 'whsec-signing-secret-42',
  smtpPass: 'smtp-pass-s3cr3t',
};

export interface Harness {
  readonly fake: FakeLangfuse;
  readonly slack: HttpReceiver;
  readonly webhook: HttpReceiver;
  readonly smtp: TestSmtpServer;
  readonly env: Record<string, string>;
  readonly stateDir: string;
  readonly logs: () => string;
  readonly stdout: () => string;
  readonly store: StateStore;
  config(): Config;
  check(now: Date, alerts?: string[], options?: { dryRun?: boolean }): Promise<CheckReport>;
  close(): Promise<void>;
}

export const CHANNELS_YAML = `
channels:
  slack-ops:
    type: slack
    webhookUrl: \${SLACK_WEBHOOK_URL}
  finance-mail:
    type: email
    smtpUrl: \${SMTP_URL}
    from: LLM spend <alerts@example.com>
    to: [finance@example.com]
  automation:
    type: webhook
    url: \${ALERT_WEBHOOK_URL}
    secret: \${ALERT_WEBHOOK_SECRET}
  terminal:
    type: console
`;

export interface HarnessOptions {
  readonly policy?: Partial<CheckPolicy>;
  /** Langfuse tries per request (fast retries in tests) */
  readonly langfuseAttempts?: number;
  readonly langfuseTimeoutMs?: number;
  /** the delivery phase's and the channels' time limits (tests make them run out when they choose) */
  readonly startTimer?: StartTimer;
  /** the wall clock for claims on deliveries */
  readonly clock?: () => Date;
}

/** Every peer of the worker, on 127.0.0.1, and the environment that points CHANNELS_YAML at them. */
export interface Peers {
  readonly fake: FakeLangfuse;
  readonly slack: HttpReceiver;
  readonly webhook: HttpReceiver;
  readonly smtp: TestSmtpServer;
  readonly env: Record<string, string>;
  close(): Promise<void>;
}

export async function startPeers(observations: FakeObservation[] = []): Promise<Peers> {
  const fake = await startFakeLangfuse({ observations, publicKey: SECRETS.publicKey, secretKey: SECRETS.secretKey });
  const slack = await startHttpReceiver();
  const webhook = await startHttpReceiver();
  const smtp = await startSmtpServer({ auth: { user: 'alerts', pass: SECRETS.smtpPass } });
  const env = {
    LANGFUSE_BASE_URL: fake.url,
    LANGFUSE_PUBLIC_KEY: SECRETS.publicKey,
    LANGFUSE_SECRET_KEY: SECRETS.secretKey,
    SLACK_WEBHOOK_URL: slack.url(SECRETS.slackPath),
    SMTP_URL: smtp.url({ user: 'alerts', pass: SECRETS.smtpPass }),
    ALERT_WEBHOOK_URL: webhook.url(SECRETS.webhookPath),
    ALERT_WEBHOOK_SECRET: SECRETS.webhookSecret,
  };
  return {
    fake,
    slack,
    webhook,
    smtp,
    env,
    close: async () => {
      await Promise.all([fake.close(), slack.close(), webhook.close(), smtp.close()]);
    },
  };
}

/**
 * Langfuse read as one `check` reads it (src/cli/compose.ts buildLangfuse): a planner of its own,
 * with the history cache earlier checks left in the state directory and the request budget they
 * recorded there.
 */
export async function checkSpendSource(options: {
  client: LangfuseClient;
  stateDir: string;
  config: Config;
  log: Logger;
  readOnly: boolean;
}): Promise<PlannedSpendSource> {
  const { client, stateDir, config, log, readOnly } = options;
  const budget = await openRequestQuota({ stateDir, requestBudget: config.langfuse.requestBudget, log });
  const project = langfuseIdentity(config.langfuse.baseUrl, config.langfuse.publicKey);
  return createSpendSource({ client, stateDir, project, settings: plannerSettings(config), log, readOnly, budget });
}

export async function startHarness(
  alertsYaml: string,
  observations: FakeObservation[] = [],
  options: HarnessOptions = {},
): Promise<Harness> {
  const peers = await startPeers(observations);
  const { fake, slack, webhook, smtp, env } = peers;
  const stateDir = await mkdtemp(join(tmpdir(), 'spend-alerts-e2e-'));
  const text = /^channels:/m.test(alertsYaml) ? alertsYaml : `${CHANNELS_YAML}\n${alertsYaml}`;
  const loaded = await loadConfig({ path: 'alerts.yaml', text, env, needs: 'all' });
  const redact = createRedactor(loaded.secrets);
  let logText = '';
  let outText = '';
  const logStream = new PassThrough().on('data', (chunk: Buffer) => (logText += chunk.toString()));
  const stdout = new PassThrough().on('data', (chunk: Buffer) => (outText += chunk.toString()));
  const log = createLogger({ level: 'debug', format: 'json', redact, destination: logStream });
  const io = { stdout, stderr: logStream, env, cwd: stateDir };
  const channels = buildChannels(loaded.config, Object.keys(loaded.config.channels), io, options.clock ?? (() => new Date()));
  const client = new LangfuseClient({
    baseUrl: loaded.config.langfuse.baseUrl,
    publicKey: loaded.config.langfuse.publicKey,
    secretKey: loaded.config.langfuse.secretKey,
    maxAttempts: options.langfuseAttempts ?? 3,
    timeoutMs: options.langfuseTimeoutMs ?? 2_000,
    baseDelayMs: 1,
    maxDelayMs: 5,
    maxRetryAfterSeconds: 1,
    sleep: async () => {},
  });
  const store = new StateStore(stateDir);

  return {
    fake,
    slack,
    webhook,
    smtp,
    env,
    stateDir,
    logs: () => logText,
    stdout: () => outText,
    store,
    config: () => loaded.config,
    async check(now, alerts, runOptions = {}) {
      const config = loaded.config;
      const source = await checkSpendSource({ client, stateDir, config, log, readOnly: runOptions.dryRun ?? false });
      return tick(
        {
          config,
          alerts: alerts ? config.alerts.filter((a) => alerts.includes(a.name)) : config.alerts,
          source,
          channels,
          store,
          langfuseUrl: `${fake.url}/project/${fake.projectId}`,
          log,
          redact,
          deliveryOptions: { baseDelayMs: 1, maxDelayMs: 5 },
          ...(options.policy ? { policy: options.policy } : {}),
          ...(options.startTimer ? { startTimer: options.startTimer } : {}),
          clock: options.clock ?? (() => new Date()),
          ...(runOptions.dryRun ? { dryRun: true } : {}),
        },
        now,
      );
    },
    async close() {
      await closeChannels(channels);
      await peers.close();
      await rm(stateDir, { recursive: true, force: true });
    },
  };
}
