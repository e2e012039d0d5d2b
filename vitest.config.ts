import { configDefaults, defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // need root and podman (npm run test:container), chromium (npm run test:browser)
    exclude: [...configDefaults.exclude, 'test/container/**', 'test/browser/**'],
    testTimeout: 20_000,
    hookTimeout: 20_000,
    pool: 'forks',
  },
});
