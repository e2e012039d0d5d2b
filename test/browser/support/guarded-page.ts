// A page that keeps to this machine and reports what a hostile page would do: every request is
// recorded, one to any host but 127.0.0.1 / localhost is aborted, and that, a dialog (alert,
// confirm, prompt), a console error, an uncaught exception or a script that set `window.__pwned`
// (the mark the hostile test data leaves) fails the test that opened the page when it finishes.
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { onTestFinished } from 'vitest';

export interface GuardedPage {
  readonly page: Page;
  /** every URL the page asked for, in order: documents, subresources, fetches, websockets */
  readonly requests: readonly string[];
  /** what went wrong so far, one sentence each */
  readonly problems: readonly string[];
  /** the problems so far, then forgotten: for a test that provokes them on purpose */
  takeProblems(): string[];
  /** throws, listing them, when there are problems or a script set `window.__pwned` */
  assertClean(): Promise<void>;
  /** saves the whole page as `<screenshotDir>/<name>.png` and returns the path */
  screenshot(name: string): Promise<string>;
}

export interface GuardedPageOptions {
  /** where screenshot(name) saves, created when needed */
  readonly screenshotDir: string;
}

const LOCAL_HOSTS = new Set(['127.0.0.1', 'localhost']);
const LOCAL_SCHEMES = new Set(['data:', 'about:']);
const NETWORK_SCHEMES = new Set(['http:', 'https:', 'ws:', 'wss:']);

/** data: and about: URLs, and http(s)/ws(s) to 127.0.0.1 or localhost; a file: URL is not. */
export function staysLocal(url: string): boolean {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return false;
  }
  if (LOCAL_SCHEMES.has(parsed.protocol)) return true;
  return NETWORK_SCHEMES.has(parsed.protocol) && LOCAL_HOSTS.has(parsed.hostname);
}

/**
 * Opens a page in a fresh context of `browser`. Call it inside a test: the test fails when it
 * finishes with problems left (see takeProblems), and the context is closed then.
 */
export async function openGuardedPage(browser: Browser, options: GuardedPageOptions): Promise<GuardedPage> {
  const context = await browser.newContext({ serviceWorkers: 'block' });
  const requests: string[] = [];
  let problems: string[] = [];
  await guard(context, requests, (problem) => problems.push(problem));
  const page = await context.newPage();

  const assertClean = async (): Promise<void> => {
    const found = [...problems];
    // a closed or crashed page can't be asked; that is a problem of its own
    const pwned = await page.evaluate('window.__pwned').catch((error: Error) => `(unknown: ${error.message})`);
    if (pwned !== undefined) found.push(`a script ran: window.__pwned is ${JSON.stringify(pwned)}`);
    if (found.length > 0) throw new Error(`the page at ${page.url()}:\n${found.map((problem) => `  - ${problem}`).join('\n')}`);
  };

  onTestFinished(async () => {
    try {
      await assertClean();
    } finally {
      await context.close();
    }
  });

  return {
    page,
    requests,
    get problems() {
      return problems;
    },
    takeProblems() {
      const taken = problems;
      problems = [];
      return taken;
    },
    assertClean,
    async screenshot(name) {
      await mkdir(options.screenshotDir, { recursive: true });
      const path = join(options.screenshotDir, `${name}.png`);
      await page.screenshot({ path, fullPage: true });
      return path;
    },
  };
}

async function guard(context: BrowserContext, requests: string[], problem: (sentence: string) => void): Promise<void> {
  context.on('request', (request) => requests.push(request.url()));
  await context.route('**/*', async (route) => {
    const url = route.request().url();
    if (staysLocal(url)) return route.continue();
    problem(`a request left 127.0.0.1: ${route.request().method()} ${url}`);
    return route.abort('blockedbyclient');
  });
  await context.routeWebSocket(/./, (socket) => {
    const url = socket.url();
    requests.push(url);
    if (staysLocal(url)) return socket.connectToServer();
    problem(`a websocket left 127.0.0.1: ${url}`);
    return socket.close();
  });
  context.on('dialog', (dialog) => {
    problem(`a dialog opened (${dialog.type()}): ${JSON.stringify(dialog.message())}`);
    void dialog.dismiss();
  });
  context.on('console', (message) => {
    if (message.type() === 'error') problem(`console error: ${message.text()}`);
  });
  context.on('weberror', (error) => problem(`uncaught exception: ${error.error().message}`));
}
