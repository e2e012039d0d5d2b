// The cost exporter (`costExporter: true`) end to end: the daemon against the fake Langfuse over
// real sockets with a fixed clock, /metrics scraped over HTTP. Window gauges equal the data set to
// the cent; counters grow by the hours the clock closes and by nothing else; one request more per
// evaluation; off by default; bounded labels with 200 models.
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { buildGeneration } from '../../src/cli/commands/run.js';
import { loadConfig } from '../../src/config/load.js';
import { Daemon, type Generation } from '../../src/daemon/daemon.js';
import type { StartCron } from '../../src/daemon/scheduler.js';
import { createLogger } from '../../src/log/logger.js';
import { LangfuseClient } from '../../src/sources/langfuse/client.js';
import { keptHoursStore } from '../../src/sources/langfuse/cost-export.js';
import { RequestQuota } from '../../src/sources/langfuse/quota.js';
import { CostExporter } from '../../src/engine/cost-export.js';
import { memoryStorage } from '../../src/storage/memory.js';
import { StateStore } from '../../src/storage/state-store.js';
import { startFakeLangfuse, type FakeLangfuse, type FakeObservation } from '../../tools/fake-langfuse/server.js';
import { freePort } from '../support/cli-process.js';
import { spend } from '../support/observations.js';

const HOUR = 3_600_000;
const T0 = new Date('2026-12-09T10:20:00Z'); // Wednesday; Berlin (CET) day from 8 Dec 23:00Z, week from 6 Dec 23:00Z, month from 30 Nov 23:00Z

interface Obs {
  readonly at: string;
  readonly model: string | null;
  readonly op: string | null;
  readonly usd: number;
  readonly input: number;
  readonly output: number;
}

const DATA: Obs[] = [
  { at: '2026-11-30T22:30:00Z', model: 'gpt-4o', op: 'chat', usd: 100, input: 1, output: 1 }, // 30 Nov 23:30 CET: last month
  { at: '2026-12-01T05:00:00Z', model: 'gpt-4o', op: 'chat', usd: 1.11, input: 1000, output: 100 },
  { at: '2026-12-06T22:30:00Z', model: 'claude', op: 'summarize', usd: 2.22, input: 2000, output: 200 }, // Sunday 23:30 CET: last week
  { at: '2026-12-07T08:00:00Z', model: 'claude', op: 'chat', usd: 3.33, input: 3000, output: 300 },
  { at: '2026-12-08T22:45:00Z', model: 'gpt-4o', op: 'chat', usd: 0.4, input: 400, output: 40 }, // 8 Dec 23:45 CET: yesterday
  { at: '2026-12-09T00:10:00Z', model: 'gpt-4o', op: 'chat', usd: 0.57, input: 570, output: 57 },
  { at: '2026-12-09T09:30:00Z', model: 'claude', op: 'summarize', usd: 0.89, input: 890, output: 89 },
  // H1 = 10:00Z, open at T0
  { at: '2026-12-09T10:05:00Z', model: 'gpt-4o', op: 'chat', usd: 0.13, input: 130, output: 13 },
  { at: '2026-12-09T10:10:00Z', model: null, op: null, usd: 0.21, input: 21, output: 0 },
  // H2, H3
  { at: '2026-12-09T11:30:00Z', model: 'mini', op: 'chat', usd: 0.31, input: 310, output: 31 },
  { at: '2026-12-09T12:40:00Z', model: 'claude', op: 'summarize', usd: 0.47, input: 470, output: 47 },
  { at: '2026-12-09T13:05:00Z', model: 'claude', op: 'chat', usd: 0.05, input: 50, output: 5 },
];

const observation = (o: Obs): FakeObservation => ({ ...spend(o.at, o.usd, { model: o.model, traceName: o.op ?? undefined }), traceName: o.op as string, inputTokens: o.input, outputTokens: o.output });

/** The data set's sum of `pick` by label (null as `none`) over [from, to). */
function sumBy(from: string | Date, to: string | Date, key: (o: Obs) => string, pick: (o: Obs) => number = (o) => o.usd): Map<string, number> {
  const sums = new Map<string, number>();
  for (const o of DATA) {
    const t = Date.parse(o.at);
    if (t < new Date(from).getTime() || t >= new Date(to).getTime()) continue;
    sums.set(key(o), (sums.get(key(o)) ?? 0) + pick(o));
  }
  return sums;
}
const modelOf = (o: Obs): string => o.model ?? 'none';
const pairOf = (o: Obs): string => `${o.model ?? 'none'}|${o.op ?? 'none'}`;

