// Benchmark (b), run by bench/run.ts in a process of its own so that its memory is the worker's
// alone: bundled to plain JavaScript the way `npm run build` bundles the command line (bench/run.ts
// does it), so no TypeScript loader and no fake Langfuse is in it.
// Reads the configuration from argv[2], Langfuse from the environment, evaluates every alert at
// NOW until the history cache holds everything (no request left), then measures evaluations that
// are answered from the cache alone. Prints one JSON line.
import { readFileSync, writeFileSync } from 'node:fs';
import { loadConfig } from '../src/config/load.js';
import { evaluateAlert, neededRanges } from '../src/evaluate/evaluate.js';
import { LangfuseClient } from '../src/langfuse/client.js';
import { createLogger } from '../src/log/logger.js';
import { createSpendSource } from '../src/planner/index.js';
import { statusMb } from './proc-status.js';

const [configPath, stateDir] = process.argv.slice(2);
if (configPath === undefined || stateDir === undefined || process.env.NOW === undefined) {
  throw new Error('usage: NOW=<iso time> node evaluate-1000.js <alerts.yaml> <state dir>');
}
const now = new Date(process.env.NOW);
const { config } = await loadConfig({ path: configPath, text: readFileSync(configPath, 'utf8'), env: process.env, needs: 'all' });
const log = createLogger({ level: 'warn', format: 'json', redact: (text) => text });
const client = new LangfuseClient({ baseUrl: config.langfuse.baseUrl, publicKey: config.langfuse.publicKey, secretKey: config.langfuse.secretKey });
const source = createSpendSource({ client, stateDir, config, log, readOnly: false });

const plans = config.alerts.map((alert) => ({ alert, ranges: neededRanges(alert, now, config.timezone) }));
const queries = plans.flatMap(({ alert, ranges }) =>
  [ranges.current, ...ranges.baselines].map((range) => ({ filters: alert.filters ?? {}, groupBy: alert.groupBy, top: alert.top, from: range.from, to: range.to })),
);

/** Evaluates every alert; returns the series and the CPU time the planner took. */
async function evaluateAll() {
  const cpu = process.cpuUsage();
  const results = await source.spendAll(queries);
  const planned = process.cpuUsage(cpu);
  let next = 0;
  let series = 0;
  for (const { alert, ranges } of plans) {
    const values = results.slice(next, (next += 1 + ranges.baselines.length)).map((r) => {
      if (r.status === 'rejected') throw new Error(`${alert.name}: ${String(r.reason)}`);
      return r.value;
    });
    const [current, ...baselines] = values;
    if (current === undefined) throw new Error(`${alert.name}: no result for the current window`);
    series += evaluateAlert(alert, { current, baselines }, { now, timezone: config.timezone }).length;
  }
  return { series, plannerMs: (planned.user + planned.system) / 1000 };
}

const requestsOfLast = (): number => source.lastUsage?.requests ?? Number.NaN;
let warmUpRequests = 0;
for (let round = 0; round < 30; round++) {
  await evaluateAll();
  warmUpRequests += requestsOfLast();
  if (requestsOfLast() === 0) break;
}
if (requestsOfLast() !== 0) throw new Error('the history cache did not fill up');

// The peak so far is the fetching's (the cache filling up); what is measured is evaluating over
// fetched spend, so the peak is reset (Linux: 5 > /proc/self/clear_refs) before the measured runs.
const peakRssMb = (): number => statusMb(readFileSync('/proc/self/status', 'utf8'), 'VmHWM');
const warmUpPeakRssMb = peakRssMb();
let peakReset = true;
try {
  writeFileSync('/proc/self/clear_refs', '5');
} catch {
  peakReset = false;
}

const runs = [];
let series = 0;
for (let run = 0; run < 5; run++) {
  const cpu = process.cpuUsage();
  const started = performance.now();
  const evaluated = await evaluateAll();
  const used = process.cpuUsage(cpu);
  series = evaluated.series;
  runs.push({
    cpuMs: (used.user + used.system) / 1000,
    plannerCpuMs: evaluated.plannerMs,
    wallMs: performance.now() - started,
    requests: requestsOfLast(),
  });
}
process.stdout.write(
  JSON.stringify({
    alerts: config.alerts.length,
    queries: queries.length,
    series,
    warmUpRequests,
    runs,
    rssMb: process.memoryUsage().rss / 2 ** 20,
    warmUpPeakRssMb,
    peakRssMb: peakRssMb(),
    peakReset,
  }) + '\n',
);
