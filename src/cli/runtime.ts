// Wiring shared by the commands: configuration, logger, channels, Langfuse, state. Reads no clock.
import type { Channel } from '../channels/channel.js';
import { createChannel } from '../channels/index.js';
import { formatIssue } from '../config/errors.js';
import { loadConfig, type LoadedConfig, type Needs } from '../config/load.js';
import type { Config } from '../config/schema.js';
import { LangfuseClient, type RequestEvent } from '../langfuse/client.js';
import { LangfuseSpendSource } from '../langfuse/spend-source.js';
import { createLogger, type Logger } from '../log/logger.js';
import type { StateStore } from '../state/store.js';
import { createRedactor } from '../util/redact.js';
import type { CliOptions } from './args.js';

export interface Io {
  readonly stdout: NodeJS.WritableStream;
  readonly stderr: NodeJS.WritableStream;
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly cwd: string;
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
  timeoutMs = 15_000,
): Map<string, Channel> {
  const channels = new Map<string, Channel>();
  for (const name of names) {
    const channelConfig = config.channels[name];
    if (channelConfig) channels.set(name, createChannel(name, channelConfig, { stdout: io.stdout, timeoutMs }));
  }
  return channels;
}

export async function closeChannels(channels: ReadonlyMap<string, Channel>): Promise<void> {
  await Promise.all([...channels.values()].map((channel) => channel.close?.()));
}

/** `onRequest` also sees every Langfuse request (the daemon counts them for its metrics). */
export function buildLangfuse(
  config: Config,
  log: Logger,
  onRequest?: (event: RequestEvent) => void,
): { client: LangfuseClient; source: LangfuseSpendSource } {
  const client = new LangfuseClient({
    baseUrl: config.langfuse.baseUrl,
    publicKey: config.langfuse.publicKey,
    secretKey: config.langfuse.secretKey,
    onWarning: (message) => log.warn({}, message),
    onRequest: (event) => {
      log.debug({ ...event }, `langfuse ${event.endpoint} → ${event.status || 'no answer'} in ${Math.round(event.ms)} ms`);
      onRequest?.(event);
    },
  });
  return { client, source: new LangfuseSpendSource(client) };
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
  const key = `${base}|${config.langfuse.publicKey}`;
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
