// `npm run bench`: what the worker costs, measured. Not a test: it prints a table and writes
// docs/benchmarks.md.
//   (a) Langfuse requests per evaluation and per day, the reference configuration, planned vs one
//       request per alert window, from an empty history cache and with a warm one
//   (b) 1,000 alerts evaluated over spend already fetched: CPU time and memory
//   (c) `check` from spawn to its first Langfuse request
//   (d) an idle daemon's memory
//   (e) `validate` with 10,000 alerts: wall time
//   (f) a cold start under Hobby's request budget; the memory a cold fetch of the longest lookback needs
//   (g) forecasts and top contributors: what they cost in requests, with and without `explain`
//   (h) `report --window 30d`: requests and wall time on a cold cache, in UTC and in Asia/Kolkata
//   (i) `backtest --days 30`: requests and wall time on a cold cache
//   (j) the cost exporter (`costExporter: true`): requests per evaluation and per day on vs off, and
//       a scrape of /metrics with 200 models × 50 trace names
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadConfig } from '../src/config/load.js';
import { startFakeLangfuse, type FakeLangfuse, type FakeObservation } from '../tools/fake-langfuse/server.js';
import { LangfuseClient, langfuseIdentity } from '../src/sources/langfuse/client.js';
import { LangfuseSpendSource } from '../test/support/langfuse-spend-source.js';
import { createLogger } from '../src/log/logger.js';
import { quotaLimits, createSpendSource, RequestQuota } from '../src/sources/langfuse/planner/index.js';
import { plannerSettings } from '../src/config/planner-settings.js';
import { alertQueries } from '../src/core/alert-queries.js';
import { WaitingForHistory } from '../src/core/query.js';
import { bundle } from '../scripts/build.js';
import { main } from '../src/cli/main.js';
import { PassThrough } from 'node:stream';
import { statusMb } from './proc-status.js';
import { spend } from '../test/support/observations.js';
import { startHarness } from '../test/support/harness.js';
import { buildGeneration } from '../src/cli/commands/run.js';
import { Daemon } from '../src/daemon/daemon.js';
import { StateStore } from '../src/storage/state-store.js';
import {
  COLD_START_ALERTS,
  coldStartSpend,
  dayOfTicks,
  REFERENCE_ALERTS,
  REFERENCE_FILTER_SETS,
  REFERENCE_TIMEZONE,
  referenceSpend,
} from '../test/sources/langfuse/planner/reference.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const KEYS = { publicKey: 'pk-lf-bench', secretKey: 'sk-lf-bench' };
const CONSOLE_CHANNEL = 'channels:\n  terminal:\n    type: console\n';

interface Row {
  readonly measure: string;
  readonly value: string;
  readonly target: string;
  readonly verdict: string;
}

const rows: Row[] = [];
const notes: string[] = [];
const row = (measure: string, value: string, target = '', met?: boolean): void => {
  rows.push({ measure, value, target, verdict: met === undefined ? '' : met ? 'met' : 'MISSED' });
};
const fmt = (n: number, digits = 0): string => n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });
const median = (values: readonly number[]): number => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

async function withFake<T>(observations: readonly FakeObservation[], fn: (fake: FakeLangfuse, dir: string) => Promise<T>): Promise<T> {
  const fake = await startFakeLangfuse({ observations, ...KEYS });
  const dir = await mkdtemp(join(tmpdir(), 'spend-alerts-bench-'));
  try {
    return await fn(fake, dir);
  } finally {
    await fake.close();
    await rm(dir, { recursive: true, force: true });
  }
}

const env = (fake: FakeLangfuse): Record<string, string> => ({
  LANGFUSE_BASE_URL: fake.url,
  LANGFUSE_PUBLIC_KEY: KEYS.publicKey,
  LANGFUSE_SECRET_KEY: KEYS.secretKey,
});

/** (a) */
async function requests(): Promise<void> {
  await withFake(referenceSpend('2026-06-12T00:00:00Z', 20), async (fake, dir) => {
    const { config } = await loadConfig({ path: 'alerts.yaml', text: CONSOLE_CHANNEL + REFERENCE_ALERTS, env: env(fake), needs: 'all' });
    const client = new LangfuseClient({ baseUrl: fake.url, ...KEYS });
    const log = createLogger({ level: 'error', format: 'json', redact: (t) => t });
    const project = langfuseIdentity(fake.url, KEYS.publicKey);
    const planned = createSpendSource({ client, stateDir: dir, project, settings: plannerSettings(config), log, readOnly: false });
    const metrics = (): number => fake.requests.filter((r) => r.path.includes('metrics')).length;
    const day = async (start: string): Promise<number[]> => {
      const counts: number[] = [];
      for (const now of dayOfTicks(start)) {
        const before = metrics();
        await planned.spendAll(alertQueries(config.alerts, now, REFERENCE_TIMEZONE));
        counts.push(metrics() - before);
      }
      return counts;
    };
    const before = metrics();
    await new LangfuseSpendSource(client).spendAll(alertQueries(config.alerts, new Date('2026-06-09T12:00:00Z'), REFERENCE_TIMEZONE));
    const naive = metrics() - before;
    const cold = await day('2026-06-10T00:00:00Z');
    const warm = await day('2026-06-11T00:00:00Z');
    const sum = (counts: readonly number[]): number => counts.reduce((a, b) => a + b, 0);
    const warmPerEvaluation = Math.max(...warm);
    row('(a) unplanned: requests per evaluation / per day', `${naive} / ${fmt(naive * 96)}`);
    row('(a) planned, cold cache: first evaluation / busiest / day', `${cold[0]} / ${Math.max(...cold)} / ${fmt(sum(cold))}`, '', undefined);
    row('(a) planned, cold cache: day vs unplanned', `${fmt((naive * 96) / sum(cold), 1)}× fewer`, '≥ 10×', (naive * 96) / sum(cold) >= 10);
    row(
      '(a) planned, warm cache: requests per evaluation / per day',
      `${warmPerEvaluation} / ${fmt(sum(warm))}`,
      `≤ ${REFERENCE_FILTER_SETS} (1 per filter set)`,
      warmPerEvaluation <= REFERENCE_FILTER_SETS,
    );
    row('(a) planned, warm cache: day vs unplanned', `${fmt((naive * 96) / sum(warm), 1)}× fewer`, '≥ 10×', (naive * 96) / sum(warm) >= 10);
    const warmFrom = cold.findIndex((_, i) => cold.slice(i).every((n) => n <= REFERENCE_FILTER_SETS));
    notes.push(
      `(a) Reference configuration: 20 alerts (day, week, month, 24h and 7d windows; 3 filter sets; groupBy model and environment; ` +
        `5 relative alerts with baselines of 4 to 7 windows), Europe/Berlin, every 15 minutes, over 45 days of spend ` +
        `(20 generations an hour) in the fake Langfuse. Cold: a day of 96 evaluations starting with an empty state directory; ` +
        `the cache was warm from evaluation ${warmFrom + 1} on. Warm: the following day.`,
    );
  });
}

