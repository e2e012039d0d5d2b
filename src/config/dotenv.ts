// `.env` in the working directory, read before anything else: kept apart from the loader so the
// command line starts without loading the configuration schema.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse as parseDotEnv } from 'dotenv';
import { ConfigError } from './errors.js';
import type { Env } from './interpolate.js';

/**
 * The environment with `.env` in `cwd` (if there is one) underneath it: a variable already in `env`
 * wins, even an empty one. `env` itself is left alone. Quiet: dotenv's parser only, none of its
 * logging.
 */
export function loadDotEnv(cwd: string, env: Env): Record<string, string | undefined> {
  const file = join(cwd, '.env');
  let content: string;
  try {
    content = readFileSync(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { ...env };
    throw new ConfigError([{ file, path: '', message: `cannot read: ${describeReadError(error)}` }]);
  }
  const merged: Record<string, string | undefined> = { ...parseDotEnv(content) };
  for (const [name, value] of Object.entries(env)) if (value !== undefined) merged[name] = value;
  return merged;
}

function describeReadError(error: unknown): string {
  const code = (error as NodeJS.ErrnoException).code;
  return code === 'EISDIR' ? 'it is a directory' : (code ?? (error as Error).message);
}