let dir: string;
let fake: FakeLangfuse;
let daemons: Daemon[] = [];
let now: Date;
let logText: string;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'spend-alerts-cost-export-'));
  fake = await startFakeLangfuse({ observations: DATA.map(observation) });
  now = T0;
  logText = '';
});

afterEach(async () => {
  for (const daemon of daemons) await daemon.stop('test over');
  daemons = [];
  await fake.close();
  await rm(dir, { recursive: true, force: true });
});

/** No cron ticks: the test runs each evaluation itself. */
const stillCron: StartCron = () => ({ start: () => {}, destroy: () => {}, nextRuns: () => [], match: () => false });

async function startDaemon(name: string, extraYaml: string): Promise<Daemon> {
  const configFile = join(dir, `${name}.yaml`);
  await writeFile(
    configFile,
    `langfuse: { baseUrl: "${fake.url}", publicKey: ${fake.publicKey}, secretKey: ${fake.secretKey} }
timezone: Europe/Berlin
channels:
  out: { type: console }
alerts:
  - { name: spend, window: day, threshold: 1000, channels: [out] }
${extraYaml}`,
  );
  const sink = new PassThrough();
  sink.setEncoding('utf8').on('data', (chunk: string) => {
    logText += chunk;
  });
  const stateDir = join(dir, `state-${name}`);
  const io = { stdout: sink, stderr: sink, env: {}, cwd: dir };
  const clock = (): Date => now;
  const load = async (onRequest: Parameters<ConstructorParameters<typeof Daemon>[0]['load']>[0]): Promise<Generation> => {
    const { config } = await loadConfig({ path: configFile, env: {}, needs: 'all' });
    const log = createLogger({ level: 'info', format: 'json', redact: (text) => text, destination: sink });
    return buildGeneration({ config, log, redact: (text) => text }, io, stateDir, onRequest, clock);
  };
  const daemon = new Daemon({ load, configFile, store: new StateStore(stateDir), port: await freePort(), clock, watch: false, ui: false, startCron: stillCron });
  daemons.push(daemon);
  await daemon.start();
  await daemon['scheduler']!.idle();
  return daemon;
}

async function evaluateAt(daemon: Daemon, at: string): Promise<void> {
  now = new Date(at);
  await daemon['evaluate'](['spend'], now);
}

/** /metrics over HTTP: every sample of `metric`, by its labels as written. */
async function scrape(daemon: Daemon, metric: string): Promise<Map<string, number>> {
  const text = await (await fetch(`http://127.0.0.1:${daemon.port}/metrics`)).text();
  const samples = new Map<string, number>();
  for (const line of text.split('\n')) {
    const match = new RegExp(`^${metric}(\\{[^}]*\\})? (\\S+)$`).exec(line);
    if (match) samples.set(match[1] ?? '', Number(match[2]));
  }
  return samples;
}

