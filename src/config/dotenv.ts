// `.env` in the working directory, read before anything else: kept apart from the loader so the
// command line starts without loading the configuration schema.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse as parseDotEnv } from 'dotenv';
import { ConfigError, type ConfigWarning } from './errors.js';
import type { Env } from './interpolate.js';

/**
 * The environment with `.env` in `cwd` (if there is one) underneath it: a variable already in `env`
 * wins, even an empty one. `env` itself is left alone. Quiet: dotenv's parser only, none of its
 * logging; what looks like a mistake in the file goes to `onWarning`.
 */
export function loadDotEnv(cwd: string, env: Env, onWarning: (warning: ConfigWarning) => void = () => {}): Record<string, string | undefined> {
  const file = join(cwd, '.env');
  let content: string;
  try {
    content = readFileSync(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { ...env };
    throw new ConfigError([{ file, path: '', message: `cannot read: ${describeReadError(error)}` }]);
  }
  for (const warning of cutAtHash(file, content)) if (env[warning.path] === undefined) onWarning(warning);
  const merged: Record<string, string | undefined> = { ...parseDotEnv(content) };
  for (const [name, value] of Object.entries(env)) if (value !== undefined) merged[name] = value;
  return merged;
}

const ASSIGNMENT = /^\s*(?:export\s+)?([\w.-]+)\s*=\s*(.*)$/;

/**
 * Unquoted values with a `#`: dotenv reads them up to the `#` (`HOOK_SECRET=abc#def` is `abc`),
 * Docker's --env-file keeps the whole line, so the same file means two things. dotenv's parsing
 * stays; the warning names the variable and the line, never the value.
 */
function cutAtHash(file: string, content: string): ConfigWarning[] {
  const warnings: ConfigWarning[] = [];
  const lines = content.split(/\r\n?|\n/);
  let openQuote: string | undefined;
  lines.forEach((line, index) => {
    // the lines of a quoted value that spans several are part of that value
    if (openQuote !== undefined) {
      if (line.includes(openQuote)) openQuote = undefined;
      return;
    }
    const match = ASSIGNMENT.exec(line);
    if (!match) return;
    const [, name, value] = match as unknown as [string, string, string];
    const quote = /^['"`]/.exec(value)?.[0];
    if (quote !== undefined) {
      if (!value.slice(1).includes(quote)) openQuote = quote;
      return;
    }
    if (!value.includes('#')) return;
    warnings.push({
      file,
      line: index + 1,
      col: line.indexOf('#') + 1,
      path: name,
      message:
        'the value is not quoted, so it ends at this "#" (the rest reads as a comment) while docker --env-file keeps the whole line: ' +
        `quote it (Docker keeps the quotes too) or put it in a file named by ${name}_FILE`,
    });
  });
  return warnings;
}

function describeReadError(error: unknown): string {
  const code = (error as NodeJS.ErrnoException).code;
  return code === 'EISDIR' ? 'it is a directory' : (code ?? (error as Error).message);
}
