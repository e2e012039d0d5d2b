// Benchmark (b), run by bench/run.ts in a process of its own so that its memory is the worker's
// alone: bundled to plain JavaScript the way `npm run build` bundles the command line (bench/run.ts
// does it), so no TypeScript loader and no fake Langfuse is in it.
// Two modes, each a process of its own, on the same state directory:
//   fill     evaluates every alert at NOW until the history cache holds everything (no request
//            left): Langfuse's answers are fetched and kept
//   measure  starts with that cache, as the daemon does after a restart or `check` from cron does
//            every time, and evaluates 5 times from the cache alone
// Reads the configuration from argv[3], Langfuse from the environment. Prints one JSON line.
import { readFileSync } from 'node:fs';
import { loadConfig } from '../src/config/load.js';
import { evaluateAlert, neededRanges } from '../src/core/evaluate.js';
import { LangfuseClient, langfuseIdentity } from '../src/sources/langfuse/client.js';
import { plannerSettings } from '../src/config/planner-settings.js';
import { alertRangeQueries, alertReading, alertReads } from '../src/core/query.js';
import { createLogger } from '../src/log/logger.js';
import { createSpendSource } from '../src/sources/langfuse/planner/index.js';
import { statusMb } from './proc-status.js';

const [mode, configPath, stateDir] = process.argv.slice(2);
if ((mode !== 'fill' && mode !== 'measure') || configPath === undefined || stateDir === undefined || process.env.NOW === undefined) {
  throw new Error('usage: NOW=<iso time> node evaluate-1000.js fill|measure <alerts.yaml> <state dir>');
}
const now = new Date(process.env.NOW);
const { config } = await loadConfig({ path: configPath, text: readFileSync(configPath, 'utf8'), env: process.env, needs: 'all' });
const log = createLogger({ level: 'warn', format: 'json', redact: (text) => text });
const client = new LangfuseClient({ baseUrl: config.langfuse.baseUrl, publicKey: config.langfuse.publicKey, secretKey: config.langfuse.secretKey });
const project = langfuseIdentity(config.langfuse.baseUrl, config.langfuse.publicKey);
const source = createSpendSource({ client, stateDir, project, settings: plannerSettings(config), log, readOnly: false });

const plans = config.alerts.map((alert) => ({ alert, ranges: neededRanges(alert, now, config.timezone) }));
const queries = plans.flatMap(({ alert, ranges }) =>
  [ranges.current, ...ranges.baselines].flatMap((range) => alertRangeQueries(alert, range)),
);

/** Evaluates every alert; returns the series and the CPU time the planner took. */
async function evaluateAll() {
  const cpu = process.cpuUsage();
  const results = await source.spendAll(queries);
  const planned = process.cpuUsage(cpu);
  let next = 0;
  let series = 0;
  for (const { alert, ranges } of plans) {
    const perRange = alertReads(alert).length;
    const answers = results.slice(next, (next += (1 + ranges.baselines.length) * perRange)).map((r) => {
      if (r.status === 'rejected') throw new Error(`${alert.name}: ${String(r.reason)}`);
      return r.value;
    });
    const [current, ...baselines] = [ranges.current, ...ranges.baselines].map((_, i) => alertReading(alert, answers.slice(i * perRange, (i + 1) * perRange)));
    if (current === undefined) throw new Error(`${alert.name}: no result for the current window`);
    series += evaluateAlert(alert, { current, baselines }, { now, timezone: config.timezone }).length;
  }
  return { series, plannerMs: (planned.user + planned.system) / 1000 };
}

const requestsOfLast = (): number => source.lastUsage?.requests ?? Number.NaN;
// the process's peak, from its start: loading the configuration and the cache included
const peakRssMb = (): number => statusMb(readFileSync('/proc/self/status', 'utf8'), 'VmHWM');

if (mode === 'fill') {
  let requests = 0;
  for (let round = 0; round < 30; round++) {
    await evaluateAll();
    requests += requestsOfLast();
    if (requestsOfLast() === 0) break;
  }
  if (requestsOfLast() !== 0) throw new Error('the history cache did not fill up');
  process.stdout.write(JSON.stringify({ requests, peakRssMb: peakRssMb() }) + '\n');
} else {
  const runs = [];
  let series = 0;
  for (let run = 0; run < 5; run++) {
    const cpu = process.cpuUsage();
    const started = performance.now();
    const evaluated = await evaluateAll();
    const used = process.cpuUsage(cpu);
    if (requestsOfLast() !== 0) throw new Error(`evaluation ${run + 1} sent ${requestsOfLast()} requests: the cache was not filled`);
    series = evaluated.series;
    runs.push({ cpuMs: (used.user + used.system) / 1000, plannerCpuMs: evaluated.plannerMs, wallMs: performance.now() - started });
  }
  process.stdout.write(JSON.stringify({ alerts: config.alerts.length, queries: queries.length, series, runs, peakRssMb: peakRssMb() }) + '\n');
}
