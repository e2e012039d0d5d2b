// A cold start under a request budget: an evaluation sends at most its allowance (20 % of the
// tightest limit), what every alert needs now first; the history fills over several evaluations
// and alerts wait for theirs instead of failing. Requests are counted at the fake Langfuse.
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { afterEach, describe, expect, test } from 'vitest';
import { parseCommandLine } from '../../../../src/cli/args.js';
import { checkCommand } from '../../../../src/cli/commands/check.js';
import { exitCode } from '../../../../src/cli/main.js';
import { formatSummary, summarizeConfig } from '../../../../src/cli/validate-summary.js';
import { startFakeLangfuse, type FakeLangfuse } from '../../../../tools/fake-langfuse/server.js';
import { alertQueries } from '../../../../src/core/alert-queries.js';
import { quotaLimits, burstAllowance, CACHE_FILE, RequestQuota } from '../../../../src/sources/langfuse/planner/index.js';
import { WaitingForHistory, type SpendResult } from '../../../../src/core/query.js';
import { fileStorage } from '../../../../src/storage/file.js';
import { COLD_START_ALERTS, coldStartSpend } from './reference.js';
import { expectSameResults, KEYS, plannerFixture, type PlannerFixture } from './support.js';

let fixture: PlannerFixture | undefined;
afterEach(async () => {
  await fixture?.close();
  fixture = undefined;
});

const waiting = (results: readonly SpendResult[]): WaitingForHistory[] =>
  results.flatMap((result) => (result.status === 'rejected' && result.reason instanceof WaitingForHistory ? [result.reason] : []));

const failures = (results: readonly SpendResult[]): unknown[] =>
  results.flatMap((result) => (result.status === 'rejected' && !(result.reason instanceof WaitingForHistory) ? [result.reason] : []));

describe('a cold start under a request budget', () => {
  test('hobby: the allowance is 20 % of the tightest limit, at least 1; none without a limit', () => {
    expect(burstAllowance(quotaLimits('hobby'))).toBe(20);
    expect(burstAllowance({ perHour: 100, perDay: 50 })).toBe(10);
    expect(burstAllowance({ perDay: 3 })).toBe(1);
    expect(burstAllowance(quotaLimits('self-hosted'))).toBe(Infinity);
  });

  test('8 alerts with 28-day baselines: at most 20 requests an evaluation, as estimated; the history fills over the next ones, then every alert is evaluated with the right numbers', async () => {
    fixture = await plannerFixture(COLD_START_ALERTS, coldStartSpend());
    // without a budget (and keeping nothing) the first evaluation sends what the whole history needs
    const unbudgeted = fixture.planned({ readOnly: true });
    await unbudgeted.spendAll(alertQueries(fixture.config.alerts, new Date('2026-06-10T12:15:00Z'), 'UTC'));
    expect(unbudgeted.lastUsage?.requests).toBe(43);
    const planned = fixture.planned({ budget: RequestQuota.inMemory(quotaLimits('hobby')) });
    const sent: number[] = [];
    const waitingCounts: number[] = [];
    let announced: number | undefined;
    for (let i = 0; ; i++) {
      expect(i, 'evaluations until every alert is evaluated').toBeLessThan(6);
      const now = new Date(Date.parse('2026-06-10T12:15:00Z') + i * 15 * 60_000);
      const queries = alertQueries(fixture.config.alerts, now, 'UTC');
      const estimated = await planned.estimate(queries);
      const before = fixture.metricsRequests();
      const results = await planned.spendAll(queries);
      sent.push(fixture.metricsRequests(before));
      expect(estimated, `evaluation ${i}: estimated`).toBe(sent[i]);
      expect(planned.lastUsage).toMatchObject({ requests: sent[i], allowance: 20 });
      expect(failures(results), `evaluation ${i}: failures`).toEqual([]);
      const waits = waiting(results);
      waitingCounts.push(waits.length);
      if (i === 0) announced = waits[0]?.evaluations;
      if (waits.length === 0) {
        expectSameResults(queries, results, await fixture.naive.spendAll(queries), now.toISOString());
        break;
      }
      // every query that is answered is answered right
      const answered = queries.filter((_, index) => results[index]!.status === 'fulfilled');
      const naive = await fixture.naive.spendAll(answered);
      expectSameResults(answered, results.filter((result) => result.status === 'fulfilled'), naive, `evaluation ${i}, answered`);
    }
    expect(Math.max(...sent)).toBeLessThanOrEqual(20);
    expect(sent[0]).toBe(20);
    expect(waitingCounts[0]).toBeGreaterThan(0);
    expect(sent.length - 1, 'evaluations after the first, as the first one announced').toBe(announced);
    // validate's cold start assumes spend in every minute: the same first evaluation, no fewer after it
    const coldStart = summarizeConfig(fixture.config, new Date('2026-06-10T12:15:00Z')).coldStart!;
    expect(coldStart.firstEvaluation).toBe(sent[0]);
    expect(coldStart.evaluations).toBeGreaterThanOrEqual(sent.length);
    expect(coldStart.requests).toBeGreaterThanOrEqual(sent.reduce((a, b) => a + b, 0));
  }, 60_000);

  test('an allowance that runs out between the pages of a request keeps the whole hours they fetched', async () => {
    const yaml = `
schedule: "*/15 * * * *"
langfuse: { requestBudget: { perDay: 10 } }
alerts:
  - { name: models-week, window: 7d, groupBy: model, relative: { factor: 2, baseline: 3 }, explain: [], channels: [terminal] }
`;
    // Lately only gpt-4o: the hours cached first suggest one group, and the history's requests are sized for that.
    const lately = Date.parse('2026-06-09T00:00:00Z');
    const observations = coldStartSpend().map((o) => (Date.parse(o.startTime) >= lately ? { ...o, providedModelName: 'gpt-4o' } : o));
    fixture = await plannerFixture(yaml, observations);
    const planned = fixture.planned({ budget: RequestQuota.inMemory({ perDay: 10 }) });
    const sent: number[] = [];
    for (let i = 0; ; i++) {
      expect(i, 'evaluations until the alert is evaluated').toBeLessThan(12);
      const now = new Date(Date.parse('2026-06-10T12:15:00Z') + i * 15 * 60_000);
      const queries = alertQueries(fixture.config.alerts, now, 'UTC');
      const before = fixture.metricsRequests();
      const results = await planned.spendAll(queries);
      sent.push(fixture.metricsRequests(before));
      expect(failures(results)).toEqual([]);
      if (waiting(results).length === 0) {
        expectSameResults(queries, results, await fixture.naive.spendAll(queries), now.toISOString());
        break;
      }
    }
    // 28 days by 4 models and none is some 2,700 hourly rows: pages of a request sized for one group
    expect(Math.max(...sent)).toBe(2);
    expect(sent.length).toBeGreaterThan(2);
  }, 60_000);
});

