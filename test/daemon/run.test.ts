// `spend-alerts run` as a real process against the fake Langfuse and a webhook receiver, on a
// seconds-level schedule: what is evaluated when, delivery across evaluations, HTTP endpoints.
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { sleep } from '../../src/util/backoff.js';
import { isEvaluation } from '../support/cli-process.js';
import { BUDGET, METRICS_PATH, useRunFixture } from '../support/run-fixture.js';

const f = useRunFixture();

describe('spend-alerts run', () => {
  test('delivers a firing alert once across several scheduled evaluations', async () => {
    await f.run(f.config(BUDGET));
    await f.daemon.waitForLogs(isEvaluation, 4, 'four evaluations');
    const hooks = f.hooks();
    expect(hooks).toHaveLength(1);
    expect(hooks[0]!.json).toMatchObject({ alert: 'budget', status: 'firing', severity: 'critical', value: 5, threshold: 4 });
    const summary = f.daemon.logs.filter(isEvaluation);
    expect(summary[0]).toMatchObject({ alertsEvaluated: 1, firing: 1, notificationsSent: 1, alerts: ['budget'] });
    expect(summary[1]).toMatchObject({ alertsEvaluated: 1, firing: 1, notificationsSent: 0 });
    expect(summary[0]!['langfuseRequests']).toBeGreaterThanOrEqual(1);
    expect((await f.state()).series['budget|']?.notified).toEqual(['critical']);
  });

  test('evaluates alerts due at the same moment together, in one evaluation', async () => {
    await f.run(
      f.config(`${BUDGET}  - name: models
    window: 24h
    groupBy: model
    threshold: 100
    schedule: "*/4 * * * * *"
    channels: [hook]
`),
    );
    const evaluations = await f.daemon.waitForLogs(isEvaluation, 5, 'five evaluations', 30_000);
    expect(evaluations[0]!['alerts']).toEqual(['budget', 'models']);
    const later = evaluations.slice(1).map((line) => [...(line['alerts'] as string[])].sort());
    // every moment that is due for "models" (*/4) is also due for "budget" (*/2)
    expect(later).toContainEqual(['budget', 'models']);
    expect(later).toContainEqual(['budget']);
    expect(later).not.toContainEqual(['models']);
  }, 40_000);

  test('never overlaps evaluations when Langfuse is slower than the schedule', async () => {
    // every Langfuse request is answered 3 s late; the fake notes how many were in flight as each arrived
    let inFlight = 0;
    const inFlightOnArrival: number[] = [];
    f.fakeSleep = async (ms) => {
      inFlightOnArrival.push(inFlight);
      inFlight += 1;
      try {
        await sleep(ms);
      } finally {
        inFlight -= 1;
      }
    };
    f.fake.inject({ kind: 'delay', ms: 3_000, times: 100 });
    await f.run(f.config(BUDGET));
    const evaluations = await f.daemon.waitForLogs(isEvaluation, 3, 'three evaluations', 30_000);
    const answered = f.fake.requests.filter((r) => r.path === METRICS_PATH).length;
    // each evaluation started after the last ended: its first request arrived with none of the
    // earlier evaluations' requests (counted in their summary lines) still in flight
    let firstOfNext = 0;
    for (const line of evaluations.slice(0, -1)) {
      firstOfNext += line['langfuseRequests'] as number;
      expect(inFlightOnArrival[firstOfNext]).toBe(0);
    }
    // ticks during a slow evaluation were coalesced, not piled up as requests: beyond what the
    // logged evaluations asked, only the one evaluation in flight may have asked more
    const logged = evaluations.map((line) => line['langfuseRequests'] as number);
    expect(answered).toBeGreaterThanOrEqual(3);
    expect(answered - logged.reduce((a, b) => a + b, 0)).toBeLessThanOrEqual(Math.max(...logged));
    for (const line of evaluations) expect(line['alerts']).toEqual(['budget']);
    expect(f.hooks()).toHaveLength(1);
  }, 40_000);

  test('serves /healthz, /readyz and /metrics with the spend of every series', async () => {
    // the first evaluation is held up until readiness has been seen before it
    const held = f.holdDelays();
    f.fake.inject({ kind: 'delay', ms: 4_000, path: METRICS_PATH });
    const { port } = await f.run(
      f.config(`  - name: per-model
    window: 24h
    groupBy: model
    threshold: 2.5
    channels: [hook]
`),
    );
    await f.listening(port);
    expect(await f.get(port, '/healthz')).toEqual({ status: 200, body: 'ok\n' });
    const before = await f.get(port, '/readyz');
    expect(before.status).toBe(503);
    expect(before.body).toMatch(/no successful evaluation yet/);
    const release = await held;
    release();

    await f.daemon.waitForLog(isEvaluation, 'the first evaluation');
    const after = await f.get(port, '/readyz');
    expect(after.status).toBe(200);
    const { status, body } = await f.get(port, '/metrics');
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
    expect((await f.get(port, '/nope')).status).toBe(404);
    expect((await fetch(`http://127.0.0.1:${port}/metrics`, { method: 'POST' })).status).toBe(405);
  }, 30_000);

  test('--host binds the port to that address only', async () => {
    const { port } = await f.run(f.config(BUDGET), ['--host', '127.0.0.1']);
    await f.daemon.waitForLog((line) => line.msg.startsWith('spend-alerts run:'), 'the start');
    expect(await f.get(port, '/healthz')).toEqual({ status: 200, body: 'ok\n' });
    // another loopback address of this host, where a port bound to every interface answers too
    await expect(fetch(`http://127.0.0.2:${port}/healthz`)).rejects.toThrow('fetch failed');
  });

  test('a Langfuse proxy echoing the Authorization header: /readyz, the logs and the state hold no key in any form', async () => {
    f.fake.inject({ kind: 'echo-auth', times: 1000 });
    const { port } = await f.run(f.config(BUDGET));
    await f.daemon.waitForLog(isEvaluation, 'the first evaluation');
    const readyz = await f.get(port, '/readyz');
    expect(readyz.status).toBe(503);
    expect(readyz.body).toMatch(/^no successful evaluation yet; last failure: budget: Langfuse refused the API keys \(HTTP 401: Unauthorized: Authorization: Basic \[REDACTED\]/);
    const stateDir = join(f.dir, 'state');
    const stored = await Promise.all((await readdir(stateDir)).filter((file) => file.endsWith('.json')).map((file) => readFile(join(stateDir, file), 'utf8')));
    expect(stored.join('\n')).toContain('Langfuse refused the API keys');
    const pair = `${f.fake.publicKey}:${f.fake.secretKey}`;
    const basic = Buffer.from(pair).toString('base64');
    const logs = JSON.stringify(f.daemon.logs) + f.daemon.plainStderr.join('\n') + f.daemon.stdout();
    for (const text of [readyz.body, logs, ...stored]) {
      for (const form of [f.fake.publicKey, f.fake.secretKey, pair, basic, encodeURIComponent(pair)]) expect(text).not.toContain(form);
    }
  });
});
