// The Daemon in-process, where time and shutdown bounds can be set: readiness over time, and a
// shutdown whose evaluation outlives the grace period.
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { afterEach, beforeEach, expect, test } from 'vitest';
import { buildGeneration } from '../../src/cli/commands/run.js';
import { loadConfig } from '../../src/config/load.js';
import { describeState } from '../../src/cli/commands/status.js';
import { Daemon, type Generation } from '../../src/daemon/daemon.js';
import { startFakeLangfuse, type FakeLangfuse } from '../../tools/fake-langfuse/server.js';
import { createLogger } from '../../src/log/logger.js';
import { StateStore } from '../../src/storage/state-store.js';
import type { StartTimer } from '../../src/util/deadline.js';
import { freePort, spend } from '../support/cli-process.js';
import { startHttpReceiver, type HttpReceiver } from '../support/http-receiver.js';

let dir: string;
let fake: FakeLangfuse;
let receiver: HttpReceiver;
let daemon: Daemon | undefined;
let logText: string;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'spend-alerts-daemon-'));
  fake = await startFakeLangfuse({ observations: [spend('a', 5)] });
  receiver = await startHttpReceiver();
  logText = '';
});

afterEach(async () => {
  await daemon?.stop('test over');
  daemon = undefined;
  await fake.close();
  await receiver.close();
  await rm(dir, { recursive: true, force: true });
});

async function makeDaemon(
  clock: () => Date,
  shutdownGraceMs = 25_000,
  extraYaml = '',
  langfuseYaml = '',
  startTimer?: StartTimer,
): Promise<{ daemon: Daemon; store: StateStore }> {
  const configFile = join(dir, 'alerts.yaml');
  await writeFile(
    configFile,
    `langfuse: { baseUrl: "${fake.url}", publicKey: ${fake.publicKey}, secretKey: ${fake.secretKey}${langfuseYaml} }
schedule: "*/15 * * * *"
channels:
  hook: { type: webhook, url: "${receiver.url('/in')}" }
alerts:
  - { name: budget, window: 24h, threshold: 4, channels: [hook] }
${extraYaml}`,
  );
  const sink = new PassThrough();
  sink.setEncoding('utf8').on('data', (chunk: string) => {
    logText += chunk;
  });
  const store = new StateStore(join(dir, 'state'));
  const io = { stdout: sink, stderr: sink, env: {}, cwd: dir };
  const load = async (onRequest: Parameters<ConstructorParameters<typeof Daemon>[0]['load']>[0]): Promise<Generation> => {
    const { config } = await loadConfig({ path: configFile, env: {}, needs: 'all' });
    const log = createLogger({ level: 'info', format: 'json', redact: (text) => text, destination: sink });
    return buildGeneration({ config, log, redact: (text) => text }, io, join(dir, 'state'), onRequest, clock);
  };
  daemon = new Daemon({ load, configFile, store, port: await freePort(), clock, watch: false, shutdownGraceMs, ...(startTimer ? { startTimer } : {}) });
  return { daemon, store };
}

async function until(condition: () => boolean): Promise<void> {
  while (!condition()) await new Promise((resolve) => setTimeout(resolve, 20));
}

test('is ready after a successful evaluation, and not once successes are older than three schedule gaps', async () => {
  let now = new Date();
  const { daemon } = await makeDaemon(() => now);
  expect(daemon.readiness().ready).toBe(false);
  await daemon.start();
  await until(() => daemon.readiness().ready);
  expect(daemon.readiness().reason).toMatch(/^ok: last successful evaluation at /);

  now = new Date(now.getTime() + 44 * 60_000);
  expect(daemon.readiness().ready).toBe(true);
  now = new Date(now.getTime() + 2 * 60_000);
  expect(daemon.readiness()).toEqual({
    ready: false,
    reason: expect.stringMatching(/^last successful evaluation 2760 s ago, more than the 2700 s allowed$/),
  });
});

test('a failing evaluation makes it unready, with the reason', async () => {
  fake.inject({ kind: 'refuse-auth', path: '/api/public/v2/metrics', times: 10 });
  const { daemon } = await makeDaemon(() => new Date());
  await daemon.start();
  await until(() => /evaluation: 0 alert\(s\) evaluated, 1 failed/.test(logText));
  const readiness = daemon.readiness();
  expect(readiness.ready).toBe(false);
  expect(readiness.reason).toMatch(/^no successful evaluation yet; last failure: budget: .*refused the API keys/);
});

test('Langfuse failing for degradedAfter evaluations: a degraded notice and an unready worker saying so', async () => {
  fake.inject({ kind: 'status', status: 503, path: '/api/public/v2/metrics', times: 1000 });
  const { daemon } = await makeDaemon(() => new Date(), 25_000, 'degradedAfter: 1\n');
  await daemon.start();
  await until(() => receiver.requests.length > 0 && daemon.readiness().reason.startsWith('degraded'));
  expect(receiver.requests[0]!.json).toMatchObject({ kind: 'system', status: 'firing', alert: 'spend-alerts' });
  expect(daemon.readiness()).toEqual({ ready: false, reason: expect.stringMatching(/^degraded: Langfuse failing since .*HTTP 503/) });
  expect(await daemon.metrics.text()).toContain('spend_alerts_langfuse_degraded 1');
});

