// `spend-alerts run` as a real process, its lifecycle: SIGTERM/SIGINT (with an evaluation in
// flight or not), SIGHUP, and changes of alerts.yaml on disk.
import { rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { isEvaluation, startCli } from '../support/cli-process.js';
import { BUDGET, METRICS_PATH, useRunFixture } from '../support/run-fixture.js';

const f = useRunFixture();

describe('stopping', () => {
  test('SIGTERM during an evaluation lets it finish, saves state and exits 0', async () => {
    // the first evaluation's spend request is held until the daemon has taken the signal
    const held = f.holdDelays();
    f.fake.inject({ kind: 'delay', ms: 3_000, path: METRICS_PATH });
    await f.run(f.config(BUDGET));
    const release = await held;
    f.daemon.child.kill('SIGTERM');
    await f.daemon.waitForLog((line) => /^SIGTERM: stopping after the evaluation in flight/.test(line.msg), 'the stop');
    release();
    expect(await f.daemon.exited).toEqual({ code: 0, signal: null });
    expect(f.daemon.logs.map((line) => line.msg)).toEqual(
      expect.arrayContaining([expect.stringMatching(/^SIGTERM: stopping after the evaluation in flight/), 'stopped']),
    );
    expect(f.daemon.logs.filter(isEvaluation)).toHaveLength(1);
    expect(f.hooks()).toHaveLength(1);
    const saved = await f.state();
    expect(saved.series['budget|']?.notified).toEqual(['critical']);
    expect(saved.evaluations[0]?.ok).toBe(true);
    expect(saved.outbox).toEqual({});
  }, 30_000);

  test('SIGINT between evaluations stops and exits 0', async () => {
    await f.run(f.config(BUDGET));
    await f.daemon.waitForLog(isEvaluation, 'the first evaluation');
    f.daemon.child.kill('SIGINT');
    expect(await f.daemon.exited).toEqual({ code: 0, signal: null });
    expect(f.daemon.logs.at(-1)?.msg).toBe('stopped');
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
    const { port, configFile } = await f.run(f.config(BUDGET));
    await f.daemon.waitForLog(isEvaluation, 'the first evaluation');

    await writeFile(configFile, f.config(BROKEN));
    // the file watcher sees the change and refuses it first; the SIGHUP below is a second refusal
    await f.daemon.waitForLog((line) => /reload \(file changed\) refused/.test(line.msg), 'the refusal of the changed file');
    const validate = startCli({ args: ['validate', '--config', configFile] });
    expect((await validate.exited).code).toBe(2);
    const validateLines = validate.plainStderr;
    expect(validateLines.length).toBeGreaterThanOrEqual(2);

    f.daemon.child.kill('SIGHUP');
    const refused = await f.daemon.waitForLog((line) => /reload \(SIGHUP\) refused/.test(line.msg), 'the refusal');
    const issueLines = f.daemon.logs
      .filter((line) => line['event'] === 'reload' && line['trigger'] === 'SIGHUP' && 'path' in line)
      .map((line) => line.msg);
    expect(issueLines).toEqual(validateLines);
    expect(refused.level).toBe('error');

    // still evaluating the old alert on schedule
    const seen = f.daemon.logs.filter(isEvaluation).length;
    const more = await f.daemon.waitForLogs(isEvaluation, seen + 2, 'evaluations after the refusal');
    expect(more.at(-1)).toMatchObject({ alerts: ['budget'], firing: 1, alertsFailed: 0 });
    const metrics = (await f.get(port, '/metrics')).body;
    expect(metrics).toContain('spend_alerts_config_reloads_total{outcome="failure"} 2\n');
    expect(metrics).toContain('spend_alerts_config_last_reload_successful 0');

    await writeFile(configFile, f.config(GROWN));
    f.daemon.child.kill('SIGHUP');
    await f.daemon.waitForLog((line) => /^configuration reloaded \(SIGHUP\)/.test(line.msg), 'the reload');
    await f.daemon.waitForLog(
      (line) => isEvaluation(line) && (line['alerts'] as string[]).includes('per-model'),
      'an evaluation of the new alert',
    );
    // the new alert fires for gpt-4o; the edited one keeps its state and is not sent again
    const hooks = f.hooks().map((r) => r.json as { alert: string; group: object });
    expect(hooks).toEqual([
      expect.objectContaining({ alert: 'budget' }),
      expect.objectContaining({ alert: 'per-model', group: { model: 'gpt-4o' } }),
    ]);
    expect((await f.get(port, '/metrics')).body).toContain('spend_alerts_config_last_reload_successful 1');
  }, 40_000);

  test('a change of the file, saved the way editors do, is reloaded without a signal', async () => {
    const { configFile } = await f.run(f.config(BUDGET));
    await f.daemon.waitForLog(isEvaluation, 'the first evaluation');
    const temp = join(f.dir, '.alerts.yaml.swp');
    await writeFile(temp, f.config(GROWN));
    await rename(temp, configFile);
    await f.daemon.waitForLog((line) => /^configuration reloaded \(file changed\)/.test(line.msg), 'the reload');
    await f.daemon.waitForLog(
      (line) => isEvaluation(line) && (line['alerts'] as string[]).includes('per-model'),
      'an evaluation of the new alert',
    );
  }, 30_000);
});
