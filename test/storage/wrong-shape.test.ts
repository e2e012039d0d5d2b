// A state file of the wrong shape (valid JSON, right version, wrong fields) is moved aside and
// reported like a corrupt one by `status` and `check` as real processes, instead of crashing them
// or being half read.
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { emptyState, parseState, StateCorruptError } from '../../src/core/ledger.js';
import { startCli } from '../support/cli-process.js';
import { CHANNELS_YAML, startPeers, type Peers } from '../support/harness.js';
import { spend } from '../support/observations.js';

const AT = '2026-11-25T12:00:00.000Z';
const pending = { attempts: 1, nextAttemptAt: AT, lastError: 'HTTP 503' };
const notification = {
  id: 'budget|-|2026-11-25T11:00:00Z|critical|firing',
  status: 'firing',
  severity: 'critical',
  alert: 'budget',
  kind: 'threshold',
  group: {},
  window: { type: '24h', from: AT, to: AT, timezone: 'UTC' },
  value: 61.25,
  threshold: 50,
  baseline: null,
  factor: null,
  evaluatedAt: AT,
  langfuseUrl: 'https://cloud.langfuse.com/project/p1',
};
const outboxEntry = { notification, createdAt: AT, expiresAt: null, channels: { automation: pending } };
const valid = { ...emptyState(), outbox: { [notification.id]: outboxEntry } };

const WRONG_SHAPES: ReadonlyArray<{ name: string; state: object; where: string }> = [
  {
    name: 'an outbox entry without its notification',
    state: { ...valid, outbox: { [notification.id]: { ...outboxEntry, notification: undefined } } },
    where: 'outbox.*.notification: expected object',
  },
  { name: 'an outbox entry with channels: null', state: { ...valid, outbox: { [notification.id]: { ...outboxEntry, channels: null } } }, where: 'outbox.*.channels: expected record' },
  { name: 'series that is not an object', state: { ...valid, series: 'none' }, where: 'series: expected record' },
  { name: 'a number where a string belongs', state: { ...valid, langfuse: { ...valid.langfuse, lastError: 503 } }, where: 'langfuse.lastError: expected string' },
];

describe('parseState', () => {
  test('reads a state of the right shape as it is', () => {
    expect(parseState(JSON.stringify(valid))).toEqual(valid);
  });

  test.each(WRONG_SHAPES)('$name is a corrupt file, located', ({ state, where }) => {
    expect(() => parseState(JSON.stringify(state))).toThrow(StateCorruptError);
    expect(() => parseState(JSON.stringify(state))).toThrow(`the state file is not of the expected shape: ${where}`);
  });

  test('a field this build does not write is the wrong shape too; traced keys are not repeated', () => {
    const hostile = 'model=\u001b]8;;https://evil.example\u0007gpt';
    const series = { alert: 'models', seriesKey: hostile, group: { model: 'x' }, period: AT, notified: [], open: false, lastValue: 1, updatedAt: AT };
    const withExtra = { ...valid, series: { [`models|${hostile}`]: { ...series, extra: true } } };
    expect(() => parseState(JSON.stringify(withExtra))).toThrow('the state file is not of the expected shape: series.*: unknown field *');
    const wrongGroup = { ...valid, series: { [`models|${hostile}`]: { ...series, group: { [hostile]: 5 } } } };
    let message = '';
    try {
      parseState(JSON.stringify(wrongGroup));
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toBe('the state file is not of the expected shape: series.*.group.*: expected string');
  });
});

describe('status and check as processes', () => {
  let dir: string;
  let peers: Peers;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'spend-alerts-shape-'));
    peers = await startPeers([spend(new Date(Date.now() - 60_000), 61.25)]);
    await writeFile(
      join(dir, 'alerts.yaml'),
      `${CHANNELS_YAML}\nalerts:\n  - { name: budget, window: 1h, threshold: 50, channels: [automation] }\n`,
    );
    await mkdir(join(dir, 'state'));
  });
  afterEach(async () => {
    await peers.close();
    await rm(dir, { recursive: true, force: true });
  });

  const stateFile = (): string => join(dir, 'state', 'state.json');
  const movedAside = async (): Promise<string[]> => (await readdir(join(dir, 'state'))).filter((name) => name.startsWith('state.json.corrupt-'));

  test.each(WRONG_SHAPES)('$name: status and check report it, move it aside and go on', async ({ state, where }) => {
    const text = JSON.stringify(state);
    await writeFile(stateFile(), text);
    const status = startCli({ args: ['status', '--state-dir', join(dir, 'state')], env: peers.env });
    expect((await status.exited).code).toBe(0);
    expect(status.stdout()).toContain(`The state file was damaged (the state file is not of the expected shape: ${where}): moved aside to `);
    expect(status.stdout()).toContain('Pending deliveries: 0');
    expect(await movedAside()).toHaveLength(1);
    expect(await readFile(join(dir, 'state', (await movedAside())[0]!), 'utf8')).toBe(text);

    await writeFile(stateFile(), text);
    const check = startCli({ args: ['check', '--config', join(dir, 'alerts.yaml'), '--state-dir', join(dir, 'state')], env: peers.env });
    expect((await check.exited).code).toBe(0);
    expect(check.logs.map((line) => line.msg)).toContainEqual(
      expect.stringContaining(`the state file was damaged (the state file is not of the expected shape: ${where}): moved aside to `),
    );
    expect(await movedAside()).toHaveLength(2);
    expect(peers.webhook.requests).toHaveLength(1);
    expect(parseState(await readFile(stateFile(), 'utf8')).series['budget|']?.notified).toEqual(['critical']);
  }, 60_000);
});
