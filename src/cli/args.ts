// The command line of PRODUCT.md: parsed here, validated here, nothing else reads argv. One table
// of options and one of commands (with the options each takes); the usage text, every command's
// help and the validation are derived from them, so a new command is one more row.
import { isIP } from 'node:net';
import { parseArgs } from 'node:util';
import { didYouMean } from '../config/suggest.js';
import type { LogFormat, LogLevel } from '../log/logger.js';
import { DEFAULT_TOP, MAX_TOP, REPORT_FORMATS, REPORT_WINDOWS, type ReportFormat, type ReportWindow } from '../core/report.js';

export class UsageError extends Error {
  override name = 'UsageError';

  /** the command whose options were wrong, when there is one: its help is the one to read */
  constructor(
    message: string,
    readonly command?: CommandName,
  ) {
    super(message);
  }
}

interface OptionSpec {
  readonly type: 'string' | 'boolean';
  readonly multiple?: boolean;
  readonly short?: string;
  /** what the value is, in help: `--config FILE` */
  readonly placeholder?: string;
  /** the environment variable read when the option isn't given */
  readonly env?: string;
  readonly default?: string;
  /** in help, for an option whose default is not a value */
  readonly defaultText?: string;
  readonly help: string;
}

/** The longest replay `backtest --days` takes. */
export const MAX_BACKTEST_DAYS = 90;

const OPTIONS = {
  config: { type: 'string', placeholder: 'FILE', env: 'SPEND_ALERTS_CONFIG', default: './alerts.yaml', help: 'alerts file' },
  'state-dir': { type: 'string', placeholder: 'DIR', env: 'SPEND_ALERTS_STATE_DIR', default: './.spend-alerts', help: 'state directory' },
  'log-level': { type: 'string', placeholder: 'LEVEL', env: 'LOG_LEVEL', default: 'info', help: 'debug | info | warn | error' },
  'log-format': { type: 'string', placeholder: 'FORMAT', env: 'LOG_FORMAT', default: 'json', help: 'json | pretty' },
  port: { type: 'string', placeholder: 'PORT', env: 'PORT', default: '9464', help: 'HTTP port for the status page, /healthz, /readyz, /metrics' },
  host: { type: 'string', placeholder: 'HOST', env: 'HOST', defaultText: 'all interfaces', help: 'address the port is bound to' },
  // a switch, turned off: the variable's value is `off` (or `on`), not a flag's presence
  'no-ui': { type: 'boolean', help: 'no status page at / (env SPEND_ALERTS_UI=off does the same; the page has no authentication)' },
  'dry-run': { type: 'boolean', help: 'print what would be sent; send nothing; only the request budget is written' },
  alert: { type: 'string', multiple: true, placeholder: 'NAME', help: 'evaluate only this alert (repeatable)' },
  channel: { type: 'string', multiple: true, placeholder: 'NAME', help: 'only this channel (repeatable)' },
  window: { type: 'string', placeholder: 'WINDOW', default: '7d', help: '7d | 30d (up to now) | day | week | month (to date)' },
  top: { type: 'string', placeholder: 'N', default: String(DEFAULT_TOP), help: `entries per list, daily and budgets whole (1–${MAX_TOP})` },
  format: { type: 'string', placeholder: 'FORMAT', default: 'table', help: 'table | json | csv | html' },
  output: { type: 'string', placeholder: 'FILE', defaultText: 'stdout', help: 'write the report to FILE' },
  name: { type: 'string', placeholder: 'NAME', defaultText: 'every digest', help: 'only the digest of this name' },
  days: { type: 'string', placeholder: 'N', help: `replay the past N days (1–${MAX_BACKTEST_DAYS}; required)` },
  json: { type: 'boolean', help: 'one JSON entry per notification on stdout' },
  'exit-code': { type: 'boolean', help: 'diff only: exit 3 when Langfuse differs from alerts.yaml, 0 when it does not' },
  help: { type: 'boolean', short: 'h', help: 'this help' },
  version: { type: 'boolean', short: 'v', help: 'the version' },
} as const satisfies Record<string, OptionSpec>;

