// `spend-alerts backtest` over real sockets on the fake Langfuse: three planted over-budget days
// found and nothing else, within a bounded number of requests whatever the days replayed; a
// rolling alert's episodes (fires once, resolves) through time; the --json shape (step, a runaway
// trace); the noisy and silent hints; --days bounds; the request budget's refusal; the progress
// bar only on a terminal; and a webhook channel that receives nothing.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { main } from '../../src/cli/main.js';
import { startFakeLangfuse, type FakeLangfuse, type FakeObservation } from '../../tools/fake-langfuse/server.js';
import { SECRETS } from '../support/harness.js';
import { startHttpReceiver, type HttpReceiver } from '../support/http-receiver.js';
import { spend } from '../support/observations.js';

// The lag margin (15 minutes) leaves 10:02 complete: the replay ends at 10:00.
const NOW = new Date('2026-12-02T10:17:00.000Z');
const PLANTED_DAYS = ['2026-11-24', '2026-11-27', '2026-11-30'];
const HOSTILE_MODEL = 'gpt\x1b[2J\nspend-alerts: fake line';

const OBSERVATIONS: FakeObservation[] = [
  // $10 every morning: under the day budget of $50
  ...Array.from({ length: 14 }, (_, i) => spend(new Date(Date.UTC(2026, 10, 19 + i, 9, 0)), 10)),
  // + $60 in the afternoon of three days: $70, over it
  ...PLANTED_DAYS.map((day) => spend(`${day}T14:20:00Z`, 60)),
  // staging: one episode over $20 in 6 hours from 12:00 to 18:00, another from 08:30 (with $10 at 09:00 on top) to 15:00
  spend('2026-11-25T12:10:00Z', 30, { environment: 'staging' }),
  spend('2026-11-28T08:30:00Z', 25, { environment: 'staging' }),
  spend('2026-11-28T09:10:00Z', 10, { environment: 'staging' }),
  // a model named to clear the screen and forge a line: $3 at night, under every budget but its own
  spend('2026-11-23T02:00:00Z', 3, { model: HOSTILE_MODEL, environment: 'batch' }),
  // a runaway agent's trace
  { ...spend('2026-11-26T03:15:00Z', 12, { traceName: 'research_agent', userId: 'u-7' }), traceId: 'loop-1' },
];

const CHANNELS = `
channels:
  hook:
    type: webhook
    url: \${HOOK_URL}
`;

const DAY_BUDGET = `
  - name: daily-budget
    window: day
    threshold: 50
    channels: [hook]
`;
const STAGING = `
  - name: staging-6h
    window: 6h
    threshold: 20
    filters: { environment: staging }
    channels: [hook]
`;
const STEPS = `
  - name: day-steps
    window: day
    threshold: { budget: 100, steps: [50, 80] }
    channels: [hook]
`;
const RUNAWAY = `
  - name: runaway
    window: 24h
    perTrace: { threshold: 11 }
    filters: { traceName: research_agent }
    channels: [hook]
`;
const DAY_FORECAST = `
  - name: day-forecast
    window: day
    forecast: { threshold: 1000 }
    channels: [hook]
`;
const BY_MODEL = `
  - name: batch-models
    window: day
    groupBy: model
    threshold: 2
    filters: { environment: batch }
    channels: [hook]
`;
const NOISY = `
  - name: hourly
    window: 1h
    threshold: 5
    filters: { environment: production, traceName: chat }
    channels: [hook]
`;
const SILENT = `
  - name: never
    window: day
    threshold: 1000
    channels: [hook]
`;

let fake: FakeLangfuse;
let hook: HttpReceiver;
beforeAll(async () => {
  fake = await startFakeLangfuse({ observations: OBSERVATIONS, publicKey: SECRETS.publicKey, secretKey: SECRETS.secretKey });
  hook = await startHttpReceiver();
});
afterAll(async () => {
  await fake.close();
  await hook.close();
});

async function backtest(args: string[], alerts: string[], options: { langfuseYaml?: string; tty?: boolean; dir?: string } = {}) {
  const dir = options.dir ?? (await mkdtemp(join(tmpdir(), 'spend-alerts-backtest-')));
  await writeFile(join(dir, 'alerts.yaml'), [options.langfuseYaml ?? '', 'timezone: UTC', CHANNELS, 'alerts:', ...alerts].join('\n'));
  let stdout = '';
  let stderr = '';
  const out = new PassThrough().on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  const err = Object.assign(new PassThrough().on('data', (chunk: Buffer) => (stderr += chunk.toString())), { isTTY: options.tty ?? false });
  const env = { LANGFUSE_BASE_URL: fake.url, LANGFUSE_PUBLIC_KEY: SECRETS.publicKey, LANGFUSE_SECRET_KEY: SECRETS.secretKey, LOG_LEVEL: 'warn', HOOK_URL: hook.url('/hook') };
  const before = fake.requests.length;
  const code = await main(['backtest', ...args], { stdout: out, stderr: err, env, cwd: dir }, () => NOW);
  const metrics = fake.requests.slice(before).filter((r) => /\/metrics\/?$/.test(r.path)).length;
  const cleanup = () => rm(dir, { recursive: true, force: true });
  return { code, stdout, stderr, metrics, dir, cleanup };
}