describe('validate', () => {
  const summaryOf = async (yaml: string) => {
    fixture = await plannerFixture(yaml, []);
    return summarizeConfig(fixture.config, new Date('2026-06-10T12:15:00Z'));
  };

  test('prints the cold-start cost beside the warm one', async () => {
    const summary = await summaryOf(COLD_START_ALERTS);
    expect(summary.coldStart).toEqual({ firstEvaluation: 20, evaluations: 8, requests: 157, allowance: 20 });
    expect(formatSummary(summary)).toContain(
      'Langfuse requests (cold start, empty history cache): up to 20 requests at the first evaluation; ' +
        'every alert evaluated within 8 evaluations (up to 157 requests, at most 20 an evaluation under the budget)',
    );
    const unlimited = await summaryOf(COLD_START_ALERTS.replace('langfuse: { requestBudget: hobby }\n', ''));
    // as if spend were in every minute: more than the 43 the test data set costs (see above)
    expect(formatSummary(unlimited)).toContain('up to 136 requests at the first evaluation, all at once (no request budget)');
  });

  test('warns when an evaluation may send fewer requests than the alerts need every time', async () => {
    const summary = await summaryOf(COLD_START_ALERTS.replace('requestBudget: hobby', 'requestBudget: { perDay: 5 }'));
    expect(summary.coldStart).toMatchObject({ firstEvaluation: 1, evaluations: null, allowance: 1 });
    expect(summary.warnings).toContain(
      'the request budget lets an evaluation send 1 request(s), fewer than these alerts need each time: their history never completes ' +
        'and they are never evaluated; raise the budget or split the alerts by schedule',
    );
  });
});

