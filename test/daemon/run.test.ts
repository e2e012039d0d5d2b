// `spend-alerts run` as a real process against the fake Langfuse and a webhook receiver, on a
// seconds-level schedule: scheduling, delivery across evaluations, metrics, readiness, shutdown.
import { mkdtemp, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { startFakeLangfuse, type FakeLangfuse } from '../../src/fake-langfuse/server.js';
import { freePort, isEvaluation, spend, startCli, type CliProcess } from '../support/cli-process.js';
import { startHttpReceiver, type HttpReceiver } from '../support/http-receiver.js';

const METRICS_PATH = '/api/public/v2/metrics';
// not a word that appears elsewhere: the path of a webhook URL is redacted from logs
const HOOK = '/hook-7f3a9c';

let dir: string;
let fake: FakeLangfuse;
let receiver: HttpReceiver;
let daemon: CliProcess | undefined;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'spend-alerts-run-'));
  fake = await startFakeLangfuse({ observations: [spend('a', 3), spend('b', 2, { providedModelName: 'claude-sonnet-4' })] });
  receiver = await startHttpReceiver();
});

afterEach(async () => {
  await daemon?.kill();
  daemon = undefined;
  await fake.close();
  await receiver.close();
  await rm(dir, { recursive: true, force: true });
});

function config(alerts: string): string {
  return `langfuse:
  baseUrl: ${fake.url}
  publicKey: ${fake.publicKey}
  secretKey: ${fake.secretKey}
schedule: "*/2 * * * * *"
channels:
  hook:
    type: webhook
    url: ${receiver.url(HOOK)}
alerts:
${alerts}`;
}

const BUDGET = `  - name: budget
    window: 24h
    threshold: 4
    channels: [hook]
`;

async function run(text: string, extraArgs: string[] = []): Promise<{ port: number; configFile: string }> {
  const configFile = join(dir, 'alerts.yaml');
  await writeFile(configFile, text);
  const port = await freePort();
  daemon = startCli({
    args: ['run', '--config', configFile, '--state-dir', join(dir, 'state'), '--port', String(port), ...extraArgs],
  });
  return { port, configFile };
}

async function get(port: number, path: string): Promise<{ status: number; body: string }> {
  const response = await fetch(`http://127.0.0.1:${port}${path}`);
  return { status: response.status, body: await response.text() };
}