interface Entry {
  alert: string;
  group: Record<string, string | null>;
  severity: string;
  status: string;
  at: string;
  value: number;
  threshold: number;
  step?: number;
  forecast?: number;
}

describe('backtest', () => {
  test('three planted over-budget days: exactly those, at the hour their spend was complete, in a bounded number of requests', async () => {
    const run = await backtest(['--days', '20', '--json'], [DAY_BUDGET]);
    await run.cleanup();
    expect(run.code).toBe(0);
    const entries = JSON.parse(run.stdout) as Entry[];
    expect(entries).toEqual(
      PLANTED_DAYS.map((day) => ({ alert: 'daily-budget', group: {}, severity: 'critical', status: 'firing', at: `${day}T15:00:00.000Z`, value: 70, threshold: 50 })),
    );
    // 480 replayed hours from the history fetched once: one request per page of hour buckets (and
    // the minute buckets of the newest hours), never one per hour
    expect(run.metrics).toBeGreaterThan(0);
    expect(run.metrics).toBeLessThanOrEqual(4);
    expect(run.stderr).toContain(`backtest: ${run.metrics} Langfuse request${run.metrics === 1 ? '' : 's'}\n`);
  });

  test('the requests do not grow with the hours replayed', async () => {
    const short = await backtest(['--days', '3', '--json'], [DAY_BUDGET]);
    const long = await backtest(['--days', '90', '--json'], [DAY_BUDGET]);
    await short.cleanup();
    await long.cleanup();
    expect(long.code).toBe(0);
    expect((JSON.parse(long.stdout) as Entry[]).map((e) => e.at.slice(0, 10))).toEqual(PLANTED_DAYS);
    expect(long.metrics).toBeLessThanOrEqual(short.metrics + 2);
  });

  test('a forecast\'s day ends cost nothing more: its final check reads its hourly profile from the cache', async () => {
    // Each day's final check reads 7 baseline days hour by hour; measured a millisecond past each
    // hour, every one overhanging into an hour it has no minute buckets of would be a request of its own.
    const run = await backtest(['--days', '10', '--json'], [DAY_FORECAST]);
    await run.cleanup();
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout)).toEqual([]);
    expect(run.metrics).toBeLessThanOrEqual(4);
  });

  test('the history cache the first backtest filled serves a later one', async () => {
    const first = await backtest(['--days', '20', '--json'], [DAY_BUDGET]);
    // what the alerts still need now is kept (the rest is pruned, as after any evaluation): the last day
    const again = await backtest(['--days', '1', '--json'], [DAY_BUDGET], { dir: first.dir });
    await first.cleanup();
    expect(first.metrics).toBeGreaterThan(0);
    expect(again.code).toBe(0);
    // one request: the previous morning (the contributors' baseline at its first hour, which the
    // configured alerts read along), pruned after the first one's last hour; the rest from the cache
    expect(again.metrics).toBe(1);
    expect(again.stderr).toContain('backtest: 1 Langfuse request\n');
  });

  test('dedup through time: a rolling alert that stays over fires once per episode and resolves', async () => {
    const run = await backtest(['--days', '10', '--json'], [STAGING]);
    await run.cleanup();
    expect(run.code).toBe(0);
    const entries = JSON.parse(run.stdout) as Entry[];
    expect(entries.map(({ status, at, value }) => ({ status, at, value }))).toEqual([
      { status: 'firing', at: '2026-11-25T13:00:00.000Z', value: 30 },
      { status: 'resolved', at: '2026-11-25T19:00:00.000Z', value: 0 },
      { status: 'firing', at: '2026-11-28T09:00:00.000Z', value: 25 },
      { status: 'resolved', at: '2026-11-28T15:00:00.000Z', value: 10 },
    ]);
  });

  test('--json: one entry per notification, with step for budget steps and a runaway trace as its group; no channel receives anything', async () => {
    const before = hook.requests.length;
    const run = await backtest(['--days', '10', '--json', '--alert', 'day-steps', '--alert', 'runaway'], [DAY_BUDGET, STEPS, RUNAWAY]);
    await run.cleanup();
    expect(run.code).toBe(0);
    const entries = JSON.parse(run.stdout) as Entry[];
    const step = (day: string) => ({ alert: 'day-steps', group: {}, severity: 'warning', status: 'firing', at: `${day}T15:00:00.000Z`, value: 70, threshold: 50, step: 50 });
    expect(entries).toEqual([
      step('2026-11-24'),
      { alert: 'runaway', group: { traceId: 'loop-1' }, severity: 'critical', status: 'firing', at: '2026-11-26T04:00:00.000Z', value: 12, threshold: 11 },
      step('2026-11-27'),
      step('2026-11-30'),
    ]);
    expect(hook.requests.length - before).toBe(0);
  });

  test('the text: per alert its count and days, noisy above one a day, silent without any', async () => {
    const run = await backtest(['--days', '10'], [DAY_BUDGET, NOISY, SILENT]);
    await run.cleanup();
    expect(run.code).toBe(0);
    const sections = run.stdout.split('\n\n');
    expect(sections[0]).toBe('backtest: 10 days, 2026-11-22 10:00 – 2026-12-02 10:00 UTC, evaluated hourly');
    const of = (alert: string) => sections.find((section) => section.startsWith(alert))!;
    expect(of('daily-budget')).toContain('3 notifications on 3 days: 2026-11-24, 2026-11-27, 2026-11-30');
    expect(of('daily-budget')).not.toContain('noisy');
    // $10 at 09:00 fires at 10:00 and resolves at 11:00, from 11-23 to 12-01 (9 × 2), and fires at
    // 12-02 10:00, the last hour replayed; each planted $60 fires and resolves once more (3 × 2)
    expect(of('hourly')).toMatch(/^hourly\s+25 notifications on 10 days/);
    expect(of('hourly')).toContain('noisy: 2.5 a day on average');
    expect(of('never')).toMatch(/^never\s+0 notifications — silent: it never fired in 10 days/);
    // not a terminal: no progress bar
    expect(run.stderr).not.toContain('\r');
  });

  test('a traced model name is shown inert: its control characters escaped, on one line', async () => {
    const text = await backtest(['--days', '10'], [BY_MODEL]);
    const json = await backtest(['--days', '10', '--json'], [BY_MODEL], { dir: text.dir });
    await text.cleanup();
    expect(text.stdout).toContain('  2026-11-23 03:00  critical firing  $3.00 > $2.00  model=gpt\\x1b[2J\\x0aspend-alerts: fake line\n');
    expect(text.stdout).not.toContain('\x1b');
    expect(text.stdout).not.toMatch(/^spend-alerts: fake line/m);
    expect((JSON.parse(json.stdout) as Entry[]).map((e) => e.group)).toEqual([{ model: HOSTILE_MODEL }]);
  });

  test('a progress bar on a terminal\'s stderr only, never with --json', async () => {
    const text = await backtest(['--days', '1'], [DAY_BUDGET], { tty: true });
    const json = await backtest(['--days', '1', '--json'], [DAY_BUDGET], { tty: true, dir: text.dir });
    await text.cleanup();
    expect(text.stderr).toContain('\rbacktest [##############################] 100% 24/24');
    expect(text.stdout).not.toContain('\r');
    expect(json.stderr).not.toContain('\r');
    expect(JSON.parse(json.stdout)).toEqual([]);
  });

  test.each([['0'], ['91'], ['ten']])('--days %s: a usage error (exit 2)', async (days) => {
    const run = await backtest(['--days', days], [DAY_BUDGET]);
    await run.cleanup();
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(`--days must be a whole number from 1 to 90, got "${days}"`);
    expect(run.metrics).toBe(0);
  });

  test('without --days: a usage error naming it', async () => {
    const run = await backtest([], [DAY_BUDGET]);
    await run.cleanup();
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('backtest needs --days N (1–90)');
  });

  test('a request budget that can\'t admit it: exit 1, nothing sent, the report\'s message form', async () => {
    const run = await backtest(['--days', '20'], [DAY_BUDGET], { langfuseYaml: 'langfuse:\n  requestBudget: { perHour: 1 }' });
    await run.cleanup();
    expect(run.code).toBe(1);
    expect(run.stdout).toBe('');
    expect(run.metrics).toBe(0);
    expect(run.stderr).toMatch(/backtest: needs \d+ requests; the budget admits 1\n/);
  });

  test('help backtest lists its options', async () => {
    let stdout = '';
    const out = new PassThrough().on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    const code = await main(['help', 'backtest'], { stdout: out, stderr: new PassThrough(), env: {}, cwd: tmpdir() });
    expect(code).toBe(0);
    expect(stdout).toContain('Usage: spend-alerts backtest [options]');
    expect(stdout).toMatch(/--days N\s+replay the past N days \(1–90; required\)/);
    expect(stdout).toMatch(/--json\s+one JSON entry per notification on stdout/);
  });
});
