// Wiring shared by the commands: configuration, logger, channels, Langfuse, state. Reads no clock.
import type { Channel } from '../channels/channel.js';
import { createChannel } from '../channels/registry.js';
import { formatIssue } from '../config/errors.js';
import { loadConfig, type LoadedConfig, type Needs } from '../config/load.js';
import { parseDuration } from '../config/duration.js';
import { firesPerDay } from '../config/cron.js';
import type { AlertConfig, Config } from '../config/schema.js';
import { LangfuseClient, langfuseIdentity, type RequestEvent } from '../sources/langfuse/client.js';
import type { CheckPolicy } from '../engine/worker.js';
import { createSpendSource, openRequestQuota, type Admission, type QuotaSnapshot, type PlannedSpendSource, type RequestQuota } from '../sources/langfuse/planner/index.js';
import { plannerSettings } from '../config/planner-settings.js';
import { alertQueries } from '../core/alert-queries.js';
import { createLogger, type Logger } from '../log/logger.js';
import type { StateStore } from '../storage/state-store.js';
import { createRedactor } from '../util/redact.js';
import type { CliOptions } from './args.js';
import { nodeTransport, type Transport } from '../net/transport.js';
import type { Sleep } from '../util/backoff.js';

/** A failure that ends a command with exit code 1 and one line. */
export class RuntimeError extends Error {
  override name = 'RuntimeError';
}

export interface Io {
  readonly stdout: NodeJS.WritableStream;
  readonly stderr: NodeJS.WritableStream;
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly cwd: string;
  /** how every outbound request leaves (bin builds it from the proxy variables); default direct */
  readonly transport?: Transport;
  /** how retries wait (models); default a real timer */
  readonly sleep?: Sleep;
}

export interface Prepared {
  readonly loaded: LoadedConfig;
  readonly config: Config;
  readonly log: Logger;
  readonly redact: (text: string) => string;
}

export async function prepare(options: CliOptions, io: Io, needs: Needs): Promise<Prepared> {
  const loaded = await loadConfig({ path: options.configPath, cwd: io.cwd, env: io.env, needs });
  const redact = createRedactor(loaded.secrets);
  const log = createLogger({ level: options.logLevel, format: options.logFormat, redact, destination: io.stderr });
  return { loaded, config: loaded.config, log, redact };
}

export function logConfigWarnings(prepared: Prepared): void {
  for (const warning of prepared.loaded.warnings) {
    prepared.log.warn({ path: warning.path }, `config warning: ${formatIssue(warning)}`);
  }
}

export function buildChannels(
  config: Config,
  names: Iterable<string>,
  io: Io,
  clock: () => Date,
  timeoutMs = 15_000,
): Map<string, Channel> {
  const channels = new Map<string, Channel>();
  for (const name of names) {
    const channelConfig = config.channels[name];
    if (channelConfig) channels.set(name, createChannel(name, channelConfig, { stdout: io.stdout, timeoutMs, transport: io.transport ?? nodeTransport, clock }));
  }
  return channels;
}

export async function closeChannels(channels: ReadonlyMap<string, Channel>): Promise<void> {
  await Promise.all([...channels.values()].map((channel) => channel.close?.()));
}

/** `onRequest` also sees every Langfuse request (the daemon counts them for its metrics). */
export interface LangfuseOptions {
  readonly stateDir: string;
  /** check --dry-run: the history cache is read, never written; the request budget records the requests (its only write) */
  readonly readOnly: boolean;
  readonly onRequest?: (event: RequestEvent) => void;
  readonly transport: Transport | undefined;
  /** the wall clock, for the client's own bookkeeping (when to try the v2 API again) */
  readonly clock: () => Date;
  /** backtest: its whole cost is admitted before it starts, so no evaluation is cut to the budget's burst */
  readonly admittedInWhole?: boolean;
}

