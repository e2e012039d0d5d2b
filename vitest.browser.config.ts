// The browser tests (npm run test:browser): Debian's chromium, headless, on the HTML report and the
// status page. Not part of `npm test`: they need chromium (apt-get install -y chromium, or
// CHROMIUM_PATH). Without it the run stops here, before any test, with a message that says what to
// install: it fails, it never skips.
import { defineConfig } from 'vitest/config';
import { requireChromium } from './test/browser/support/chromium.js';

await requireChromium();

export default defineConfig({
  test: {
    include: ['test/browser/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
  },
});