/** Polls until the daemon's HTTP server answers (it starts before the first evaluation). */
async function listening(port: number): Promise<void> {
  for (;;) {
    try {
      await get(port, '/healthz');
      return;
    } catch {
      if (daemon!.child.exitCode !== null) throw new Error(`run exited: ${daemon!.plainStderr.join('\n')}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
}

async function state(): Promise<{ series: Record<string, { notified: string[] }>; outbox: object; lastEvaluation: { ok: boolean } | null }> {
  return JSON.parse(await readFile(join(dir, 'state', 'state.json'), 'utf8'));
}

describe('spend-alerts run', () => {
  test('delivers a firing alert once across several scheduled evaluations', async () => {
    await run(config(BUDGET));
    await daemon!.waitForLogs(isEvaluation, 4, 'four evaluations');
    const hooks = receiver.requests.filter((r) => r.path === HOOK);
    expect(hooks).toHaveLength(1);
    expect(hooks[0]!.json).toMatchObject({ alert: 'budget', status: 'firing', severity: 'critical', value: 5, threshold: 4 });
    const summary = daemon!.logs.filter(isEvaluation);
    expect(summary[0]).toMatchObject({ alertsEvaluated: 1, firing: 1, notificationsSent: 1, alerts: ['budget'] });
    expect(summary[1]).toMatchObject({ alertsEvaluated: 1, firing: 1, notificationsSent: 0 });
    expect(summary[0]!['langfuseRequests']).toBeGreaterThanOrEqual(1);
    expect((await state()).series['budget|']?.notified).toEqual(['critical']);
  });

  test('evaluates alerts due at the same moment together, in one evaluation', async () => {
    await run(
      config(`${BUDGET}  - name: models
    window: 24h
    groupBy: model
    threshold: 100
    schedule: "*/4 * * * * *"
    channels: [hook]
`),
    );
    const evaluations = await daemon!.waitForLogs(isEvaluation, 5, 'five evaluations', 30_000);
    expect(evaluations[0]!['alerts']).toEqual(['budget', 'models']);
    const later = evaluations.slice(1).map((line) => [...(line['alerts'] as string[])].sort());
    // every moment that is due for "models" (*/4) is also due for "budget" (*/2)
    expect(later).toContainEqual(['budget', 'models']);
    expect(later).toContainEqual(['budget']);
    expect(later).not.toContainEqual(['models']);
  }, 40_000);

  test('never overlaps evaluations when Langfuse is slower than the schedule', async () => {
    fake.inject({ kind: 'delay', ms: 3_000, path: METRICS_PATH, times: 100 });
    await run(config(BUDGET));
    const evaluations = await daemon!.waitForLogs(isEvaluation, 3, 'three evaluations', 30_000);
    const answered = fake.requests.filter((r) => r.path === METRICS_PATH).length;
    for (let i = 1; i < evaluations.length; i++) {
      const previous = evaluations[i - 1]!;
      const previousEnd = Date.parse(previous['evaluatedAt'] as string) + (previous['ms'] as number);
      expect(Date.parse(evaluations[i]!['evaluatedAt'] as string)).toBeGreaterThanOrEqual(previousEnd);
    }
    // each evaluation asks once; ticks during a slow one were coalesced, not piled up as requests
    expect(answered).toBeGreaterThanOrEqual(3);
    expect(answered).toBeLessThanOrEqual(evaluations.length + 1);
    for (const line of evaluations) expect(line['alerts']).toEqual(['budget']);
    expect(receiver.requests.filter((r) => r.path === HOOK)).toHaveLength(1);
  }, 40_000);

  test('serves /healthz, /readyz and /metrics with the spend of every series', async () => {
    // the first evaluation is held up, so readiness can be seen before it
    fake.inject({ kind: 'delay', ms: 4_000, path: METRICS_PATH });
    const { port } = await run(
      config(`  - name: per-model
    window: 24h
    groupBy: model
    threshold: 2.5
    channels: [hook]
`),
    );
    await listening(port);
    expect(await get(port, '/healthz')).toEqual({ status: 200, body: 'ok\n' });
    const before = await get(port, '/readyz');
    expect(before.status).toBe(503);
    expect(before.body).toMatch(/no successful evaluation yet/);

    await daemon!.waitForLog(isEvaluation, 'the first evaluation');
    const after = await get(port, '/readyz');
    expect(after.status).toBe(200);
    const { status, body } = await get(port, '/metrics');
    expect(status).toBe(200);
    expect(body).toContain('spend_alerts_series_spend_usd{alert="per-model",group="model=gpt-4o"} 3');
    expect(body).toContain('spend_alerts_series_spend_usd{alert="per-model",group="model=claude-sonnet-4"} 2');
    expect(body).toContain('spend_alerts_series_firing{alert="per-model",group="model=gpt-4o"} 1');
    expect(body).toContain('spend_alerts_series_firing{alert="per-model",group="model=claude-sonnet-4"} 0');
    expect(body).toContain('spend_alerts_series_threshold_usd{alert="per-model",group="model=gpt-4o",severity="critical"} 2.5');
    expect(body).toContain('spend_alerts_notifications_total{channel="hook",outcome="sent"} 1');
    expect(body).toMatch(/spend_alerts_langfuse_requests_total\{endpoint="metrics-v2",status="200"\} [1-9]/);
    expect(body).toMatch(/spend_alerts_evaluations_total [1-9]/);
    expect(body).toMatch(/spend_alerts_last_successful_evaluation_timestamp_seconds [1-9]/);
    expect(body).toMatch(/spend_alerts_evaluation_duration_seconds_count [1-9]/);
    expect((await get(port, '/nope')).status).toBe(404);
    expect((await fetch(`http://127.0.0.1:${port}/metrics`, { method: 'POST' })).status).toBe(405);
  }, 30_000);

  test('SIGTERM during an evaluation lets it finish, saves state and exits 0', async () => {
    fake.inject({ kind: 'delay', ms: 3_000, path: METRICS_PATH });
    await run(config(BUDGET));
    // the project lookup is answered at once: from then on the first evaluation is in flight
    while (!fake.requests.some((r) => r.path === '/api/public/projects')) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    daemon!.child.kill('SIGTERM');
    expect(await daemon!.exited).toEqual({ code: 0, signal: null });
    expect(daemon!.logs.map((line) => line.msg)).toEqual(
      expect.arrayContaining([expect.stringMatching(/^SIGTERM: stopping after the evaluation in flight/), 'stopped']),
    );
    expect(daemon!.logs.filter(isEvaluation)).toHaveLength(1);
    expect(receiver.requests.filter((r) => r.path === HOOK)).toHaveLength(1);
    const saved = await state();
    expect(saved.series['budget|']?.notified).toEqual(['critical']);
    expect(saved.lastEvaluation?.ok).toBe(true);
    expect(saved.outbox).toEqual({});
  }, 30_000);

  test('SIGTERM between evaluations exits 0 at once', async () => {
    await run(config(BUDGET));
    await daemon!.waitForLog(isEvaluation, 'the first evaluation');
    daemon!.child.kill('SIGINT');
    expect(await daemon!.exited).toEqual({ code: 0, signal: null });
    expect(daemon!.logs.at(-1)?.msg).toBe('stopped');
  });
});

