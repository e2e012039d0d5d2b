import { mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ConfigError, formatIssue, type ConfigWarning } from '../../src/config/errors.js';
import { loadDotEnv } from '../../src/config/dotenv.js';

function directory(): string {
  return mkdtempSync(join(tmpdir(), 'spend-alerts-env-'));
}

afterEach(() => {
  vi.restoreAllMocks();
});

describe('loadDotEnv', () => {
  it('puts .env underneath the environment: set variables win, even empty ones; nothing is printed', () => {
    const cwd = directory();
    writeFileSync(
      join(cwd, '.env'),
      ['A=from-file', 'B=from-file', 'C="quoted # not a comment"', 'export D=exported', '# a comment', ''].join('\n'),
    );
    const log = vi.spyOn(console, 'log');
    const info = vi.spyOn(console, 'info');
    const write = vi.spyOn(process.stdout, 'write');
    const env = { A: 'real', B: '' };

    const merged = loadDotEnv(cwd, env);

    expect(merged).toEqual({ A: 'real', B: '', C: 'quoted # not a comment', D: 'exported' });
    expect(env).toEqual({ A: 'real', B: '' });
    expect(log).not.toHaveBeenCalled();
    expect(info).not.toHaveBeenCalled();
    expect(write).not.toHaveBeenCalled();
  });

  it('keeps dotenv reading an unquoted value up to "#", and warns naming the variable and line, never the value', () => {
    const cwd = directory();
    writeFileSync(
      join(cwd, '.env'),
      [
        'HOOK_SECRET=abc#def',
        'QUOTED="x#y"',
        'NOTE=plain # a comment Docker would keep',
        "MULTI='first line",
        'NOT_A_VARIABLE=inside#quotes',
        "last line'",
        '# COMMENTED=a#b',
        'SET_IN_ENV=x#y',
      ].join('\n'),
    );
    const warnings: ConfigWarning[] = [];

    const merged = loadDotEnv(cwd, { SET_IN_ENV: 'real' }, (warning) => warnings.push(warning));

    expect(merged).toMatchObject({ HOOK_SECRET: 'abc', QUOTED: 'x#y', NOTE: 'plain', SET_IN_ENV: 'real' });
    expect(warnings.map((w) => [w.path, w.line, w.col])).toEqual([
      ['HOOK_SECRET', 1, 16],
      ['NOTE', 3, 12],
    ]);
    expect(formatIssue(warnings[0]!)).toBe(
      `${join(cwd, '.env')}:1:16 HOOK_SECRET: the value is not quoted, so it ends at this "#" (the rest reads as a comment) while docker ` +
        '--env-file keeps the whole line: quote it (Docker keeps the quotes too) or put it in a file named by HOOK_SECRET_FILE',
    );
    for (const warning of warnings) expect(warning.message).not.toMatch(/abc|def|plain|comment Docker/);
  });

  it('returns the environment as it is without a .env file', () => {
    expect(loadDotEnv(directory(), { A: 'real' })).toEqual({ A: 'real' });
  });

  it('reports a .env it cannot read', () => {
    const cwd = directory();
    mkdirSync(join(cwd, '.env'));
    expect(() => loadDotEnv(cwd, {})).toThrow(ConfigError);
    expect(() => loadDotEnv(cwd, {})).toThrow(/\.env: cannot read: it is a directory/);
  });
});