/** Samples keyed by the label values named, joined by `|`; values rounded to the cent. */
function byLabels(samples: Map<string, number>, names: string[], where: Record<string, string> = {}): Map<string, number> {
  const out = new Map<string, number>();
  for (const [labels, value] of samples) {
    const values = Object.fromEntries([...labels.matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map((m) => [m[1]!, m[2]!]));
    if (Object.entries(where).some(([k, v]) => values[k] !== v)) continue;
    out.set(names.map((n) => values[n]).join('|'), Math.round(value * 100) / 100);
  }
  return out;
}

const cents = (sums: Map<string, number>): Map<string, number> => new Map([...sums].map(([k, v]) => [k, Math.round(v * 100) / 100]));
const metricsRequests = (): number => fake.requests.filter((r) => r.path.endsWith('/metrics')).length;
const exporterRequests = (): number =>
  fake.requests.filter((r) => JSON.stringify(r.query).includes('"timeDimension":{"granularity":"hour"}') && JSON.stringify(r.query).includes('traceName') && JSON.stringify(r.query).includes('inputTokens')).length;

describe('costExporter: true', () => {
  test('window gauges equal the data set to the cent; counters add exactly the hours the clock closes', async () => {
    const daemon = await startDaemon('on', 'costExporter: true\n');
    const gauges = await scrape(daemon, 'spend_alerts_window_cost_usd');
    expect(byLabels(gauges, ['model'], { window: 'day' })).toEqual(cents(sumBy('2026-12-08T23:00:00Z', T0, modelOf)));
    expect(byLabels(gauges, ['model'], { window: 'week' })).toEqual(cents(sumBy('2026-12-06T23:00:00Z', T0, modelOf)));
    expect(byLabels(gauges, ['model'], { window: 'month' })).toEqual(cents(sumBy('2026-11-30T23:00:00Z', T0, modelOf)));
    expect(byLabels(gauges, ['model'], { window: 'month' }).get('claude')).toBe(6.44);

    // the first evaluation adds nothing: the pairs of the open hour start at 0
    const atStart = byLabels(await scrape(daemon, 'llm_cost_dollars_total'), ['model', 'operation']);
    expect(atStart).toEqual(new Map([['gpt-4o|chat', 0], ['none|none', 0]]));

    // 11:50: H1 (10:00Z) closed at 11:15
    await evaluateAt(daemon, '2026-12-09T11:50:00Z');
    const afterH1 = byLabels(await scrape(daemon, 'llm_cost_dollars_total'), ['model', 'operation']);
    expect(afterH1).toEqual(new Map([...cents(sumBy('2026-12-09T10:00:00Z', '2026-12-09T11:00:00Z', pairOf)), ['mini|chat', 0]]));

    // 11:58: no hour closes, nothing changes
    await evaluateAt(daemon, '2026-12-09T11:58:00Z');
    expect(byLabels(await scrape(daemon, 'llm_cost_dollars_total'), ['model', 'operation'])).toEqual(afterH1);

    // 13:16: H2 and H3 closed
    await evaluateAt(daemon, '2026-12-09T13:16:00Z');
    const closed = (pick: (o: Obs) => number) => cents(sumBy('2026-12-09T10:00:00Z', '2026-12-09T13:00:00Z', pairOf, pick));
    const cost = byLabels(await scrape(daemon, 'llm_cost_dollars_total'), ['model', 'operation']);
    expect(cost).toEqual(new Map([...closed((o) => o.usd), ['claude|chat', 0]]));
    const tokens = await scrape(daemon, 'llm_tokens_used_total');
    expect(byLabels(tokens, ['model', 'operation'], { token_type: 'input' })).toEqual(new Map([...closed((o) => o.input), ['claude|chat', 0]]));
    expect(byLabels(tokens, ['model', 'operation'], { token_type: 'output' })).toEqual(new Map([...closed((o) => o.output), ['claude|chat', 0]]));
    // the gauges moved on with the clock
    const gaugesLater = await scrape(daemon, 'spend_alerts_window_cost_usd');
    expect(byLabels(gaugesLater, ['model'], { window: 'day' })).toEqual(cents(sumBy('2026-12-08T23:00:00Z', now, modelOf)));
    // money is written clean, as everywhere: no float noise from summing costs (10 significant digits)
    const noisy = [...(await scrape(daemon, 'llm_cost_dollars_total')).values(), ...gaugesLater.values()].filter((value) => Number(value.toPrecision(10)) !== value);
    expect(noisy).toEqual([]);
  });

  test('one request more per evaluation than without it; off by default, with no llm_* metric', async () => {
    const times = ['2026-12-09T11:50:00Z', '2026-12-09T11:58:00Z', '2026-12-09T13:16:00Z'];
    const run = async (name: string, yaml: string): Promise<{ requests: number; daemon: Daemon }> => {
      now = T0;
      const before = metricsRequests();
      const daemon = await startDaemon(name, yaml);
      for (const at of times) await evaluateAt(daemon, at);
      return { requests: metricsRequests() - before, daemon };
    };
    const off = await run('off', '');
    const exporterBefore = exporterRequests();
    const on = await run('on', 'costExporter: true\n');
    expect(exporterRequests() - exporterBefore).toBe(4);
    expect(on.requests).toBe(off.requests + 4);
    const text = await (await fetch(`http://127.0.0.1:${off.daemon.port}/metrics`)).text();
    expect(text).not.toMatch(/^llm_|spend_alerts_window_cost_usd/m);
    expect(text).toContain('spend_alerts_evaluations_total 4');
  });

  test('200 models: at most 50 of them are labels, the rest is other, and the sums stay whole', async () => {
    const many: Obs[] = Array.from({ length: 200 }, (_, i) => ({ at: `2026-12-09T10:${String(i % 60).padStart(2, '0')}:00Z`, model: `model-${i}`, op: `op-${i % 4}`, usd: 0.01 * (i + 1), input: 1, output: 1 }));
    fake.setObservations(many.map(observation));
    const daemon = await startDaemon('many', 'costExporter: true\n');
    await evaluateAt(daemon, '2026-12-09T11:50:00Z');
    const cost = await scrape(daemon, 'llm_cost_dollars_total');
    const models = new Set([...byLabels(cost, ['model']).keys()]);
    expect(models.size).toBe(51);
    expect(models.has('other')).toBe(true);
    expect(cost.size).toBeLessThanOrEqual(51 * 4);
    const total = [...cost.values()].reduce((a, b) => a + b, 0);
    expect(Math.round(total * 100) / 100).toBe(Math.round(many.reduce((sum, o) => sum + o.usd, 0) * 100) / 100);
    const day = byLabels(await scrape(daemon, 'spend_alerts_window_cost_usd'), ['model'], { window: 'day' });
    expect(day.size).toBe(51);
    // a model once a label stays one; the same 50 in every metric
    expect(new Set(day.keys())).toEqual(models);
    expect((await scrape(daemon, 'llm_tokens_used_total')).size).toBeLessThanOrEqual(51 * 4 * 2);
  });
});

describe('costExporter: true, harder data', () => {
  test('a cold start past the row limit catches up over evaluations: gauges absent until then, never wrong', async () => {
    const hourly: Obs[] = [];
    for (let t = Date.parse('2026-11-30T23:00:00Z'); t < T0.getTime(); t += HOUR) {
      for (const model of ['a', 'b', 'c', 'd', 'e']) hourly.push({ at: new Date(t + 60_000).toISOString(), model, op: 'chat', usd: 0.01, input: 1, output: 1 });
    }
    expect(hourly.length).toBeGreaterThan(1000);
    fake.setObservations(hourly.map(observation));
    const daemon = await startDaemon('catch-up', 'costExporter: true\n');
    expect((await scrape(daemon, 'spend_alerts_window_cost_usd')).size).toBe(0);
    expect(logText).toMatch(/cost exporter: catching up on closed hours \(read up to 2026-12-0\dT\d\d:00:00.000Z\)/);
    await evaluateAt(daemon, '2026-12-09T10:25:00Z');
    const month = byLabels(await scrape(daemon, 'spend_alerts_window_cost_usd'), ['model'], { window: 'month' });
    const expected = hourly.filter((o) => o.model === 'a').length * 0.01;
    expect(month).toEqual(new Map(['a', 'b', 'c', 'd', 'e'].map((model) => [model, Math.round(expected * 100) / 100])));
    // hours closed before the first evaluation are not counted, however late they were read
    expect([...(await scrape(daemon, 'llm_cost_dollars_total')).values()]).toEqual([0, 0, 0, 0, 0]);
  });

  test('a reload that turns it off removes its metrics and sends no more of its requests', async () => {
    const daemon = await startDaemon('reload', 'costExporter: true\n');
    expect((await scrape(daemon, 'spend_alerts_window_cost_usd')).size).toBeGreaterThan(0);
    const configFile = join(dir, 'reload.yaml');
    await writeFile(configFile, (await readFile(configFile, 'utf8')).replace('costExporter: true', 'costExporter: false'));
    await daemon.reload('test');
    const before = exporterRequests();
    await evaluateAt(daemon, '2026-12-09T11:50:00Z');
    expect(exporterRequests()).toBe(before);
    const text = await (await fetch(`http://127.0.0.1:${daemon.port}/metrics`)).text();
    expect(text).not.toMatch(/^(llm_|spend_alerts_window_cost_usd)/m);
  });

  test('traced names are escaped on /metrics, never lines of their own', async () => {
    const hostile = 'evil"} 1\nllm_cost_dollars_total{model="forged';
    fake.setObservations([observation({ at: '2026-12-09T10:05:00Z', model: hostile, op: 'op\\x', usd: 1, input: 1, output: 1 })]);
    const daemon = await startDaemon('hostile', 'costExporter: true\n');
    const text = await (await fetch(`http://127.0.0.1:${daemon.port}/metrics`)).text();
    expect(text).not.toMatch(/^llm_cost_dollars_total\{model="forged/m);
    expect(text).toContain('llm_cost_dollars_total{model="evil\\"} 1\\nllm_cost_dollars_total{model=\\"forged",operation="op\\\\x"} 0');
  });
});

describe('CostExporter against the fake Langfuse', () => {
  const exporterOn = (client: LangfuseClient, quota: RequestQuota, storage = memoryStorage()) => ({
    client,
    quota,
    store: keptHoursStore(storage, 'project'),
    timezone: 'Europe/Berlin',
    lagMarginMs: 15 * 60_000,
  });
  const clientOf = () => new LangfuseClient({ baseUrl: fake.url, publicKey: fake.publicKey, secretKey: fake.secretKey, maxAttempts: 1, baseDelayMs: 1 });

  test('a failed request adds nothing; the next one reads from the same hour and counts each hour once; every request is in the budget', async () => {
    const quota = RequestQuota.inMemory({});
    const langfuse = exporterOn(clientOf(), quota);
    const exporter = new CostExporter();
    await exporter.evaluate(langfuse, T0);
    fake.inject({ kind: 'status', status: 400, path: '/api/public/v2/metrics' });
    await expect(exporter.evaluate(langfuse, new Date('2026-12-09T11:50:00Z'))).rejects.toThrow(/400/);
    const step = await exporter.evaluate(langfuse, new Date('2026-12-09T12:20:00Z'));
    const counted = 'counted' in step ? step.counted.map((row) => [new Date(row.hour).toISOString(), row.model ?? 'none', row.cost]) : [];
    expect(counted.sort()).toEqual([
      ['2026-12-09T10:00:00.000Z', 'gpt-4o', 0.13],
      ['2026-12-09T10:00:00.000Z', 'none', 0.21],
      ['2026-12-09T11:00:00.000Z', 'mini', 0.31],
    ]);
    expect(quota.snapshot(new Date('2026-12-09T12:20:00Z')).usedLastDay).toBe(3);
  });

  test('a restart reads on from the kept hours in the state directory, and its counters start at 0', async () => {
    const storage = memoryStorage();
    const first = new CostExporter();
    await first.evaluate(exporterOn(clientOf(), RequestQuota.inMemory({}), storage), T0);
    const froms: string[] = [];
    const restarted = new CostExporter();
    const before = fake.requests.length;
    const step = await restarted.evaluate(exporterOn(clientOf(), RequestQuota.inMemory({}), storage), new Date('2026-12-09T12:20:00Z'));
    for (const request of fake.requests.slice(before)) froms.push((request.query as { fromTimestamp: string }).fromTimestamp);
    expect(froms).toEqual(['2026-12-09T10:00:00.000Z']);
    expect('counted' in step && step.counted).toEqual([]);
    expect('windows' in step && step.windows?.get('month')?.get('claude')).toBeCloseTo(2.22 + 3.33 + 0.89, 10);
  });

  test('hours read again after a reload moved the gauges\' start earlier (another zone) are not counted again', async () => {
    const exporter = new CostExporter();
    const utc = { ...exporterOn(clientOf(), RequestQuota.inMemory({})), timezone: 'UTC' };
    await exporter.evaluate(utc, T0);
    const second = await exporter.evaluate(utc, new Date('2026-12-09T11:50:00Z'));
    expect('counted' in second && second.counted.map((row) => row.cost).sort()).toEqual([0.13, 0.21]);
    // Tokyo's month began on 30 November 15:00 UTC, before the kept hours: they are read afresh
    const before = fake.requests.length;
    const third = await exporter.evaluate({ ...utc, timezone: 'Asia/Tokyo' }, new Date('2026-12-09T12:20:00Z'));
    expect((fake.requests[before]!.query as { fromTimestamp: string }).fromTimestamp).toBe('2026-11-30T15:00:00.000Z');
    expect('counted' in third && third.counted.map((row) => [row.model, row.cost])).toEqual([['mini', 0.31]]);
  });

  test('while Langfuse asked to wait (a 429 paused the budget) no request is sent', async () => {
    const quota = RequestQuota.inMemory({});
    await quota.rateLimited(600, T0);
    const before = fake.requests.length;
    const outcome = await new CostExporter().evaluate(exporterOn(clientOf(), quota), new Date(T0.getTime() + 60_000));
    expect(outcome).toEqual({ skipped: `Langfuse asked to wait until ${new Date(T0.getTime() + 600_000).toISOString()}` });
    expect(fake.requests.length).toBe(before);
  });
});