describe('reloading alerts.yaml', () => {
  const BROKEN = `  - name: budget
    window: 24h
    thresold: 4
    channels: [hook, pager]
`;
  const GROWN = `  - name: budget
    window: 24h
    threshold: 4.5
    channels: [hook]
  - name: per-model
    window: 24h
    groupBy: model
    threshold: 2.5
    channels: [hook]
`;

  test('SIGHUP with a broken file keeps the running configuration; a valid one is then picked up', async () => {
    const { port, configFile } = await run(config(BUDGET));
    await daemon!.waitForLog(isEvaluation, 'the first evaluation');

    await writeFile(configFile, config(BROKEN));
    const validate = startCli({ args: ['validate', '--config', configFile] });
    expect((await validate.exited).code).toBe(2);
    const validateLines = validate.plainStderr;
    expect(validateLines.length).toBeGreaterThanOrEqual(2);

    daemon!.child.kill('SIGHUP');
    const refused = await daemon!.waitForLog((line) => /reload \(SIGHUP\) refused/.test(line.msg), 'the refusal');
    const issueLines = daemon!.logs
      .filter((line) => line['event'] === 'reload' && line['trigger'] === 'SIGHUP' && 'path' in line)
      .map((line) => line.msg);
    expect(issueLines).toEqual(validateLines);
    expect(refused.level).toBe('error');

    // still evaluating the old alert on schedule
    const seen = daemon!.logs.filter(isEvaluation).length;
    const more = await daemon!.waitForLogs(isEvaluation, seen + 2, 'evaluations after the refusal');
    expect(more.at(-1)).toMatchObject({ alerts: ['budget'], firing: 1, alertsFailed: 0 });
    const metrics = (await get(port, '/metrics')).body;
    // the file watcher saw the same change, so it may have been refused twice
    expect(metrics).toMatch(/spend_alerts_config_reloads_total\{outcome="failure"\} [12]\n/);
    expect(metrics).toContain('spend_alerts_config_last_reload_successful 0');

    await writeFile(configFile, config(GROWN));
    daemon!.child.kill('SIGHUP');
    await daemon!.waitForLog((line) => /^configuration reloaded \(SIGHUP\)/.test(line.msg), 'the reload');
    await daemon!.waitForLog(
      (line) => isEvaluation(line) && (line['alerts'] as string[]).includes('per-model'),
      'an evaluation of the new alert',
    );
    // the new alert fires for gpt-4o; the edited one keeps its state and is not sent again
    const hooks = receiver.requests.filter((r) => r.path === HOOK).map((r) => r.json as { alert: string; group: object });
    expect(hooks).toEqual([
      expect.objectContaining({ alert: 'budget' }),
      expect.objectContaining({ alert: 'per-model', group: { model: 'gpt-4o' } }),
    ]);
    expect((await get(port, '/metrics')).body).toContain('spend_alerts_config_last_reload_successful 1');
  }, 40_000);

  test('a change of the file, saved the way editors do, is reloaded without a signal', async () => {
    const { configFile } = await run(config(BUDGET));
    await daemon!.waitForLog(isEvaluation, 'the first evaluation');
    const temp = join(dir, '.alerts.yaml.swp');
    await writeFile(temp, config(GROWN));
    await rename(temp, configFile);
    await daemon!.waitForLog((line) => /^configuration reloaded \(file changed\)/.test(line.msg), 'the reload');
    await daemon!.waitForLog(
      (line) => isEvaluation(line) && (line['alerts'] as string[]).includes('per-model'),
      'an evaluation of the new alert',
    );
  }, 30_000);
});