/** What bench/evaluate-1000.ts prints: `fill` … */
interface FillResult {
  readonly requests: number;
  readonly peakRssMb: number;
}

/** … and `measure` */
interface EvaluationResult {
  readonly queries: number;
  readonly series: number;
  readonly runs: ReadonlyArray<{ cpuMs: number; plannerCpuMs: number; wallMs: number }>;
  readonly peakRssMb: number;
}

/** (b) 1,000 alerts: 900 ungrouped over 30 filter sets, 100 grouped by model with 1,000 models each. */
async function thousandAlerts(): Promise<void> {
  const now = new Date('2026-06-12T12:00:00Z');
  const observations: FakeObservation[] = [];
  const windows = ['day', 'week', 'month', '24h', '7d'] as const;
  for (let set = 0; set < 30; set++) {
    for (let hour = 0; hour < 40 * 24; hour += 1) {
      observations.push(spend(new Date(now.getTime() - hour * 3_600_000 - 1_000 * (set + 1)), 0.01 + (set % 7) / 100, { environment: `env-${set}` }));
    }
  }
  for (let set = 0; set < 10; set++) {
    for (let model = 0; model < 1000; model++) {
      observations.push(spend(new Date(now.getTime() - ((model * 86_399) % 86_400_000) - 1), 0.001 * (model % 13), { environment: `grouped-${set}`, model: `model-${model}` }));
    }
  }
  const alerts: string[] = [];
  for (let i = 0; i < 900; i++) {
    const rule = i % 5 === 0 ? `relative: { factor: 2, baseline: ${3 + (i % 4)} }` : `threshold: ${10 + i}`;
    alerts.push(`  - { name: a${i}, window: ${windows[i % windows.length]}, ${rule}, filters: { environment: env-${i % 30} }, channels: [terminal] }`);
  }
  for (let i = 0; i < 100; i++) {
    alerts.push(`  - { name: g${i}, window: 24h, groupBy: model, threshold: ${0.005 + i / 1000}, filters: { environment: grouped-${i % 10} }, channels: [terminal] }`);
  }
  await withFake(observations, async (fake, dir) => {
    const configPath = join(dir, 'alerts.yaml');
    await writeFile(configPath, `${CONSOLE_CHANNEL}langfuse:\n  lagMargin: 0m\nalerts:\n${alerts.join('\n')}\n`);
    await bundle({ entryPoints: ['bench/evaluate-1000.ts'], outdir: join(dir, 'bundle'), outbase: 'bench' });
    const worker = async <T>(runtime: Runtime, mode: 'fill' | 'measure', stateDir: string): Promise<T> => {
      const child = spawn(runtime.node, [...runtime.flags, join(dir, 'bundle/evaluate-1000.js'), mode, configPath, stateDir], {
        env: { ...process.env, ...env(fake), ...runtime.env, NOW: now.toISOString() },
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      return JSON.parse(await collect(child)) as T;
    };
    // A process fills the history cache; then three processes, each started afresh on that cache,
    // evaluate from it: CPU time and memory on this machine vary from run to run, so each figure
    // is the median of the three.
    const PROCESSES = 3;
    let first: EvaluationResult | undefined;
    let filled: FillResult | undefined;
    for (const runtime of RUNTIMES) {
      const stateDir = join(dir, `state-${RUNTIMES.indexOf(runtime)}`);
      const fill = await worker<FillResult>(runtime, 'fill', stateDir);
      const results: EvaluationResult[] = [];
      for (let process_ = 0; process_ < PROCESSES; process_++) results.push(await worker<EvaluationResult>(runtime, 'measure', stateDir));
      first ??= results[0];
      filled ??= fill;
      const cpu = results.map((result) => median(result.runs.map((r) => r.cpuMs)));
      const planner = median(results.map((result) => median(result.runs.map((r) => r.plannerCpuMs))));
      const peak = results.map((result) => result.peakRssMb);
      row(
        `(b) 1,000 alerts over fetched spend: CPU per evaluation (planner part; the ${PROCESSES} processes), ${runtime.label}`,
        `${fmt(median(cpu))} ms (${fmt(planner)} ms; ${cpu.map((ms) => fmt(ms)).join(', ')})`,
        '< 250 ms',
        median(cpu) < 250,
      );
      row(
        `(b) 1,000 alerts over fetched spend: peak RSS of the process (the ${PROCESSES} processes), ${runtime.label}`,
        `${fmt(median(peak))} MB (${peak.map((mb) => fmt(mb)).join(', ')})`,
        '< 150 MB',
        median(peak) < 150,
      );
      row(`(b) for comparison: peak RSS of the process that fetched the spend, ${runtime.label}`, `${fmt(fill.peakRssMb)} MB`);
    }
    if (!first || !filled) throw new Error('no runtime measured');
    notes.push(
      `(b) 900 alerts without groupBy over 30 filter sets (day, week, month, 24h, 7d; every fifth relative, 3–6 baselines) and ` +
        `100 alerts grouped by model over 10 filter sets of 1,000 models each: ${fmt(first.queries)} windows, ${fmt(first.series)} series. ` +
        `Node processes bundled as \`npm run build\` bundles the command line (no TypeScript loader, no fake Langfuse in them). ` +
        `Per runtime, one process fetches the spend into a history cache (${fmt(filled.requests)} requests); then ${PROCESSES} processes ` +
        `start on that cache, as the daemon does after a restart and \`check\` from cron does every time, and evaluate 5 times ` +
        `from the cache alone (0 requests, which they check): cutting every window from the cached hours (the planner part) and ` +
        `evaluating every alert (the rest: evaluateAlert over ${fmt(first.series)} series). CPU: the median run of each process, ` +
        `then the median process. Memory: VmHWM from /proc/self/status at the end, the peak of the whole process (configuration, ` +
        `cache and 5 evaluations). The process that fetched has parsed Langfuse's answers on top; its peak is shown for comparison. ` +
        `Wall time per run (first process): ${first.runs.map((r) => fmt(r.wallMs)).join(', ')} ms.`,
    );
  });
}

/** Node 24, the image's runtime, when scripts/node24.sh has it or can fetch it; else null. */
function node24(): string | null {
  try {
    return execFileSync('bash', [join(ROOT, 'scripts/node24.sh')], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim() || null;
  } catch {
    return null;
  }
}

interface Runtime {
  readonly label: string;
  readonly node: string;
  /** Node options before the script */
  readonly flags: readonly string[];
  readonly env: Record<string, string>;
}

/** The Node options the image's ENTRYPOINT passes (`["node", ...options, "/app/dist/cli/bin.js"]`). */
async function imageNodeOptions(): Promise<string[]> {
  const dockerfile = await readFile(join(ROOT, 'Dockerfile'), 'utf8');
  const entrypoint = /^ENTRYPOINT (\[.*\])$/m.exec(dockerfile);
  const words = entrypoint ? (JSON.parse(entrypoint[1]!) as string[]) : [];
  if (words[0] !== 'node') throw new Error('the Dockerfile\'s ENTRYPOINT is not ["node", …options, script]');
  return words.slice(1, -1);
}

/**
 * The runtimes (b), (c) and (d) measure: this Node as `spend-alerts` runs on it after an npm
 * install, and Node 24 as the image runs it (its ENTRYPOINT's options, a compile cache in
 * `compileCache`).
 */
async function runtimes(compileCache: string): Promise<Runtime[]> {
  const list: Runtime[] = [{ label: `Node ${process.version.slice(1)}`, node: process.execPath, flags: [], env: { NODE_DISABLE_COMPILE_CACHE: '1' } }];
  const image = node24();
  if (image === null) {
    notes.push('Node 24 rows are missing: scripts/node24.sh could not provide Node 24 (it fetches it from the npm registry once).');
    return list;
  }
  const version = execFileSync(image, ['--version'], { encoding: 'utf8' }).trim().slice(1);
  const flags = await imageNodeOptions();
  list.push({ label: `Node ${version} as in the image (${flags.join(' ')}, compile cache)`, node: image, flags, env: { NODE_COMPILE_CACHE: compileCache } });
  return list;
}

/** (c) */
async function coldStart(): Promise<void> {
  await withFake([spend(new Date(Date.now() - 60_000), 1)], async (fake, dir) => {
    await writeFile(join(dir, 'alerts.yaml'), CONSOLE_CHANNEL + REFERENCE_ALERTS);
    // The floor: a script that does nothing but send the same first request.
    await writeFile(
      join(dir, 'floor.mjs'),
      "import { get } from 'node:http';\nget(process.env.LANGFUSE_BASE_URL + '/api/public/projects', (r) => r.resume()).on('error', () => {});\n",
    );
    const RUNS = 11;
    const firstRequest = async (node: string, args: string[], extraEnv: Record<string, string>): Promise<number> => {
      const seen = fake.requests.length;
      const started = Date.now();
      const child = spawn(node, args, { cwd: dir, env: { PATH: process.env.PATH ?? '', ...env(fake), ...extraEnv }, stdio: 'ignore' });
      const code = await exited(child);
      if (code !== 0) throw new Error(`${args.join(' ')} exited with ${code}`);
      const first = fake.requests[seen];
      if (!first) throw new Error(`${args.join(' ')} sent no request`);
      return first.at.getTime() - started;
    };
    let stateDirs = 0;
    for (const runtime of RUNTIMES) {
      const check = (): Promise<number> =>
        firstRequest(runtime.node, [...runtime.flags, join(ROOT, 'dist/cli/bin.js'), 'check', '--config', join(dir, 'alerts.yaml'), '--state-dir', join(dir, `state-${stateDirs++}`)], runtime.env);
      await check(); // fills the compile cache where there is one; the file cache of the OS either way
      const times: number[] = [];
      const floor: number[] = [];
      for (let run = 0; run < RUNS; run++) {
        floor.push(await firstRequest(runtime.node, [...runtime.flags, join(dir, 'floor.mjs')], runtime.env));
        times.push(await check());
      }
      const spread = `${fmt(Math.min(...times))}–${fmt(Math.max(...times))}`;
      row(`(c) \`check\`: spawn to first Langfuse request, ${runtime.label}`, `${fmt(median(times))} ms (${spread})`, '< 300 ms', median(times) < 300);
      row(`(c) for comparison: a bare \`node\` script's first request, ${runtime.label}`, `${fmt(median(floor))} ms (check: +${fmt(median(times) - median(floor))} ms)`);
    }
    notes.push(
      `(c) \`node dist/cli/bin.js check\` (the bundle \`npm run build\` writes) with the reference configuration and a fresh state ` +
        `directory each run; time from spawn to the first request the fake Langfuse receives (its project lookup); median of ${RUNS}, ` +
        `after one warm-up run. The bare script is a node:http \`get(…)\` alone: what any Node program pays before its first request ` +
        `on this machine, so the difference is what \`check\` itself costs (loading its chunk, reading the configuration, the state ` +
        `directory). Node 24 runs with NODE_COMPILE_CACHE as the image sets it; Node 20 has no compile cache.`,
    );
  });
}

/** (d) */
async function idleDaemon(): Promise<void> {
  await withFake([spend(new Date(Date.now() - 60_000), 1)], async (fake, dir) => {
    await writeFile(join(dir, 'alerts.yaml'), CONSOLE_CHANNEL + REFERENCE_ALERTS);
    for (const runtime of RUNTIMES) {
      const port = await freePort();
      const child = spawn(
        runtime.node,
        [...runtime.flags, join(ROOT, 'dist/cli/bin.js'), 'run', '--port', String(port), '--config', join(dir, 'alerts.yaml'), '--state-dir', join(dir, `state-${port}`)],
        { cwd: dir, env: { PATH: process.env.PATH ?? '', ...env(fake), ...runtime.env, LOG_LEVEL: 'warn' }, stdio: 'ignore' },
      );
      try {
        if (!(await waitForHealth(port, child, 15_000))) {
          row(`(d) idle daemon RSS, ${runtime.label}`, 'not measured: `spend-alerts run` did not answer /healthz', '< 80 MB');
          continue;
        }
        const memory = async (): Promise<{ rss: number; anon: number; file: number; hwm: number }> => {
          const status = await readFile(`/proc/${child.pid}/status`, 'utf8');
          return { rss: statusMb(status, 'VmRSS'), anon: statusMb(status, 'RssAnon'), file: statusMb(status, 'RssFile'), hwm: statusMb(status, 'VmHWM') };
        };
        await sleep(5_000);
        const early = await memory();
        await sleep(SETTLE_MS - 5_000);
        const settled = await memory();
        row(
          `(d) idle daemon RSS after ${SETTLE_MS / 1000} s (anon + file-backed; at 5 s; peak), ${runtime.label}`,
          `${fmt(settled.rss)} MB (${fmt(settled.anon)} + ${fmt(settled.file)}; ${fmt(early.rss)} MB; ${fmt(settled.hwm)} MB)`,
          '< 80 MB',
          settled.rss < 80,
        );
      } finally {
        child.kill('SIGTERM');
        await exited(child);
      }
    }
    for (const runtime of RUNTIMES) {
      row(`(d) for comparison: a bare \`node\` with an HTTP server, one request and a time zone, ${runtime.label}`, `${fmt(bareNodeRss(runtime))} MB`);
    }
    notes.push(
      `(d) \`node dist/cli/bin.js run\` with the reference configuration: /healthz answering (its first evaluation done), then idle; ` +
        `VmRSS, RssAnon, RssFile and VmHWM from /proc/<pid>/status at 5 s and after ${SETTLE_MS / 1000} s, when V8 has shrunk ` +
        `the heap it grew for the evaluation (an idle daemon between evaluations 15 minutes apart is in that state). File-backed ` +
        `pages are mostly the node binary (shared, and given back under memory pressure). The bare figure is what Node itself ` +
        `needs for the same kind of work: an HTTP server, one node:http request (the transport spend-alerts uses), one Intl time zone.`,
    );
  });
}

/** (e) 1,000 and 10,000 alerts: what each costs shows whether `validate` grows linearly. */
async function largeValidate(): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'spend-alerts-bench-'));
  const RUNS = 3;
  try {
    const windows = ['day', 'week', 'month', '24h', '7d'] as const;
    for (const count of [1_000, 10_000]) {
      const alerts: string[] = [];
      for (let i = 0; i < count; i++) {
        const rule = i % 5 === 0 ? `relative: { factor: 2, baseline: ${3 + (i % 4)} }` : `threshold: ${10 + i}`;
        const groupBy = i % 10 === 1 ? ', groupBy: model' : '';
        alerts.push(`  - { name: alert-${i}, window: ${windows[i % windows.length]}, ${rule}${groupBy}, filters: { environment: env-${i % 100} }, channels: [terminal] }`);
      }
      const configPath = join(dir, `alerts-${count}.yaml`);
      await writeFile(configPath, `${CONSOLE_CHANNEL}alerts:\n${alerts.join('\n')}\n`);
      const times: number[] = [];
      for (let run = 0; run < RUNS; run++) {
        const started = Date.now();
        const child = spawn(process.execPath, [join(ROOT, 'dist/cli/bin.js'), 'validate', '--config', configPath], {
          env: { PATH: process.env.PATH ?? '', LANGFUSE_BASE_URL: 'http://127.0.0.1:9', LANGFUSE_PUBLIC_KEY: KEYS.publicKey, LANGFUSE_SECRET_KEY: KEYS.secretKey },
          stdio: 'ignore',
        });
        const code = await exited(child);
        if (code !== 0) throw new Error(`validate of ${count} alerts exited with ${code}`);
        times.push(Date.now() - started);
      }
      row(`(e) \`validate\` with ${fmt(count)} alerts: wall time (the ${RUNS} runs), Node ${process.version.slice(1)}`, `${fmt(median(times))} ms (${times.map((ms) => fmt(ms)).join(', ')})`);
    }
    notes.push(
      `(e) \`node dist/cli/bin.js validate\` as a whole process, spawn to exit, median of ${RUNS}, over 1,000 and 10,000 alerts ` +
        `(day, week, month, 24h and 7d windows over 100 filter sets; every fifth relative, every tenth grouped by model; one ` +
        `schedule). It parses and checks the file, works out the request estimate and prints the summary of every alert ` +
        `(1.8 MB for 10,000); ten times the alerts should cost about ten times the time.`,
    );
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

const SETTLE_MS = 30_000;
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

function bareNodeRss(runtime: Runtime): number {
  const script =
    "const http = require('node:http'); const s = http.createServer((q, r) => r.end()).listen(0);" +
    "new Intl.DateTimeFormat('en-US', { timeZone: 'Europe/Berlin', hour: 'numeric' }).format(new Date());" +
    "http.get('http://127.0.0.1:' + s.address().port, (r) => { r.resume(); r.on('end', () => setTimeout(() => {" +
    "console.log(/VmRSS:\\s+(\\d+)/.exec(require('node:fs').readFileSync('/proc/self/status', 'utf8'))[1]); s.close(); }, 5000)); });";
  return Number(execFileSync(runtime.node, [...runtime.flags, '-e', script], { encoding: 'utf8' }).trim()) / 1024;
}

async function waitForHealth(port: number, child: ChildProcess, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline && child.exitCode === null) {
    try {
      const response = await fetch(`http://127.0.0.1:${port}/healthz`);
      if (response.ok) return true;
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return false;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

function exited(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null) return Promise.resolve(child.exitCode);
  return new Promise((resolve) => child.once('exit', (code) => resolve(code)));
}

async function collect(child: ChildProcess): Promise<string> {
  let out = '';
  child.stdout!.on('data', (chunk: Buffer) => (out += chunk.toString()));
  const code = await exited(child);
  if (code !== 0) throw new Error(`benchmark process exited with ${code}`);
  return out;
}

function table(): string {
  const header = ['measure', 'value', 'target', ''];
  const body = rows.map((r) => [r.measure, r.value, r.target, r.verdict]);
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((cells) => cells[i]!.length)));
  const line = (cells: readonly string[]): string => `| ${cells.map((cell, i) => cell.padEnd(widths[i]!)).join(' | ')} |`;
  return [line(header), `| ${widths.map((w) => '-'.repeat(w)).join(' | ')} |`, ...body.map(line)].join('\n');
}

/** (f) */
async function coldStartUnderBudget(): Promise<void> {
  await withFake(coldStartSpend(), async (fake, dir) => {
    const { config } = await loadConfig({ path: 'alerts.yaml', text: CONSOLE_CHANNEL + COLD_START_ALERTS, env: env(fake), needs: 'all' });
    const client = new LangfuseClient({ baseUrl: fake.url, ...KEYS });
    const log = createLogger({ level: 'error', format: 'json', redact: (t) => t });
    const budget = RequestQuota.inMemory(quotaLimits('hobby'));
    const project = langfuseIdentity(fake.url, KEYS.publicKey);
    const planned = createSpendSource({ client, stateDir: dir, project, settings: plannerSettings(config), log, readOnly: false, budget });
    const metrics = (): number => fake.requests.filter((r) => r.path.includes('metrics')).length;
    const sent: number[] = [];
    for (let i = 0; i < 20; i++) {
      const before = metrics();
      const results = await planned.spendAll(alertQueries(config.alerts, new Date(Date.parse('2026-06-10T12:15:00Z') + i * 15 * 60_000), 'UTC'));
      sent.push(metrics() - before);
      if (!results.some((r) => r.status === 'rejected' && r.reason instanceof WaitingForHistory)) break;
    }
    row(
      '(f) cold start under hobby, 8 alerts with 28-day baselines: requests per evaluation; evaluations until warm',
      `${sent.join(', ')}; ${sent.length}`,
      '≤ 20 an evaluation',
      Math.max(...sent) <= 20,
    );
  });
  // The longest lookback the configuration allows, fetched at once (no budget): the memory `check` needs for it.
  const DAY_MS = 86_400_000;
  const now = Date.now();
  const observations = Array.from({ length: 730 * 24 * 4 }, (_, i) =>
    spend(new Date(now - 730 * DAY_MS + i * 15 * 60_000 + 7_000), 0.01 + (i % 7) / 100, { model: ['gpt-4o', 'gpt-4o-mini', 'claude-sonnet-4-5', 'o3', null][i % 5]! }),
  );
  const lookback = `alerts:
  - { name: models-90d, window: 90d, groupBy: model, relative: { factor: 2, baseline: 7 }, channels: [terminal] }
  - { name: months, window: month, relative: { factor: 2, baseline: 22 }, channels: [terminal] }
`;
  await withFake(observations, async (fake, dir) => {
    await writeFile(join(dir, 'alerts.yaml'), CONSOLE_CHANNEL + lookback);
    const timeFile = join(dir, 'time.txt');
    const args = ['-v', '-o', timeFile, process.execPath, join(ROOT, 'dist/cli/bin.js'), 'check', '--config', join(dir, 'alerts.yaml'), '--state-dir', join(dir, 'state')];
    const code = await exited(spawn('/usr/bin/time', args, { cwd: dir, env: { PATH: process.env.PATH ?? '', ...env(fake) }, stdio: 'ignore' }));
    if (code !== 0) throw new Error(`check exited with ${code}`);
    const peakMb = Number(/Maximum resident set size \(kbytes\): (\d+)/.exec(await readFile(timeFile, 'utf8'))?.[1]) / 1024;
    const requests = fake.requests.filter((r) => r.path.includes('metrics')).length;
    const cacheMb = (await readFile(join(dir, 'state', 'langfuse-cache.json'))).length / 1024 / 1024;
    row(
      `(f) cold \`check\` of a 720-day lookback by model (no budget): requests; peak RSS; cache file, ${RUNTIMES[0]!.label}`,
      `${fmt(requests)}; ${fmt(peakMb)} MB; ${fmt(cacheMb, 1)} MB`,
    );
  });
  notes.push(
    `(e) The 8 alerts of test/sources/langfuse/planner/reference.ts (COLD_START_ALERTS: relative, 28-day baselines, 3 filter sets, groupBy model and ` +
      `environment) under \`requestBudget: hobby\` over 70 days of spend, evaluated every 15 minutes from an empty cache until no alert ` +
      `waits for its history. Then \`node dist/cli/bin.js check\` without a budget, cold, on the longest lookback the configuration ` +
      `allows (90d × (7 + 1) grouped by model, beside month × (22 + 1)) over 730 days of spend (4 generations an hour, 5 models): ` +
      `peak RSS from /usr/bin/time -v.`,
  );
}

/** (g) */
async function forecastsAndContributors(): Promise<void> {
  const start = Date.parse('2026-06-10T00:00:00Z');
  const HOUR_MS = 3_600_000;
  const models = ['gpt-4o', 'gpt-4o-mini', 'claude-sonnet-4-5', 'o3', 'llama-3'];
  const traceNames = ['chat', 'research_agent', 'summarize', 'classify', 'draft', 'review'];
  // 8 days of business-hours spend (20 generations an hour, 5 models × 6 trace names × 40 users);
  // on the last day one research agent runs away from 10:00 on, so every alert below fires that day
  const observations: FakeObservation[] = [];
  for (let hour = 0; hour < 8 * 24; hour++) {
    const local = hour % 24;
    const busy = local >= 8 && local < 19;
    for (let i = 0; i < (busy ? 20 : 2); i++) {
      const n = hour * 20 + i;
      observations.push(
        spend(new Date(start - 7 * 24 * HOUR_MS + hour * HOUR_MS + i * 170_000 + 5_000), 0.05 + (n % 9) / 50, {
          model: models[n % models.length]!,
          traceName: traceNames[n % traceNames.length]!,
          userId: `user-${n % 40}`,
        }),
      );
    }
    if (hour >= 7 * 24 + 10 && hour < 7 * 24 + 19) {
      for (let i = 0; i < 10; i++) observations.push(spend(new Date(start + (hour - 7 * 24) * HOUR_MS + i * 300_000), 2, { model: 'o3', traceName: 'research_agent', userId: 'user-runaway' }));
    }
  }
  const config = (explain: string) => `
alerts:
  - { name: daily-budget, window: day, threshold: { budget: 120, steps: [50, 80, 100] }${explain}, channels: [automation] }
  - { name: daily-forecast, window: day, forecast: { threshold: 100, baseline: 7 }${explain}, channels: [automation] }
  - { name: month-forecast, window: month, forecast: { threshold: 400, baseline: 1, minElapsed: 0 }${explain}, channels: [automation] }
  - { name: daily-spike, window: day, relative: { factor: 2, baseline: 7 }, minSpend: 5${explain}, channels: [automation] }
  - { name: model-budget, window: 24h, groupBy: model, threshold: 25${explain}, channels: [automation] }
`;
  const day = async (explain: string) => {
    const harness = await startHarness(config(explain), observations);
    try {
      const counts: number[] = [];
      const walls: number[] = [];
      let firing = 0;
      for (let tick = 0; tick < 96; tick++) {
        const before = harness.fake.requests.length;
        const began = performance.now();
        const report = await harness.check(new Date(start + tick * 15 * 60_000));
        walls.push(performance.now() - began);
        counts.push(harness.fake.requests.length - before);
        firing += report.planned.filter((p) => p.notification.status === 'firing').length;
      }
      return { counts, walls, firing };
    } finally {
      await harness.close();
    }
  };
  const sum = (counts: readonly number[]): number => counts.reduce((a, b) => a + b, 0);
  const off = await day(', explain: []');
  const on = await day('');
  // the first two checks fill the cold cache; nothing fires before 10:00 (check 41)
  const cold = (counts: readonly number[]): number => sum(counts.slice(0, 2));
  const quiet = (counts: readonly number[]): number => sum(counts.slice(2, 40));
  row('(g) a day of 96 checks from cold: requests with contributors vs without', `${fmt(sum(on.counts))} vs ${fmt(sum(off.counts))}`);
  row('(g) cold start (first 2 checks): requests with contributors vs without', `${cold(on.counts)} vs ${cold(off.counts)}`);
  row(
    '(g) warm, nothing firing (checks 3–40): requests with contributors vs without',
    `${quiet(on.counts)} vs ${quiet(off.counts)}`,
    'equal',
    quiet(on.counts) === quiet(off.counts),
  );
  const perFiring = (sum(on.counts) - cold(on.counts) - (sum(off.counts) - cold(off.counts))) / Math.max(1, on.firing);
  row('(g) extra requests per firing notification (userId top-N and per-user series)', `${fmt(perFiring, 1)} (${on.firing} firing)`, '≤ 4', perFiring <= 4);
  row('(g) wall time per check (median; busiest)', `${fmt(median(on.walls))} ms; ${fmt(Math.max(...on.walls))} ms (without contributors: ${fmt(median(off.walls))} ms; ${fmt(Math.max(...off.walls))} ms)`);
  notes.push(
    '(g) Five alerts (budget steps, a day and a month forecast, a relative spike, a 24h budget per model), checked every 15 minutes over one UTC day ' +
      'through the engine (test/support/harness.ts: the fake Langfuse, the planner, a webhook receiver), from an empty state directory, over 8 days of ' +
      'business-hours spend (5 models, 6 trace names, 40 users) with a runaway research agent from 10:00. Once with the default explain ' +
      '([model, traceName, userId]), once with explain: []. The cold start costs more with contributors: model × trace name ' +
      'rows over the lookbacks fill more pages of 1,000 rows.',
  );
}

/** 62 days up to `now` of round-the-clock spend, 6 generations an hour: 5 models, 12 trace names, 60 users. */
function roundTheClock(now: number): FakeObservation[] {
  const HOUR_MS = 3_600_000;
  const models = ['gpt-4o', 'gpt-4o-mini', 'claude-sonnet-4-5', 'o3', 'llama-3'];
  const observations: FakeObservation[] = [];
  for (let hour = 0; hour < 62 * 24; hour++) {
    for (let i = 0; i < 6; i++) {
      const n = hour * 6 + i;
      observations.push(
        spend(new Date(now - 62 * 24 * HOUR_MS + hour * HOUR_MS + i * 600_000), 0.02 + (n % 7) / 100, {
          model: models[n % models.length]!,
          traceName: `agent-${n % 12}`,
          userId: `user-${n % 60}`,
        }),
      );
    }
  }
  return observations;
}

/** (h) */
async function report30d(): Promise<void> {
  const now = Date.parse('2026-06-30T10:17:00Z');
  // the window and the span before it
  const observations = roundTheClock(now);
  const budgets = `
alerts:
  - { name: daily-budget, window: day, threshold: 50, channels: [terminal] }
  - { name: month-forecast, window: month, forecast: { threshold: 400 }, channels: [terminal] }
`;
  const noBudgets = `
alerts:
  - { name: rolling, window: 24h, threshold: 50, channels: [terminal] }
`;
  const run = (timezone: string, alerts: string) =>
    withFake(observations, async (fake, dir) => {
      await writeFile(join(dir, 'alerts.yaml'), `timezone: ${timezone}\n${CONSOLE_CHANNEL}${alerts}`);
      const began = performance.now();
      const code = await main(['report', '--window', '30d', '--format', 'json'], { stdout: new PassThrough().resume(), stderr: new PassThrough().resume(), env: env(fake), cwd: dir }, () => new Date(now));
      if (code !== 0) throw new Error(`report exited ${code}`);
      return { requests: fake.requests.filter((r) => /\/metrics\/?$/.test(r.path)).length, ms: performance.now() - began };
    });
  const utc = await run('UTC', noBudgets);
  const kolkata = await run('Asia/Kolkata', noBudgets);
  const withBudgets = await run('UTC', budgets);
  row('(h) report --window 30d, cold: requests for its own sections (UTC)', `${utc.requests} in ${fmt(utc.ms)} ms`, '≤ 7', utc.requests <= 7);
  row('(h) the same in Asia/Kolkata (midnight at :30 UTC)', `${kolkata.requests} in ${fmt(kolkata.ms)} ms`, '≤ 7', kolkata.requests <= 7);
  row('(h) the same with a day budget and a month forecast (UTC)', `${withBudgets.requests} in ${fmt(withBudgets.ms)} ms`);
  notes.push(
    '(h) `report --window 30d --format json` run in-process (src/cli/main.ts) against the fake Langfuse from an empty state directory, ' +
      'over 62 days of round-the-clock spend (6 generations an hour, 5 models, 12 trace names, 60 users). Langfuse buckets by UTC hour: ' +
      'in Asia/Kolkata each local midnight inside the window whose hour holds spend costs one request more (its hour before the midnight). ' +
      'Budgets are evaluated through the planner, which fetches their baselines (7 days; 7 months for the month forecast).',
  );
}

/** (i) */
async function backtest30d(): Promise<void> {
  const now = Date.parse('2026-06-30T10:17:00Z');
  const observations = roundTheClock(now);
  const alerts = `
alerts:
  - { name: daily-budget, window: day, threshold: 20, channels: [terminal] }
  - { name: daily-spike, window: day, relative: { factor: 2, baseline: 7 }, channels: [terminal] }
  - { name: model-24h, window: 24h, groupBy: model, threshold: 5, channels: [terminal] }
  - { name: month-forecast, window: month, forecast: { threshold: 400 }, channels: [terminal] }
  - { name: heavy-users, window: 24h, groupBy: userId, top: 5, threshold: 1, channels: [terminal] }
  - { name: runaway, window: 24h, perTrace: { threshold: 0.07 }, channels: [terminal] }
`;
  const result = await withFake(observations, async (fake, dir) => {
    await writeFile(join(dir, 'alerts.yaml'), `timezone: UTC\n${CONSOLE_CHANNEL}${alerts}`);
    let stdout = '';
    let stderr = '';
    const out = new PassThrough().on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    const err = new PassThrough().on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const began = performance.now();
    const code = await main(['backtest', '--days', '30', '--json'], { stdout: out, stderr: err, env: env(fake), cwd: dir }, () => new Date(now));
    if (code !== 0) throw new Error(`backtest exited ${code}: ${stderr}`);
    const notifications = (JSON.parse(stdout) as unknown[]).length;
    return { requests: fake.requests.filter((r) => /\/metrics\/?$/.test(r.path)).length, ms: performance.now() - began, notifications };
  });
  row('(i) backtest --days 30, cold: requests and wall time (720 hours, 6 alerts)', `${result.requests} in ${fmt(result.ms)} ms`);
  notes.push(
    `(i) \`backtest --days 30 --json\` run in-process against the fake Langfuse from an empty state directory, over the data of (h), ` +
      `with a day budget, a day spike, a 24h model budget, a month forecast, the top 5 users and runaway traces (${result.notifications} notifications). ` +
      'The history comes in one planner evaluation; the top users and traces are ranked once over the range and each read hourly ' +
      '(one request per user, and per trace that spent over its threshold); every replayed hour is answered from the cache.',
  );
}

/** (j): the daemon in-process on a fixed clock, its cron still: each evaluation is run by `evaluateAt`. */
async function inProcessDaemon(fake: FakeLangfuse, dir: string, yaml: string, clock: () => Date): Promise<{ daemon: Daemon; evaluateAt: (now: Date) => Promise<void> }> {
  const configFile = join(dir, 'alerts.yaml');
  await writeFile(configFile, yaml);
  const sink = new PassThrough().resume();
  const io = { stdout: sink, stderr: sink, env: env(fake), cwd: dir };
  const daemon = new Daemon({
    load: async (onRequest) => {
      const { config } = await loadConfig({ path: configFile, env: env(fake), needs: 'all' });
      const log = createLogger({ level: 'warn', format: 'json', redact: (text) => text, destination: sink });
      return buildGeneration({ config, log, redact: (text) => text }, io, join(dir, 'state'), onRequest, clock);
    },
    configFile,
    store: new StateStore(join(dir, 'state')),
    port: await freePort(),
    clock,
    watch: false,
    ui: false,
    startCron: () => ({ start: () => {}, destroy: () => {}, nextRuns: () => [], match: () => false }),
  });
  await daemon.start();
  await daemon['scheduler']!.idle();
  const names = (await loadConfig({ path: configFile, env: env(fake), needs: 'all' })).config.alerts.map((alert) => alert.name);
  return { daemon, evaluateAt: (now) => daemon['evaluate'](names, now) };
}

/** (j) */
async function costExporterCost(): Promise<void> {
  const metricsRequests = (fake: FakeLangfuse): number => fake.requests.filter((r) => /\/metrics\/?$/.test(r.path)).length;
  // a day of the reference configuration at */15, from an empty state directory, on vs off
  const day = (exporter: boolean) =>
    withFake(referenceSpend('2026-06-12T00:00:00Z', 20), async (fake, dir) => {
      const ticks = dayOfTicks('2026-06-11T00:00:00Z');
      let now = ticks[0]!;
      const { daemon, evaluateAt } = await inProcessDaemon(fake, dir, CONSOLE_CHANNEL + REFERENCE_ALERTS + (exporter ? 'costExporter: true\n' : ''), () => now);
      const counts = [metricsRequests(fake)];
      for (const tick of ticks.slice(1)) {
        now = tick;
        const before = metricsRequests(fake);
        await evaluateAt(tick);
        counts.push(metricsRequests(fake) - before);
      }
      await daemon.stop('bench over');
      return counts;
    });
  const off = await day(false);
  const on = await day(true);
  const sum = (counts: readonly number[]): number => counts.reduce((a, b) => a + b, 0);
  const warm = (counts: readonly number[]): number => median(counts.slice(8));
  row('(j) cost exporter: requests per warm evaluation, on vs off (reference configuration)', `${fmt(warm(on))} vs ${fmt(warm(off))}`, '+1', warm(on) === warm(off) + 1);
  row('(j) cost exporter: requests over a day of 96 evaluations from cold, on vs off', `${fmt(sum(on))} vs ${fmt(sum(off))}`, '+96', sum(on) === sum(off) + 96);

  // 200 models × 50 trace names, every pair spending once over the 48 hours after the start
  const start = Date.parse('2026-06-10T00:20:00Z');
  const pairs: FakeObservation[] = [];
  for (let m = 0; m < 200; m++) {
    for (let o = 0; o < 50; o++) {
      const n = m * 50 + o;
      pairs.push({ ...spend(new Date(start + ((n * 48 * 3_600_000) / 10_000)), 0.001 * (1 + (n % 13)), { model: `model-${m}`, traceName: `op-${o}` }), inputTokens: 100, outputTokens: 10 });
    }
  }
  const scrape = await withFake(pairs, async (fake, dir) => {
    let now = new Date(start);
    const heapBefore = process.memoryUsage().heapUsed;
    const { daemon, evaluateAt } = await inProcessDaemon(fake, dir, `${CONSOLE_CHANNEL}costExporter: true\nalerts:\n  - { name: all-day, window: day, threshold: 1000, explain: [], channels: [terminal] }\n`, () => now);
    for (let hour = 1; hour <= 50; hour++) {
      now = new Date(start + hour * 3_600_000);
      await evaluateAt(now);
    }
    const url = `http://127.0.0.1:${daemon.port}/metrics`;
    await (await fetch(url)).text();
    const cpu = process.cpuUsage();
    const began = performance.now();
    const text = await (await fetch(url)).text();
    const ms = performance.now() - began;
    const cpuMs = (process.cpuUsage(cpu).user + process.cpuUsage(cpu).system) / 1000;
    const heapMb = (process.memoryUsage().heapUsed - heapBefore) / 1e6;
    await daemon.stop('bench over');
    const series = (name: string): number => text.split('\n').filter((line) => line.startsWith(`${name}{`)).length;
    return { ms, cpuMs, heapMb, bytes: Buffer.byteLength(text), cost: series('llm_cost_dollars_total'), tokens: series('llm_tokens_used_total'), gauges: series('spend_alerts_window_cost_usd') };
  });
  row(
    '(j) cost exporter: /metrics with 200 models × 50 trace names: series (cost, tokens, window gauges)',
    `${fmt(scrape.cost)}, ${fmt(scrape.tokens)}, ${fmt(scrape.gauges)}`,
    '≤ 52 × 52 per token type',
    scrape.cost <= 52 * 52 && scrape.tokens <= 2 * 52 * 52 && scrape.gauges <= 3 * 52,
  );
  row('(j) cost exporter: that scrape, wall time, CPU and size', `${fmt(scrape.ms, 1)} ms, ${fmt(scrape.cpuMs, 1)} ms CPU, ${fmt(scrape.bytes / 1024)} KiB`);
  row('(j) cost exporter: heap grown over those 50 evaluations (the fake Langfuse in the same process included)', `${fmt(scrape.heapMb, 1)} MB`);
  notes.push(
    '(j) The daemon in-process (src/daemon/daemon.ts with the generation `run` builds) against the fake Langfuse, its evaluations run on a fixed clock. ' +
      'Requests: the reference configuration of (a) over one day at */15 from an empty state directory, with and without `costExporter: true`; ' +
      '"warm" is the median of evaluations 9–96. Scrape: one alert plus the exporter, every one of 200 models × 50 trace names spending once ' +
      'over 48 hours, evaluated hourly for 50 hours, then /metrics fetched over HTTP (the second fetch measured: wall time, the process\'s CPU ' +
      'time during it, body size — the whole registry, process metrics included). Label values are bounded at 50 per label plus `none` and `other`, the model label shared by every metric.',
  );
}

const STEPS = {
  a: ['(a) requests', requests],
  b: ['(b) 1,000 alerts', thousandAlerts],
  c: ['(c) check cold start', coldStart],
  d: ['(d) idle daemon', idleDaemon],
  e: ['(e) validate with 10,000 alerts', largeValidate],
  f: ['(f) cold start under a budget', coldStartUnderBudget],
  g: ['(g) forecasts and contributors', forecastsAndContributors],
  h: ['(h) report --window 30d', report30d],
  i: ['(i) backtest --days 30', backtest30d],
  j: ['(j) cost exporter', costExporterCost],
} as const;
// `npm run bench -- b d` runs only those; docs/benchmarks.md is written only by a full run
const chosen = process.argv.slice(2);
const unknownStep = chosen.find((step) => !(step in STEPS));
if (unknownStep !== undefined) throw new Error(`no benchmark "${unknownStep}" (${Object.keys(STEPS).join(', ')})`);
process.stdout.write('building dist/ …\n');
execFileSync('npm', ['run', 'build'], { cwd: ROOT, stdio: 'ignore' });
const compileCache = await mkdtemp(join(tmpdir(), 'spend-alerts-bench-cache-'));
const RUNTIMES = await runtimes(compileCache);
for (const [key, [name, step]] of Object.entries(STEPS)) {
  if (chosen.length > 0 && !chosen.includes(key)) continue;
  process.stdout.write(`${name} …\n`);
  await step();
}
await rm(compileCache, { recursive: true, force: true });
const text = table();
process.stdout.write(`\n${text}\n`);
if (chosen.length > 0) process.exit(0);
const machine = `Node ${process.version}, ${process.platform}/${process.arch}`;
await writeFile(
  join(ROOT, 'docs/benchmarks.md'),
  `# Benchmarks\n\nWritten by \`npm run bench\` (bench/run.ts) on ${new Date().toISOString().slice(0, 10)}, ${machine}. ` +
    `Numbers from one machine; rerun to compare.\n\n${text}\n\n## How each figure is measured\n\n${notes.map((note) => `- ${note}`).join('\n')}\n`,
);
process.stdout.write('\nwritten to docs/benchmarks.md\n');