export interface Langfuse {
  readonly client: LangfuseClient;
  readonly source: PlannedSpendSource;
  /** whether the request budget lets these alerts be evaluated now, with `extraRequests` of the evaluation's besides theirs (the cost exporter's) */
  admit(alerts: readonly AlertConfig[], now: Date, extraRequests?: number): Promise<Admission>;
  /** what the budget has spent and allows, for /metrics */
  budget(now: Date): QuotaSnapshot;
  /** the request budget itself, for a command that sends requests of its own besides the planner's (report) */
  readonly quota: RequestQuota;
}

export async function buildLangfuse(config: Config, log: Logger, options: LangfuseOptions): Promise<Langfuse> {
  const client = langfuseClient(config, log, {
    ...options,
    // With a budget, every 429 must reach it (to slow the pace) rather than be slept through.
    ...(config.langfuse.requestBudget ? { maxRetryAfterSeconds: 0 } : {}),
  });
  const budget = await openRequestQuota({ stateDir: options.stateDir, requestBudget: config.langfuse.requestBudget, log });
  const source = createSpendSource({
    client,
    stateDir: options.stateDir,
    project: langfuseIdentity(config.langfuse.baseUrl, config.langfuse.publicKey),
    settings: plannerSettings(config),
    log,
    readOnly: options.readOnly,
    budget,
    admittedInWhole: options.admittedInWhole ?? false,
  });
  return {
    client,
    source,
    // Estimating plans the whole evaluation; worth it only when a limit could refuse it.
    admit: async (alerts, now, extraRequests = 0) => {
      await budget.refresh(now);
      return budget.admit(budget.limited(now) ? extraRequests + (await source.estimate(alertQueries([...alerts], now, config.timezone))) : 0, now);
    },
    budget: (now) => budget.snapshot(now),
    quota: budget,
  };
}

/**
 * The Langfuse client alone, for what goes around the request budget (the Models API, which
 * Langfuse limits apart from the Metrics API).
 */
export function langfuseClient(
  config: Config,
  log: Logger,
  options: Pick<LangfuseOptions, 'onRequest' | 'transport' | 'clock'> & { readonly maxRetryAfterSeconds?: number; readonly sleep?: Sleep | undefined },
): LangfuseClient {
  return new LangfuseClient({
    baseUrl: config.langfuse.baseUrl,
    publicKey: config.langfuse.publicKey,
    secretKey: config.langfuse.secretKey,
    ...(options.maxRetryAfterSeconds === undefined ? {} : { maxRetryAfterSeconds: options.maxRetryAfterSeconds }),
    ...(options.sleep ? { sleep: options.sleep } : {}),
    transport: options.transport ?? nodeTransport,
    clock: options.clock,
    onWarning: (message) => log.warn({}, message),
    onRequest: (event) => {
      log.debug({ ...event }, `langfuse ${event.endpoint} → ${event.status || 'no answer'} in ${Math.round(event.ms)} ms`);
      options.onRequest?.(event);
    },
  });
}

/** The pipeline's policy from the configuration: lag margin, degradation, system channels, lateness. */
export function checkPolicy(config: Config): Partial<CheckPolicy> {
  return {
    lagMarginMs: parseDuration(config.langfuse.lagMargin),
    degradedAfter: config.degradedAfter,
    systemChannels: config.systemChannels ?? null,
    lateAfterMs: Math.round(86_400_000 / Math.max(1, firesPerDay(config.schedule))),
  };
}

/**
 * The link in notifications points at the project; its id is asked for once and kept in state.
 * Without it the link is the Langfuse host, which still works after a login.
 */
export async function resolveLangfuseUrl(
  client: LangfuseClient,
  config: Config,
  store: StateStore,
  log: Logger,
  persist: boolean,
): Promise<string> {
  const base = config.langfuse.baseUrl.replace(/\/+$/, '');
  const key = langfuseIdentity(base, config.langfuse.publicKey);
  const known = (await store.load()).projects[key];
  if (known) return `${base}/project/${known}`;
  try {
    const id = await client.projectId();
    if (id === null) return base;
    if (persist) await store.update((state) => ({ ...state, projects: { ...state.projects, [key]: id } }));
    return `${base}/project/${id}`;
  } catch (error) {
    log.debug({ err: (error as Error).message }, 'could not resolve the Langfuse project id; links point at the host');
    return base;
  }
}
