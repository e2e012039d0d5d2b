// `spend-alerts backtest --days N`: the alerts replayed hourly over the past N days by the daemon's
// own evaluation (src/engine/backtest.ts), on complete data only — up to the last hour's end before
// now − the lag margin. It reads and fills the history cache, spends from the request budget (and
// is refused, sending nothing, when the budget can't admit it), sends nothing and writes no state.
import { resolve } from 'node:path';
import { backtestRequestBound, lastHourEnd, planBacktest, replayInstants, runBacktest } from '../../engine/backtest.js';
import { parseDuration } from '../../config/duration.js';
import { wallClock } from '../../core/time/zone.js';
import { renderBacktestJson, renderBacktestText } from '../../render/backtest.js';
import { cleanLine } from '../../render/text.js';
import { terminalSafe } from '../../util/terminal.js';
import { UsageError, type CliOptions } from '../args.js';
import type { CommandOutcome } from '../outcome.js';
import { buildLangfuse, checkPolicy, logConfigWarnings, prepare, RuntimeError, type Io } from '../compose.js';
import { progressBar } from '../progress.js';

export async function backtestCommand(options: CliOptions, io: Io, startedAt: Date, clock: () => Date): Promise<CommandOutcome> {
  const { days, json } = options.backtest;
  const prepared = await prepare(options, io, 'all');
  const { config, log, redact } = prepared;
  logConfigWarnings(prepared);
  const unknown = options.alerts.filter((name) => !config.alerts.some((alert) => alert.name === name));
  if (unknown.length > 0) {
    throw new UsageError(`no alert named ${unknown.map((n) => `"${n}"`).join(', ')} (alerts: ${config.alerts.map((a) => a.name).join(', ')})`, 'backtest');
  }
  const alerts = options.alerts.length > 0 ? config.alerts.filter((a) => options.alerts.includes(a.name)) : config.alerts;

  const end = lastHourEnd(new Date(startedAt.getTime() - parseDuration(config.langfuse.lagMargin)), config.timezone);
  const instants = replayInstants(end, days);
  const plan = planBacktest(alerts, config.alerts, instants, config.timezone);
  let requests = 0;
  // Every replayed hour is complete: the planner caches an hour as soon as the instant it is read at has passed it.
  const langfuse = await buildLangfuse({ ...config, langfuse: { ...config.langfuse, lagMargin: '0s' } }, log, {
    stateDir: resolve(io.cwd, options.stateDir),
    readOnly: false,
    onRequest: () => (requests += 1),
    transport: io.transport,
    clock,
    admittedInWhole: true,
  });

  // Asked even without a configured budget: a pause Langfuse asked for (a 429) refuses the backtest too.
  await langfuse.quota.refresh(startedAt);
  const needs = backtestRequestBound(plan, await langfuse.source.estimate([...plan.history, ...plan.ranked.map((read) => read.query)]));
  const admission = langfuse.quota.admit(needs, startedAt);
  const headroom = langfuse.quota.headroom(startedAt);
  if (!admission.ok || needs > headroom) {
    const until = admission.ok ? '' : ` until ${localTime(admission.retryAt, config.timezone)} (${admission.reason})`;
    // while Langfuse asked to wait nothing is admitted, whatever the limits leave
    const admits = !admission.ok && admission.kind === 'rate-limited' ? 0 : headroom;
    throw new RuntimeError(`backtest: needs ${needs} requests; the budget admits ${admits}${until}`);
  }

  // A bar only for a person watching a terminal: never in a pipe, a log or --json's output.
  const stderrIsTerminal = (io.stderr as { isTTY?: boolean }).isTTY === true;
  const bar = stderrIsTerminal && !json ? progressBar(io.stderr, 'backtest') : null;
  let plannerRequests = 0;
  let result;
  try {
    result = await runBacktest({
      config,
      plan,
      alerts,
      planner: {
        spendAll: async (queries, signal, at) => {
          const before = requests;
          const answers = await langfuse.source.spendAll(queries, signal, at);
          plannerRequests += requests - before;
          return answers;
        },
      },
      readAt: startedAt,
      client: langfuse.client,
      policy: checkPolicy(config),
      log,
      redact,
      ...(bar && { onProgress: bar.update }),
    });
  } finally {
    bar?.done();
    // the planner records its own requests; the hourly reads of ranked traces and users are the backtest's
    await langfuse.quota.record(requests - plannerRequests, startedAt);
  }
  io.stderr.write(`backtest: ${requests} Langfuse request${requests === 1 ? '' : 's'}\n`);
  for (const failure of result.failures) io.stderr.write(`spend-alerts: backtest: not read: ${cleanLine(redact(failure), 1_000)}\n`);
  if (result.failures.length > 0) return 'failed';

  const text = json
    ? renderBacktestJson(result.notifications)
    : renderBacktestText(result.notifications, { alerts: alerts.map((a) => a.name), days, from: new Date(instants[0]!.getTime() - 3_600_000), to: end, timezone: config.timezone });
  // JSON escapes control characters itself; the text quotes traced values (model names, user ids)
  io.stdout.write(json ? text : terminalSafe(text));
  return 'ok';
}

/** 13:40 in the zone */
function localTime(instant: Date, timezone: string): string {
  const local = wallClock(instant, timezone);
  return `${String(local.hour).padStart(2, '0')}:${String(local.minute).padStart(2, '0')}`;
}