type OptionName = keyof typeof OPTIONS;

/** Every command takes these besides its own. */
const COMMON_OPTIONS: readonly OptionName[] = ['config', 'state-dir', 'log-level', 'log-format', 'help', 'version'];

interface CommandSpec {
  readonly summary: string;
  /** its own options, besides COMMON_OPTIONS */
  readonly options: readonly OptionName[];
  /** a command of two words (`models diff`): the second, required */
  readonly actions?: readonly string[];
}

export const COMMANDS = {
  run: { summary: 'the daemon: evaluates every alert on its schedule until SIGTERM/SIGINT', options: ['port', 'host', 'no-ui'] },
  check: { summary: 'one evaluation of every alert (or --alert NAME), delivers, records state, exits', options: ['dry-run', 'alert'] },
  validate: { summary: 'checks alerts.yaml and the environment without network calls', options: [] },
  'test-notify': { summary: 'sends a clearly marked test notification to every channel (or --channel NAME)', options: ['channel'] },
  demo: { summary: 'the whole pipeline against bundled sample data, no Langfuse account needed', options: [] },
  status: { summary: 'what the state directory knows', options: [] },
  report: { summary: 'what was spent and on what: totals, daily trend, models, traces, users, budgets', options: ['window', 'top', 'format', 'output'] },
  digest: { summary: "sends every digest (or --name NAME) now, without touching its schedule's record", options: ['name', 'dry-run'] },
  backtest: {
    summary: 'replays the alerts hourly over the past days: what they would have sent, and when; sends nothing',
    options: ['days', 'alert', 'json'],
  },
  models: {
    summary: 'model prices of alerts.yaml against Langfuse: diff shows what apply would change, apply makes it so',
    options: ['exit-code'],
    actions: ['diff', 'apply'],
  },
} as const satisfies Record<string, CommandSpec>;

export type CommandName = keyof typeof COMMANDS;
const COMMAND_NAMES = Object.keys(COMMANDS) as CommandName[];

export const MODELS_ACTIONS = COMMANDS.models.actions;
export type ModelsAction = (typeof MODELS_ACTIONS)[number];

function actionsOf(command: CommandName): readonly string[] | undefined {
  const spec: CommandSpec = COMMANDS[command];
  return spec.actions;
}

/** `models diff|apply`, `check` */
function commandLine(command: CommandName): string {
  const actions = actionsOf(command);
  return actions === undefined ? command : `${command} ${actions.join('|')}`;
}

export interface CliOptions {
  readonly command: CommandName;
  readonly configPath: string;
  /** true when --config or SPEND_ALERTS_CONFIG chose the file (demo uses bundled alerts otherwise) */
  readonly configExplicit: boolean;
  readonly stateDir: string;
  readonly logLevel: LogLevel;
  readonly logFormat: LogFormat;
  /** run's HTTP port; the other commands serve nothing, read no PORT and get the default */
  readonly port: number;
  /** run: the address the port is bound to; undefined binds all interfaces (as a container wants) */
  readonly host: string | undefined;
  /** run: serve the status page at / (neither --no-ui nor SPEND_ALERTS_UI=off) */
  readonly ui: boolean;
  readonly dryRun: boolean;
  readonly alerts: readonly string[];
  readonly channels: readonly string[];
  /** report: its window, list length, format and file (undefined: stdout) */
  readonly report: { readonly window: ReportWindow; readonly top: number; readonly format: ReportFormat; readonly output: string | undefined };
  /** digest: the one digest to send; undefined: every digest */
  readonly digestName: string | undefined;
  /** backtest: how many days to replay (checked: present and 1–90 for backtest, else 0), and its output */
  readonly backtest: { readonly days: number; readonly json: boolean };
  /** models: its action (undefined for other commands), and whether diff tells changes by its exit code */
  readonly models: { readonly action: ModelsAction | undefined; readonly exitCode: boolean };
}

