// The only place that turns errors into exit codes and reads the clock for one-shot commands.
import { readFileSync } from 'node:fs';
import { ConfigError } from '../config/errors.js';
import { COMMANDS, parseCommandLine, USAGE, UsageError, type CliOptions } from './args.js';
import { checkCommand } from './commands/check.js';
import { demoCommand } from './commands/demo.js';
import { runCommand } from './commands/run.js';
import { statusCommand } from './commands/status.js';
import { testNotifyCommand } from './commands/test-notify.js';
import { validateCommand } from './commands/validate.js';
import type { Io } from './runtime.js';

export const EXIT_OK = 0;
export const EXIT_RUNTIME = 1;
export const EXIT_USAGE = 2;

type Command = (options: CliOptions, io: Io, now: Date) => Promise<number>;

const commands: Record<(typeof COMMANDS)[number], Command> = {
  run: (options, io) => runCommand(options, io),
  check: checkCommand,
  validate: validateCommand,
  'test-notify': testNotifyCommand,
  demo: demoCommand,
  status: statusCommand,
};

export async function main(argv: readonly string[], io: Io): Promise<number> {
  let debug = false;
  try {
    const parsed = parseCommandLine(argv, io.env);
    if (parsed.kind === 'help') {
      io.stdout.write(USAGE + '\n');
      return EXIT_OK;
    }
    if (parsed.kind === 'version') {
      io.stdout.write(version() + '\n');
      return EXIT_OK;
    }
    debug = parsed.options.logLevel === 'debug';
    return await commands[parsed.options.command](parsed.options, io, new Date());
  } catch (error) {
    if (error instanceof UsageError) {
      io.stderr.write(`spend-alerts: ${error.message}\nRun "spend-alerts --help" for usage.\n`);
      return EXIT_USAGE;
    }
    if (error instanceof ConfigError) {
      io.stderr.write(error.format() + '\n');
      return EXIT_USAGE;
    }
    const message = error instanceof Error ? error.message : String(error);
    io.stderr.write(`spend-alerts: ${message}\n`);
    if (debug && error instanceof Error && error.stack) io.stderr.write(error.stack + '\n');
    return EXIT_RUNTIME;
  }
}

function version(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}
