import { mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ConfigError } from '../../src/config/errors.js';
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