const EXIT_CODES = 'Exit codes: 0 success (alerts firing is success), 1 runtime failure after retries, 2 invalid configuration or usage.';
const MODELS_EXIT_CODES = 'models diff --exit-code: 3 when Langfuse differs from alerts.yaml.';

/** `spend-alerts --help` and `spend-alerts help`. */
export function usage(): string {
  const commands = [...COMMAND_NAMES.map((name) => [commandLine(name), COMMANDS[name].summary] as const), ['help [COMMAND]', 'this text, or a command\'s options'] as const];
  const width = Math.max(...commands.map(([name]) => name.length)) + 2;
  const ownOptions = COMMAND_NAMES.flatMap((command) => COMMANDS[command].options.map((option) => [option, `${command}: ${describeOption(option)}`] as const));
  return [
    'Usage: spend-alerts <command> [options]',
    '',
    'Commands:',
    ...commands.map(([name, summary]) => `  ${name.padEnd(width)}${summary}`),
    '',
    'Options of every command:',
    ...optionLines(COMMON_OPTIONS.map((option) => [option, describeOption(option)])),
    '',
    'Options of one command:',
    ...optionLines(ownOptions),
    '',
    EXIT_CODES,
    MODELS_EXIT_CODES,
  ].join('\n');
}

/** `spend-alerts help check` and `spend-alerts check --help`. */
export function commandHelp(command: CommandName): string {
  const { summary, options } = COMMANDS[command];
  return [
    `Usage: spend-alerts ${commandLine(command)} [options]`,
    '',
    `${summary[0]!.toUpperCase()}${summary.slice(1)}.`,
    '',
    'Options:',
    ...optionLines([...options, ...COMMON_OPTIONS].map((option) => [option, describeOption(option)])),
    '',
    EXIT_CODES,
    ...(command === 'models' ? [MODELS_EXIT_CODES] : []),
  ].join('\n');
}

function optionLines(options: ReadonlyArray<readonly [OptionName, string]>): string[] {
  return options.map(([option, text]) => `  ${spelling(option).padEnd(21)}${text}`);
}

/** `-h, --help`, `--config FILE` */
function spelling(option: OptionName): string {
  const spec: OptionSpec = OPTIONS[option];
  return `${spec.short ? `-${spec.short}, ` : ''}--${option}${spec.placeholder ? ` ${spec.placeholder}` : ''}`;
}

function describeOption(option: OptionName): string {
  const spec: OptionSpec = OPTIONS[option];
  const fallback = spec.default ?? spec.defaultText;
  const from = [...(spec.env ? [`env ${spec.env}`] : []), ...(fallback ? [`default ${fallback}`] : [])];
  return from.length > 0 ? `${spec.help} (${from.join(', ')})` : spec.help;
}

const LOG_LEVELS: readonly LogLevel[] = ['debug', 'info', 'warn', 'error'];
const LOG_FORMATS: readonly LogFormat[] = ['json', 'pretty'];

export type ParsedArgs =
  | { kind: 'help'; command?: CommandName }
  | { kind: 'version' }
  | { kind: 'command'; options: CliOptions };

