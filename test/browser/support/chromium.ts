// Debian's chromium, driven headless through playwright-core (README, "Dependencies"). The browser
// tests never download a browser: they use the system binary, CHROMIUM_PATH or /usr/bin/chromium,
// and fail with this message when it is missing (vitest.browser.config.ts checks before any test).
import { constants } from 'node:fs';
import { access } from 'node:fs/promises';
import { chromium, type Browser } from 'playwright-core';

export const CHROMIUM_PATH = process.env['CHROMIUM_PATH'] || '/usr/bin/chromium';

export const MISSING_CHROMIUM =
  `the browser tests need chromium at ${CHROMIUM_PATH} (CHROMIUM_PATH overrides it): ` +
  'apt-get install -y chromium, or set CHROMIUM_PATH to a Chromium or Chrome binary';

/** Throws MISSING_CHROMIUM unless CHROMIUM_PATH is an executable file. */
export async function requireChromium(): Promise<void> {
  try {
    await access(CHROMIUM_PATH, constants.X_OK);
  } catch {
    throw new Error(MISSING_CHROMIUM);
  }
}

export async function launchChromium(): Promise<Browser> {
  await requireChromium();
  return chromium.launch({
    executablePath: CHROMIUM_PATH,
    headless: true,
    // Chromium refuses to start its sandbox as root (CI runs as root); anyone else keeps it
    chromiumSandbox: process.getuid?.() !== 0,
    // Nothing the pages name resolves, so even a request the page guard could not see (a DNS
    // prefetch, a preconnect) stays on this machine.
    args: ['--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE localhost, EXCLUDE 127.0.0.1'],
  });
}
