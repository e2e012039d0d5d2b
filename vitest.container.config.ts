// The container test (npm run test:container): builds the real image with podman and runs it.
// Not part of `npm test`: it needs root, podman and a few minutes (see scripts/container/).
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/container/**/*.test.ts'],
    testTimeout: 300_000,
    hookTimeout: 900_000,
    pool: 'forks',
  },
});