describe('check under hobby, cold', () => {
  let dir: string | undefined;
  let fake: FakeLangfuse | undefined;
  afterEach(async () => {
    await fake?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
    fake = dir = undefined;
  });

  async function setUp(): Promise<(args: string[], at: string) => Promise<{ code: number; stdout: string; requests: number }>> {
    fake = await startFakeLangfuse({ observations: coldStartSpend(), ...KEYS });
    dir = await mkdtemp(join(tmpdir(), 'spend-alerts-cold-'));
    await writeFile(join(dir, 'alerts.yaml'), `channels:\n  terminal:\n    type: console\n${COLD_START_ALERTS}`);
    const env = { LANGFUSE_BASE_URL: fake.url, LANGFUSE_PUBLIC_KEY: KEYS.publicKey, LANGFUSE_SECRET_KEY: KEYS.secretKey };
    return async (args, at) => {
      const parsed = parseCommandLine(['check', '--state-dir', 'state', ...args], env);
      if (parsed.kind !== 'command') throw new Error('not a command');
      let stdout = '';
      const out = new PassThrough().on('data', (chunk: Buffer) => (stdout += chunk.toString()));
      const before = fake!.requests.filter((r) => r.path.includes('metrics')).length;
      const code = exitCode(await checkCommand(parsed.options, { stdout: out, stderr: new PassThrough().resume(), env, cwd: dir! }, new Date(at), () => new Date(at)));
      return { code, stdout, requests: fake!.requests.filter((r) => r.path.includes('metrics')).length - before };
    };
  }

  test('check prints "waiting for history" and exits 0, leaves the waiting alerts alone, and evaluates every alert after a few checks', async () => {
    const check = await setUp();
    const first = await check([], '2026-06-10T12:15:00Z');
    expect(first.code).toBe(0);
    expect(first.requests).toBeLessThanOrEqual(20);
    expect(first.stdout).toMatch(/^waiting for history: all-day, all-24h, .*chat-12h \(about 2 more evaluations\)$/m);
    const state = JSON.parse(await readFile(join(dir!, 'state', 'state.json'), 'utf8')) as {
      series: Record<string, unknown>;
      evaluations: Array<{ ok: boolean; errors: string[] }>;
    };
    expect(state.evaluations[0]).toMatchObject({ ok: true, errors: [] });
    expect(Object.keys(state.series)).toEqual([]);

    const later: Array<{ code: number; stdout: string; requests: number }> = [];
    for (const at of ['2026-06-10T12:30:00Z', '2026-06-10T12:45:00Z']) later.push(await check([], at));
    expect(later.map((run) => run.code)).toEqual([0, 0]);
    expect(later[0]!.stdout).toContain('waiting for history:');
    expect(later[1]!.stdout).not.toContain('waiting for history');
    expect(Math.max(...later.map((run) => run.requests))).toBeLessThanOrEqual(20);
    const warm = JSON.parse(await readFile(join(dir!, 'state', 'state.json'), 'utf8')) as { series: Record<string, unknown> };
    expect(Object.keys(warm.series).length).toBeGreaterThanOrEqual(8);
  }, 60_000);

  test('a cold --dry-run fetches what fits and says the rest waits; it keeps no cache and no state', async () => {
    const check = await setUp();
    const dry = await check(['--dry-run'], '2026-06-10T12:15:00Z');
    expect(dry.code).toBe(0);
    expect(dry.requests).toBeLessThanOrEqual(20);
    expect(dry.stdout).toContain('Dry run: fetched what the request budget allows one evaluation; the rest waits.\nwaiting for history: all-day');
    expect(existsSync(join(dir!, 'state', 'state.json'))).toBe(false);
    expect(existsSync(join(dir!, 'state', CACHE_FILE))).toBe(false);
    // its requests are counted like a check's: the budget file is its only write
    const budget = await RequestQuota.open({ storage: fileStorage(join(dir!, 'state')), limits: quotaLimits('hobby') });
    expect(budget.snapshot(new Date('2026-06-10T12:16:00Z')).usedLastDay).toBe(dry.requests);
  }, 60_000);

  test('a dry run is refused like a check while Langfuse asked to wait', async () => {
    const check = await setUp();
    const budget = await RequestQuota.open({ storage: fileStorage(join(dir!, 'state')), limits: quotaLimits('hobby') });
    await budget.rateLimited(600, new Date('2026-06-10T12:10:00Z'));
    await expect(check(['--dry-run'], '2026-06-10T12:15:00Z')).rejects.toThrow(/^not evaluated: Langfuse asked to wait \(HTTP 429\) until 2026-06-10T12:20:00.000Z$/);
    expect(fake!.requests.filter((r) => r.path.includes('metrics'))).toHaveLength(0);
  });
});
