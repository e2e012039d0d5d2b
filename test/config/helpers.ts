import { fileURLToPath } from 'node:url';
import { expect } from 'vitest';
import { ConfigError } from '../../src/config/errors.js';
import type { Needs, Env, LoadedConfig } from '../../src/config/load.js';
import { loadConfig } from '../../src/config/load.js';

export function fixture(name: string): string {
  return fileURLToPath(new URL(`../fixtures/config/${name}`, import.meta.url));
}

export function loadFixture(name: string, env: Env = {}, needs: Needs = 'all'): Promise<LoadedConfig> {
  return loadConfig({ path: fixture(name), env: { ...LANGFUSE_ENV, ...env }, needs });
}

export const LANGFUSE_ENV = { LANGFUSE_PUBLIC_KEY: 'pk-lf-test', LANGFUSE_SECRET_KEY: 'sk-lf-test' };

/** The ConfigError `promise` rejects with; fails the test when it resolves or rejects otherwise. */
export async function configError(promise: Promise<unknown>): Promise<ConfigError> {
  const error = await promise.then(
    () => undefined,
    (rejection: unknown) => rejection,
  );
  expect(error).toBeInstanceOf(ConfigError);
  return error as ConfigError;
}
