// `spend-alerts validate`: the configuration and environment, checked without any network call.
import { formatIssue } from '../../config/errors.js';
import { formatSummary, summarizeConfig } from '../validate-summary.js';
import type { CliOptions } from '../args.js';
import type { CommandOutcome } from '../outcome.js';
import { prepare, type Io } from '../compose.js';
import { terminalSafe } from '../../util/terminal.js';

export async function validateCommand(options: CliOptions, io: Io, now: Date): Promise<CommandOutcome> {
  const { loaded } = await prepare(options, io, 'all');
  const warnings = loaded.warnings.map((warning) => `warning: ${formatIssue(warning)}\n`).join('');
  // metadata filter values and names come from the file: anything a YAML escape can write
  io.stdout.write(terminalSafe(`${loaded.path}: valid\n${warnings}\n${formatSummary(summarizeConfig(loaded.config, now))}\n`));
  return 'ok';
}
