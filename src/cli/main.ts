// The only place that turns command outcomes and errors into exit codes, and reads the clock for
// one-shot commands.
import { readFileSync } from 'node:fs';
import { ConfigError } from '../config/errors.js';
import { ProxyConfigError } from '../net/proxy.js';
import { packageFile } from '../util/package-file.js';
import { commandHelp, parseCommandLine, usage, UsageError, type CliOptions, type CommandName } from './args.js';
import type { Io } from './compose.js';
import type { CommandOutcome } from './outcome.js';
import { terminalSafe } from '../util/terminal.js';

export const EXIT_OK = 0;
export const EXIT_RUNTIME = 1;
export const EXIT_USAGE = 2;
/** `models diff --exit-code`: there is something to apply */
export const EXIT_CHANGES = 3;

export function exitCode(outcome: CommandOutcome): number {
  if (outcome === 'changes') return EXIT_CHANGES;
  return outcome === 'ok' ? EXIT_OK : EXIT_RUNTIME;
}

/** `now` is when the command started; `clock` reads the time again (check reports how long it took). */
type Command = (options: CliOptions, io: Io, now: Date, clock: () => Date) => Promise<CommandOutcome>;

// Each command is loaded when it runs: a `check` doesn't pay for the daemon, the fake Langfuse of
// the demo, or the metrics registry at start-up.
const commands: Record<CommandName, () => Promise<Command>> = {
  run: async () => (await import('./commands/run.js')).runCommand,
  check: async () => (await import('./commands/check.js')).checkCommand,
  validate: async () => (await import('./commands/validate.js')).validateCommand,
  'test-notify': async () => (await import('./commands/test-notify.js')).testNotifyCommand,
  demo: async () => (await import('./commands/demo.js')).demoCommand,
  status: async () => (await import('./commands/status.js')).statusCommand,
  report: async () => (await import('./commands/report.js')).reportCommand,
  digest: async () => (await import('./commands/digest.js')).digestCommand,
  backtest: async () => (await import('./commands/backtest.js')).backtestCommand,
  models: async () => (await import('./commands/models.js')).modelsCommand,
};

export async function main(argv: readonly string[], io: Io, clock: () => Date = () => new Date()): Promise<number> {
  let debug = false;
  try {
    const parsed = parseCommandLine(argv, io.env);
    if (parsed.kind === 'help') {
      io.stdout.write((parsed.command === undefined ? usage() : commandHelp(parsed.command)) + '\n');
      return EXIT_OK;
    }
    if (parsed.kind === 'version') {
      io.stdout.write(version() + '\n');
      return EXIT_OK;
    }
    debug = parsed.options.logLevel === 'debug';
    const command = await commands[parsed.options.command]();
    return exitCode(await command(parsed.options, io, clock(), clock));
  } catch (error) {
    return failureExit(error, io.stderr, debug);
  }
}

/** Says what went wrong on `stderr` and returns the exit code for it: 2 for usage and configuration, else 1. */
export function failureExit(error: unknown, stderr: NodeJS.WritableStream, debug = false): number {
  if (error instanceof UsageError) {
    const help = error.command === undefined ? 'spend-alerts help' : `spend-alerts help ${error.command}`;
    stderr.write(terminalSafe(`spend-alerts: ${error.message}\nRun "${help}" for usage.\n`));
    return EXIT_USAGE;
  }
  if (error instanceof ConfigError) {
    stderr.write(terminalSafe(error.format()) + '\n');
    return EXIT_USAGE;
  }
  if (error instanceof ProxyConfigError) {
    stderr.write(terminalSafe(`spend-alerts: ${error.message}\n`));
    return EXIT_USAGE;
  }
  const message = error instanceof Error ? error.message : String(error);
  stderr.write(terminalSafe(`spend-alerts: ${message}\n`));
  if (debug && error instanceof Error && error.stack) stderr.write(error.stack + '\n');
  return EXIT_RUNTIME;
}

function version(): string {
  const pkg = JSON.parse(readFileSync(packageFile('package.json'), 'utf8')) as { version: string };
  return pkg.version;
}