test('shutdown cancels an evaluation that outlives the grace period, and records it', async () => {
  fake.inject({ kind: 'hang', path: '/api/public/v2/metrics' });
  const { daemon, store } = await makeDaemon(() => new Date(), 100);
  await daemon.start();
  await until(() => fake.requests.some((r) => r.path === '/api/public/v2/metrics'));
  await daemon.stop('SIGTERM');
  expect(logText).toMatch(/did not finish within 0 s: cancelling it/);
  expect(logText).toMatch(/"msg":"stopped"/);
  const state = await store.load();
  expect(state.evaluations[0]).toMatchObject({ ok: false, alertsEvaluated: 0 });
  expect(receiver.requests).toHaveLength(0);
});

test('a schedule stretched by the request budget keeps it ready; past that, the 503 and status say since when evaluations wait', async () => {
  const t0 = new Date(Math.floor(Date.now() / 60_000) * 60_000);
  let now = t0;
  const { daemon, store } = await makeDaemon(() => now, 25_000, '', ', requestBudget: { perHour: 100 }');
  await daemon.start();
  await until(() => daemon.readiness().ready);

  // the hour's requests used up by evaluations of other processes: the budget holds the next ones back
  const budgetFile = join(dir, 'state', 'langfuse-budget.json');
  const budget = JSON.parse(await readFile(budgetFile, 'utf8')) as { log: Array<[number, number]> };
  await writeFile(budgetFile, JSON.stringify({ ...budget, log: [[t0.getTime(), 100]] }));
  const deferredAt = new Date(t0.getTime() + 46 * 60_000);
  now = deferredAt;
  // the tick the scheduler would run
  await daemon['evaluate'](['budget'], deferredAt);
  const retryAt = new Date(t0.getTime() + 61 * 60_000);
  const deferral = `evaluations deferred by the request budget since ${deferredAt.toISOString()} (next possible at ${retryAt.toISOString()})`;
  // 46 min without a success is more than 3 × 15 min, but the budget allows nothing before retryAt
  expect(daemon.readiness()).toEqual({ ready: true, reason: `ok: last successful evaluation at ${t0.toISOString()}; ${deferral}` });
  now = new Date(t0.getTime() + 61 * 60_000 + 45 * 60_000);
  expect(daemon.readiness().ready).toBe(true);
  now = new Date(now.getTime() + 1_000);
  expect(daemon.readiness()).toEqual({
    ready: false,
    reason: `last successful evaluation ${106 * 60 + 1} s ago, more than the ${106 * 60} s allowed; ${deferral}`,
  });

  const status = describeState(await store.load(), store.file, now);
  expect(status).toContain(
    `Last deferral by the request budget: ${deferredAt.toISOString()} (limit): 100 of 100 requests used in the last hour; next possible at ${retryAt.toISOString()}`,
  );
});

test('a channel that never answers is cut at its time limit: the evaluation ends and records it', async () => {
  receiver.enqueue({ hang: true });
  const limits: Array<{ what: string; expire: () => void }> = [];
  const startTimer: StartTimer = (_ms, expire, what) => {
    limits.push({ what, expire });
    return () => {};
  };
  const { daemon, store } = await makeDaemon(() => new Date(), 25_000, '', '', startTimer);
  await daemon.start();
  await receiver.waitForRequests(1);
  for (const limit of limits.filter((l) => l.what.startsWith('channel hook'))) limit.expire();
  await until(() => /evaluation: 1 alert\(s\) evaluated, 1 series firing, 0 notification\(s\) sent, 1 channel\(s\) failing/.test(logText));
  const [entry] = Object.values((await store.load()).outbox);
  expect(entry!.channels['hook']).toMatchObject({ attempts: 1, lastError: "webhook: no answer (channel hook's time limit of 30 s ran out)" });
  expect(daemon.readiness().reason).toContain("hook: webhook: no answer (channel hook's time limit of 30 s ran out)");
});

test('10,000 alerts: the start-up line names at most 20 of them with counts, /metrics stays under 1 MB with the firing series in it', async () => {
  // spend is 5: every 1,000th alert fires, the others don't
  const alerts = Array.from(
    { length: 10_000 },
    (_, i) => `  - { name: team-${i}-daily, window: 24h, threshold: ${i % 1000 === 999 ? 4 : 100 + i}, channels: [hook] }`,
  );
  const { daemon } = await makeDaemon(() => new Date(), 25_000, `${alerts.join('\n')}\n`);
  await daemon.start();
  await until(() => /evaluation: 10001 alert\(s\) evaluated/.test(logText));

  const startLine = logText.split('\n').find((line) => line.includes('"msg":"spend-alerts run: 10001 alert(s)'))!;
  expect(Buffer.byteLength(startLine)).toBeLessThan(4096);
  const { schedules } = JSON.parse(startLine) as { schedules: Array<{ schedule: string; alertCount: number; alerts: string[] }> };
  expect(schedules).toEqual([
    { schedule: '*/15 * * * *', next: expect.any(String), alertCount: 10_001, alerts: ['budget', ...Array.from({ length: 19 }, (_, i) => `team-${i}-daily`)] },
  ]);

  const response = await fetch(`http://127.0.0.1:${daemon.port}/metrics`);
  const metrics = await response.text();
  expect(Buffer.byteLength(metrics)).toBeLessThan(1_000_000);
  const seriesSamples = metrics.split('\n').filter((line) => /^spend_alerts_series_(spend_usd|firing|threshold_usd)\{/.test(line));
  expect(seriesSamples.length).toBeGreaterThan(1_900);
  expect(seriesSamples.length).toBeLessThanOrEqual(2_000);
  // firing first: all 11 of them (budget and every 1,000th), then by spend
  expect(seriesSamples.filter((line) => line.startsWith('spend_alerts_series_firing{') && line.endsWith(' 1'))).toHaveLength(11);
  expect(metrics).toContain('spend_alerts_series_firing{alert="team-9999-daily",group=""} 1');
}, 60_000);
