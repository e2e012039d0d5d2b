// `spend-alerts run`: the daemon until SIGTERM/SIGINT. The handlers are installed explicitly, so it
// also stops cleanly as PID 1 in a container, where the kernel gives a process no default ones.
import { resolve } from 'node:path';
import { Daemon, type Generation } from '../../daemon/daemon.js';
import { langfuseIdentity, type RequestEvent } from '../../sources/langfuse/client.js';
import { keptHoursStore } from '../../sources/langfuse/cost-export.js';
import { fileStorage } from '../../storage/file.js';
import { parseDuration } from '../../config/duration.js';
import { StateStore } from '../../storage/state-store.js';
import type { CliOptions } from '../args.js';
import type { CommandOutcome } from '../outcome.js';
import { buildChannels, buildLangfuse, checkPolicy, closeChannels, logConfigWarnings, prepare, resolveLangfuseUrl, type Io, type Prepared } from '../compose.js';

/** Once stopped, the process leaves by itself; this only catches a socket that would keep it (PID 1 would then be killed). */
const EXIT_AFTER_STOP_MS = 3_000;

type StopSignal = 'SIGTERM' | 'SIGINT';

/** Everything the daemon runs on, built from one loaded configuration. */
export async function buildGeneration(
  { config, log, redact }: Pick<Prepared, 'config' | 'log' | 'redact'>,
  io: Io,
  stateDir: string,
  onRequest: (event: RequestEvent) => void,
  clock: () => Date,
): Promise<Generation> {
  const { client, source, admit, budget, quota } = await buildLangfuse(config, log, { stateDir, readOnly: false, onRequest, transport: io.transport, clock });
  const channels = buildChannels(config, Object.keys(config.channels), io, clock);
  // the exporter's one request per evaluation is admitted with the alerts'
  const exporterRequests = config.costExporter ? 1 : 0;
  return {
    config,
    log,
    redact,
    channels,
    source,
    report: { client, source, quota },
    admit: (alerts, now) => admit(alerts, now, exporterRequests),
    budget,
    ...(config.costExporter && {
      costExport: {
        client,
        quota,
        store: keptHoursStore(fileStorage(stateDir), langfuseIdentity(config.langfuse.baseUrl, config.langfuse.publicKey)),
        timezone: config.timezone,
        lagMarginMs: parseDuration(config.langfuse.lagMargin),
      },
    }),
    policy: checkPolicy(config),
    projectSpend: () => source.cachedProjectSpend(),
    langfuseUrl: (store) => resolveLangfuseUrl(client, config, store, log, true),
    close: () => closeChannels(channels),
  };
}

export async function runCommand(options: CliOptions, io: Io, _startedAt: Date, clock: () => Date): Promise<CommandOutcome> {
  const stateDir = resolve(io.cwd, options.stateDir);
  const daemon = new Daemon({
    load: async (onRequest): Promise<Generation> => {
      const prepared = await prepare(options, io, 'all');
      logConfigWarnings(prepared);
      return buildGeneration(prepared, io, stateDir, onRequest, clock);
    },
    configFile: resolve(io.cwd, options.configPath),
    store: new StateStore(stateDir, {
      onRecovery: ({ movedTo, reason }) =>
        daemon.log?.warn({ movedTo }, `the state file was damaged (${reason}): moved aside to ${movedTo}, starting afresh`),
    }),
    port: options.port,
    host: options.host,
    ui: options.ui,
    clock,
  });

  let started = false;
  let stopRequested: StopSignal | undefined;
  let stopped: () => void = () => {};
  const done = new Promise<void>((resolveDone) => {
    stopped = resolveDone;
  });
  const onStop = (signal: StopSignal): void => {
    stopRequested ??= signal;
    if (started) void daemon.stop(signal).then(stopped);
  };
  const onTerm = (): void => onStop('SIGTERM');
  const onInt = (): void => onStop('SIGINT');
  const onHup = (): void => {
    if (started) void daemon.reload('SIGHUP');
  };
  process.on('SIGTERM', onTerm);
  process.on('SIGINT', onInt);
  process.on('SIGHUP', onHup);
  try {
    await daemon.start();
    started = true;
    if (stopRequested !== undefined) void daemon.stop(stopRequested).then(stopped);
    await done;
  } finally {
    process.off('SIGTERM', onTerm);
    process.off('SIGINT', onInt);
    process.off('SIGHUP', onHup);
  }
  // with the exit code main has set by then
  setTimeout(() => process.exit(), EXIT_AFTER_STOP_MS).unref();
  return 'ok';
}