export function parseCommandLine(argv: readonly string[], env: Readonly<Record<string, string | undefined>>): ParsedArgs {
  // Not strict: node's own messages ("Unknown option '--x'. To specify a positional argument
  // starting with a '-', place it at the end…") are replaced by ones that name the command.
  const { tokens } = parseArgs({ args: [...argv], options: OPTIONS, allowPositionals: true, strict: false, tokens: true });
  const positionals = tokens.flatMap((token) => (token.kind === 'positional' ? [token.value] : []));
  const given = tokens.flatMap((token) => (token.kind === 'option' ? [token] : []));
  const flagged = (option: OptionName): boolean => given.some((token) => token.name === option);

  const [first, ...words] = positionals;
  if (first === 'help') {
    if (words.length > 1) throw new UsageError(`unexpected argument ${quoted(words[1]!)}`);
    return words[0] === undefined ? { kind: 'help' } : { kind: 'help', command: commandNamed(words[0]) };
  }
  if (first === undefined) {
    if (flagged('help')) return { kind: 'help' };
    if (flagged('version')) return { kind: 'version' };
    throw new UsageError('no command given');
  }
  const command = commandNamed(first);
  if (flagged('help')) return { kind: 'help', command };
  if (flagged('version')) return { kind: 'version' };
  const action = actionsOf(command) === undefined ? undefined : actionNamed(command, words[0]);
  const rest = action === undefined ? words : words.slice(1);

  const accepted = new Set<OptionName>([...COMMANDS[command].options, ...COMMON_OPTIONS]);
  const values = new Map<OptionName, string[]>();
  for (const token of given) {
    const option = token.name as OptionName;
    if (!Object.hasOwn(OPTIONS, option)) {
      const known = [...accepted].map((name) => `--${name}`);
      const suggestion = didYouMean(token.rawName, known);
      throw new UsageError(`unknown option ${token.rawName} for ${command}${suggestion || ` (options: ${known.join(', ')})`}`, command);
    }
    if (!accepted.has(option)) {
      const owners = COMMAND_NAMES.filter((name) => (COMMANDS[name].options as readonly OptionName[]).includes(option));
      throw new UsageError(`${token.rawName} is an option of ${owners.join(', ')}, not of ${command}`, command);
    }
    const spec: OptionSpec = OPTIONS[option];
    if (spec.type === 'boolean') {
      if (token.value !== undefined) throw new UsageError(`${token.rawName} takes no value`, command);
      values.set(option, []);
      continue;
    }
    // `--config --dry-run`: node would take "--dry-run" as the file name.
    if (token.value === undefined || (!token.inlineValue && token.value.startsWith('-'))) {
      throw new UsageError(`${token.rawName} needs a value: ${spelling(option)}`, command);
    }
    values.set(option, [...(spec.multiple ? (values.get(option) ?? []) : []), token.value]);
  }
  if (rest.length > 0) throw new UsageError(`unexpected argument ${quoted(rest[0]!)}`, command);
  if (values.has('exit-code') && action !== 'diff') throw new UsageError(`--exit-code is an option of models diff, not of models ${action ?? ''}`.trimEnd(), command);

  /** The option's value, else its variable's, else its default; `origin` names where it came from. */
  const setting = (option: OptionName): { value: string | undefined; origin: string } => {
    const spec: OptionSpec = OPTIONS[option];
    const flag = values.get(option)?.[0];
    if (flag !== undefined) return { value: flag, origin: `--${option}` };
    const fromEnv = spec.env === undefined ? undefined : env[spec.env];
    if (fromEnv !== undefined) return { value: fromEnv, origin: spec.env! };
    return { value: spec.default, origin: `--${option}` };
  };
  const config = setting('config');
  return {
    kind: 'command',
    options: {
      command,
      configPath: config.value!,
      configExplicit: values.has('config') || Boolean(env.SPEND_ALERTS_CONFIG),
      stateDir: setting('state-dir').value!,
      logLevel: oneOf(setting('log-level'), LOG_LEVELS),
      logFormat: oneOf(setting('log-format'), LOG_FORMATS),
      port: accepted.has('port') ? portNumber(setting('port')) : Number(OPTIONS.port.default),
      host: accepted.has('host') ? hostAddress(setting('host')) : undefined,
      ui: accepted.has('no-ui') && !values.has('no-ui') && uiSwitch(env.SPEND_ALERTS_UI),
      dryRun: values.has('dry-run'),
      alerts: values.get('alert') ?? [],
      channels: values.get('channel') ?? [],
      report: {
        window: oneOf(setting('window'), REPORT_WINDOWS),
        top: topCount(setting('top')),
        format: oneOf(setting('format'), REPORT_FORMATS),
        output: values.get('output')?.[0],
      },
      digestName: values.get('name')?.[0],
      backtest: { days: accepted.has('days') ? backtestDays(values.get('days')?.[0]) : 0, json: values.has('json') },
      models: { action: action as ModelsAction | undefined, exitCode: values.has('exit-code') },
    },
  };
}

