// `spend-alerts demo`: the real pipeline — configuration loader, Langfuse client over HTTP,
// evaluation, state, channels — against an in-process Langfuse-compatible server with sample data.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Config } from '../../config/schema.js';
import { sampleObservations } from '../../demo/sample-data.js';
import { startDemoLangfuse } from '../../demo/server.js';
import type { SeriesEvaluation } from '../../core/series.js';
import { formatUsd } from '../../render/money.js';
import { groupLabel } from '../../render/text.js';
import { groupOf } from '../../core/decide/notifications.js';
import { tick, type CheckReport } from '../../engine/worker.js';
import { StateStore } from '../../storage/state-store.js';
import { packageFile } from '../../util/package-file.js';
import { terminalSafe } from '../../util/terminal.js';
import type { CliOptions } from '../args.js';
import type { CommandOutcome } from '../outcome.js';
import { buildChannels, buildLangfuse, checkPolicy, closeChannels, logConfigWarnings, prepare, resolveLangfuseUrl, type Io } from '../compose.js';

const DEMO_KEYS = { publicKey: 'pk-lf-demo', secretKey: 'sk-lf-demo' };
const DEMO_PROJECT = { id: 'demo', name: 'demo', organization: { id: 'demo-org', name: 'Demo Org' } };
const TERMINAL = 'terminal';

export async function demoCommand(options: CliOptions, io: Io, now: Date, clock: () => Date): Promise<CommandOutcome> {
  const langfuse = await startDemoLangfuse({ observations: sampleObservations(now), ...DEMO_KEYS, project: DEMO_PROJECT });
  const stateDir = await mkdtemp(join(tmpdir(), 'spend-alerts-demo-'));
  try {
    const prepared = await prepare(
      { ...options, configPath: options.configExplicit ? options.configPath : packageFile('demo/alerts.yaml') },
      io,
      { channels: 'all', alerts: true },
    );
    logConfigWarnings(prepared);
    const config = withTerminal({ ...prepared.config, langfuse: { baseUrl: langfuse.url, ...DEMO_KEYS, lagMargin: prepared.config.langfuse.lagMargin } });
    const { log, redact } = prepared;
    const store = new StateStore(stateDir);
    let langfuseRequests = 0;
    const { client, source } = await buildLangfuse(config, log, {
      stateDir,
      readOnly: false,
      onRequest: () => (langfuseRequests += 1),
      transport: io.transport,
      clock,
    });
    const url = await resolveLangfuseUrl(client, config, store, log, true);
    const channels = buildChannels(config, Object.keys(config.channels), io, clock);
    io.stdout.write(
      `spend-alerts demo: 14 days of sample LLM spend served by a Langfuse-compatible server at ${langfuse.url},\n` +
        `${config.alerts.length} alerts from ${options.configExplicit ? options.configPath : 'the bundled demo/alerts.yaml'}, ` +
        `state in ${stateDir} (removed afterwards).\n\n`,
    );
    try {
      const check = (at: Date): Promise<CheckReport> =>
        tick(
          {
            config,
            alerts: config.alerts,
            source,
            channels,
            store,
            langfuseUrl: url,
            langfuseRequests: () => langfuseRequests,
            log,
            redact,
            policy: checkPolicy(config),
            clock,
          },
          at,
        );
      const first = await check(now);
      // series names are traced data, errors quote Langfuse: both may hold terminal escape sequences
      io.stdout.write(`\n${terminalSafe(describeEvaluation(first, config))}\n`);
      const second = await check(now);
      io.stdout.write(
        `Evaluating again, as the next scheduled run would: ${second.planned.length} new notification(s) — ` +
          `each series notifies once per period and severity.\n` +
          `Langfuse requests made: ${langfuse.requests}.\n\n` +
          `Next: copy alerts.example.yaml to alerts.yaml, set LANGFUSE_PUBLIC_KEY and LANGFUSE_SECRET_KEY, ` +
          `then run "spend-alerts validate" and "spend-alerts check --dry-run".\n`,
      );
      const failed = first.alertFailures.length + first.deliveryFailures.length + second.alertFailures.length + second.deliveryFailures.length;
      return failed === 0 ? 'ok' : 'failed';
    } finally {
      await closeChannels(channels);
    }
  } finally {
    await langfuse.close();
    await rm(stateDir, { recursive: true, force: true });
  }
}

/** Every alert also prints to the terminal, whatever channels the configuration names. */
function withTerminal(config: Config): Config {
  const hasConsole = Object.entries(config.channels).find(([, channel]) => channel.type === 'console')?.[0];
  const terminal = hasConsole ?? TERMINAL;
  return {
    ...config,
    channels: hasConsole ? config.channels : { ...config.channels, [TERMINAL]: { type: 'console' } },
    alerts: config.alerts.map((alert) =>
      alert.channels.includes(terminal) ? alert : { ...alert, channels: [...alert.channels, terminal] },
    ),
  };
}

function seriesLabel(alert: string, series: SeriesEvaluation): string {
  const group = groupLabel(groupOf(series));
  return group === null ? alert : `${alert} [${group}]`;
}

function describeEvaluation(report: CheckReport, config: Config): string {
  const lines = ['Evaluation summary:'];
  const labelWidth = Math.max(...report.evaluations.flatMap(({ alert, series }) => series.map((s) => seriesLabel(alert.name, s).length)), 20);
  for (const { alert, series } of report.evaluations) {
    if (series.length === 0) lines.push(`  ${alert.name}: no spend in the window`);
    for (const s of series) {
      const label = seriesLabel(alert.name, s);
      const threshold = s.step?.amount ?? (s.breach ? s.levels[s.breach] : undefined) ?? (Object.values(s.levels).length ? Math.min(...Object.values(s.levels)) : null);
      const against = s.projection
        ? `forecast ${formatUsd(s.projection.forecast)} of ${formatUsd(s.projection.threshold)}`
        : threshold === null
          ? s.kind === 'forecast' ? 'too early to project' : 'no history yet'
          : `threshold ${formatUsd(threshold)}`;
      lines.push(`  ${label.padEnd(labelWidth)} ${formatUsd(s.value).padStart(10)}  ${against.padEnd(22)} ${s.breach ? s.breach.toUpperCase() : 'ok'}`);
    }
  }
  for (const failure of report.alertFailures) lines.push(`  ${failure.alert}: FAILED — ${failure.error}`);
  lines.push(`${report.delivered} notification(s) delivered to ${Object.keys(config.channels).join(', ')}.`);
  return lines.join('\n') + '\n';
}
