// The command line of PRODUCT.md: parsed here, validated here, nothing else reads argv.
import { parseArgs } from 'node:util';
import type { LogFormat, LogLevel } from '../log/logger.js';

export const COMMANDS = ['run', 'check', 'validate', 'test-notify', 'demo', 'status'] as const;
export type CommandName = (typeof COMMANDS)[number];

export class UsageError extends Error {
  override name = 'UsageError';
}

export interface CliOptions {
  readonly command: CommandName;
  readonly configPath: string;
  /** true when --config or SPEND_ALERTS_CONFIG chose the file (demo uses bundled alerts otherwise) */
  readonly configExplicit: boolean;
  readonly stateDir: string;
  readonly logLevel: LogLevel;
  readonly logFormat: LogFormat;
  readonly port: number;
  readonly dryRun: boolean;
  readonly alerts: readonly string[];
  readonly channels: readonly string[];
}

export const USAGE = `Usage: spend-alerts <command> [options]

Commands:
  run           the daemon: evaluates every alert on its schedule until SIGTERM/SIGINT
  check         one evaluation of every alert (or --alert NAME), delivers, records state, exits
  validate      checks alerts.yaml and the environment without network calls
  test-notify   sends a clearly marked test notification to every channel (or --channel NAME)
  demo          the whole pipeline against bundled sample data, no Langfuse account needed
  status        what the state directory knows

Options:
  --config FILE        alerts file (env SPEND_ALERTS_CONFIG, default ./alerts.yaml)
  --state-dir DIR      state directory (env SPEND_ALERTS_STATE_DIR, default ./.spend-alerts)
  --log-level LEVEL    debug | info | warn | error (env LOG_LEVEL, default info)
  --log-format FORMAT  json | pretty (env LOG_FORMAT, default json)
  --port PORT          run: HTTP port for /healthz, /readyz, /metrics (env PORT, default 9464)
  --dry-run            check: print what would be sent; send nothing, write nothing
  --alert NAME         check: evaluate only this alert (repeatable)
  --channel NAME       test-notify: only this channel (repeatable)
  -h, --help           this text
  -v, --version        the version

Exit codes: 0 success (alerts firing is success), 1 runtime failure after retries, 2 invalid configuration or usage.`;

const LOG_LEVELS: readonly LogLevel[] = ['debug', 'info', 'warn', 'error'];
const LOG_FORMATS: readonly LogFormat[] = ['json', 'pretty'];

export type ParsedArgs = { kind: 'help' } | { kind: 'version' } | { kind: 'command'; options: CliOptions };

export function parseCommandLine(argv: readonly string[], env: Readonly<Record<string, string | undefined>>): ParsedArgs {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...argv],
      allowPositionals: true,
      strict: true,
      options: {
        config: { type: 'string' },
        'state-dir': { type: 'string' },
        'log-level': { type: 'string' },
        'log-format': { type: 'string' },
        port: { type: 'string' },
        'dry-run': { type: 'boolean' },
        alert: { type: 'string', multiple: true },
        channel: { type: 'string', multiple: true },
        help: { type: 'boolean', short: 'h' },
        version: { type: 'boolean', short: 'v' },
      },
    });
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  const { values, positionals } = parsed;
  if (values.help) return { kind: 'help' };
  if (values.version) return { kind: 'version' };
  const [command, ...extra] = positionals;
  if (command === undefined) throw new UsageError('no command given');
  if (!(COMMANDS as readonly string[]).includes(command)) {
    throw new UsageError(`unknown command "${command}" (commands: ${COMMANDS.join(', ')})`);
  }
  if (extra.length > 0) throw new UsageError(`unexpected argument "${extra[0]}"`);

  const logLevel = oneOf('--log-level', values['log-level'] ?? env.LOG_LEVEL ?? 'info', LOG_LEVELS);
  const logFormat = oneOf('--log-format', values['log-format'] ?? env.LOG_FORMAT ?? 'json', LOG_FORMATS);
  const portText = values.port ?? env.PORT ?? '9464';
  const port = Number(portText);
  if (!/^\d+$/.test(portText) || port > 65535) throw new UsageError(`--port must be a port number, got "${portText}"`);

  const onlyFor = (flag: string, allowed: readonly CommandName[], given: boolean): void => {
    if (given && !allowed.includes(command as CommandName)) {
      throw new UsageError(`${flag} is not an option of "${command}"`);
    }
  };
  onlyFor('--dry-run', ['check'], values['dry-run'] === true);
  onlyFor('--alert', ['check'], (values.alert?.length ?? 0) > 0);
  onlyFor('--channel', ['test-notify'], (values.channel?.length ?? 0) > 0);

  const configFromEnv = env.SPEND_ALERTS_CONFIG;
  return {
    kind: 'command',
    options: {
      command: command as CommandName,
      configPath: values.config ?? configFromEnv ?? './alerts.yaml',
      configExplicit: values.config !== undefined || (configFromEnv !== undefined && configFromEnv !== ''),
      stateDir: values['state-dir'] ?? env.SPEND_ALERTS_STATE_DIR ?? './.spend-alerts',
      logLevel,
      logFormat,
      port,
      dryRun: values['dry-run'] === true,
      alerts: values.alert ?? [],
      channels: values.channel ?? [],
    },
  };
}

function oneOf<T extends string>(flag: string, value: string, allowed: readonly T[]): T {
  if (!(allowed as readonly string[]).includes(value)) {
    throw new UsageError(`${flag} must be one of ${allowed.join(', ')}, got "${value}"`);
  }
  return value as T;
}