function commandNamed(name: string): CommandName {
  if (Object.hasOwn(COMMANDS, name)) return name as CommandName;
  const suggestion = didYouMean(name, COMMAND_NAMES);
  throw new UsageError(`unknown command ${quoted(name)}${suggestion || ` (commands: ${COMMAND_NAMES.join(', ')})`}`);
}

/** The second word of a two-word command: `diff` of `models diff`. */
function actionNamed(command: CommandName, name: string | undefined): string {
  const actions = actionsOf(command) ?? [];
  if (name === undefined) throw new UsageError(`${command} needs an action: ${commandLine(command)}`, command);
  if (actions.includes(name)) return name;
  const suggestion = didYouMean(name, actions);
  throw new UsageError(`unknown action ${quoted(name)} for ${command}${suggestion || ` (actions: ${actions.join(', ')})`}`, command);
}

function oneOf<T extends string>({ value, origin }: { value: string | undefined; origin: string }, allowed: readonly T[]): T {
  if (!(allowed as readonly (string | undefined)[]).includes(value)) {
    throw new UsageError(`${origin} must be one of ${allowed.join(', ')}, got ${quoted(value ?? '')}`);
  }
  return value as T;
}

function topCount({ value = '', origin }: { value: string | undefined; origin: string }): number {
  if (!/^\d+$/.test(value) || Number(value) < 1 || Number(value) > MAX_TOP) throw new UsageError(`${origin} must be a whole number from 1 to ${MAX_TOP}, got ${quoted(value)}`, 'report');
  return Number(value);
}

function backtestDays(value: string | undefined): number {
  if (value === undefined) throw new UsageError(`backtest needs --days N (1–${MAX_BACKTEST_DAYS})`, 'backtest');
  if (!/^\d+$/.test(value) || Number(value) < 1 || Number(value) > MAX_BACKTEST_DAYS) {
    throw new UsageError(`--days must be a whole number from 1 to ${MAX_BACKTEST_DAYS}, got ${quoted(value)}`, 'backtest');
  }
  return Number(value);
}

function portNumber({ value = '', origin }: { value: string | undefined; origin: string }): number {
  if (!/^\d+$/.test(value) || Number(value) > 65535) throw new UsageError(`${origin} must be a port number, got ${quoted(value)}`);
  return Number(value);
}

/** SPEND_ALERTS_UI: `off` turns the status page off; `on` or unset leaves it on. */
function uiSwitch(value: string | undefined): boolean {
  if (value === undefined || value === 'on') return true;
  if (value === 'off') return false;
  throw new UsageError(`SPEND_ALERTS_UI must be one of on, off, got ${quoted(value)}`);
}

/** An IP address or a host name (resolved when the daemon binds); undefined: all interfaces. */
function hostAddress({ value, origin }: { value: string | undefined; origin: string }): string | undefined {
  if (value === undefined) return undefined;
  if (isIP(value) !== 0 || (HOST_NAME.test(value) && !/^[\d.]+$/.test(value))) return value;
  throw new UsageError(`${origin} must be an IP address or a host name, got ${quoted(value)}`);
}

/** In double quotes, with any control character escaped: what was typed, shown on one line. */
function quoted(text: string): string {
  return JSON.stringify(text);
}

/** RFC 1123 host names: dot-separated labels of letters, digits and inner hyphens. */
const HOST_NAME = /^(?=.{1,253}$)[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/i;
