import type { CliOptions } from '../args.js';
import type { Io } from '../runtime.js';

export async function runCommand(_options: CliOptions, io: Io): Promise<number> {
  io.stderr.write('spend-alerts run: not built yet\n');
  return 1;
}
