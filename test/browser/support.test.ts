// The browser tests' own machinery, on tiny pages served from 127.0.0.1: the page guard lets local
// requests through and catches what a hostile page would do (a request to another host, a dialog,
// a console error, an exception, a script that ran), and `npm run test:browser` fails without
// chromium. The report's and the status page's tests rely on it.
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { REPO } from '../support/cli-process.js';
import { launchChromium } from './support/chromium.js';
import { openGuardedPage, staysLocal } from './support/guarded-page.js';
import { serveStatic, type StaticServer } from './support/static-server.js';

const html = (body: string) => ({ contentType: 'text/html; charset=utf-8', body: `<!doctype html><title>t</title>${body}` });
// a 1×1 PNG, shown from a data: URL
const PIXEL = 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==';

let browser: Browser;
let server: StaticServer;
let screenshotDir: string;

beforeAll(async () => {
  screenshotDir = await mkdtemp(join(tmpdir(), 'spend-alerts-browser-'));
  browser = await launchChromium();
  server = await serveStatic({
    '/quiet': html(`<link rel="stylesheet" href="/style.css"><h1>Spend</h1><img alt="dot" src="data:image/png;base64,${PIXEL}">`),
    '/style.css': { contentType: 'text/css', body: 'h1 { color: teal }' },
    '/noisy': html(`<h1>Hostile</h1><img alt="" src="http://spend-alerts.invalid/pixel.png"><script>alert('hello')</script>`),
    '/pwned': html(`<img src=x onerror="window.__pwned=1"><script>throw new Error('boom')</script>`),
  });
});

afterAll(async () => {
  await browser?.close();
  await server?.close();
  await rm(screenshotDir, { recursive: true, force: true });
});

describe('the page guard', () => {
  test('lets a page on 127.0.0.1 load its own files and data: URLs, records them, and saves a screenshot where the test says', async () => {
    const guarded = await openGuardedPage(browser, { screenshotDir: join(screenshotDir, 'quiet') });
    await guarded.page.goto(`${server.origin}/quiet`);

    expect(await guarded.page.evaluate("getComputedStyle(document.querySelector('h1')).color")).toBe('rgb(0, 128, 128)');
    expect(guarded.requests).toEqual(expect.arrayContaining([`${server.origin}/quiet`, `${server.origin}/style.css`]));
    await guarded.assertClean();
    const path = await guarded.screenshot('quiet-page');
    expect(path).toBe(join(screenshotDir, 'quiet', 'quiet-page.png'));
    expect((await readFile(path)).subarray(1, 4).toString()).toBe('PNG');
  });

  test('aborts requests and websockets to other hosts and catches a dialog', async () => {
    const guarded = await openGuardedPage(browser, { screenshotDir });
    await guarded.page.goto(`${server.origin}/noisy`);
    const fetched = await guarded.page.evaluate("fetch('https://203.0.113.7/beacon').then(() => 'reached', () => 'refused')");
    const socket = await guarded.page.evaluate(
      "new Promise((resolve) => { const ws = new WebSocket('ws://203.0.113.7/live'); ws.onopen = () => resolve('open'); ws.onclose = () => resolve('closed'); })",
    );

    expect(fetched).toBe('refused');
    expect(socket).toBe('closed');
    expect(guarded.requests).toEqual(expect.arrayContaining(['http://spend-alerts.invalid/pixel.png', 'https://203.0.113.7/beacon']));
    const problems = guarded.takeProblems();
    expect(problems).toEqual(
      expect.arrayContaining([
        'a request left 127.0.0.1: GET http://spend-alerts.invalid/pixel.png',
        'a request left 127.0.0.1: GET https://203.0.113.7/beacon',
        'a websocket left 127.0.0.1: ws://203.0.113.7/live',
        'a dialog opened (alert): "hello"',
      ]),
    );
    await guarded.assertClean();
  });

  test('catches a script that ran, a console error and an uncaught exception', async () => {
    const guarded = await openGuardedPage(browser, { screenshotDir });
    await guarded.page.goto(`${server.origin}/pwned`);

    const failure = await guarded.assertClean().then(() => 'clean', (error: Error) => error.message);
    expect(failure).toContain('a script ran: window.__pwned is 1');
    // the payload's <img src=x> asked 127.0.0.1 for /x, which is a 404
    expect(failure).toMatch(/console error: Failed to load resource: .*404/);
    expect(failure).toContain('uncaught exception: boom');
    expect(server.paths).toContain('/x');

    guarded.takeProblems();
    await guarded.page.goto('about:blank');
    await guarded.assertClean();
  });

  test.fails('fails the test that opened it when a problem is left at its end', async () => {
    const guarded = await openGuardedPage(browser, { screenshotDir });
    await guarded.page.goto(`${server.origin}/noisy`);
    expect(guarded.problems.length).toBeGreaterThan(0);
  });

  test.each([
    ['http://127.0.0.1:8080/report.html', true],
    ['ws://localhost:3000/', true],
    ['data:image/png;base64,AAAA', true],
    ['about:blank', true],
    ['file:///etc/passwd', false],
    ['https://example.com/', false],
    ['http://127.0.0.1.nip.io/', false],
    ['http://localhost.example.com/', false],
    ['http://[::1]/', false],
    ['javascript:alert(1)', false],
  ])('%s stays local: %s', (url, local) => {
    expect(staysLocal(url)).toBe(local);
  });
});

describe('npm run test:browser', () => {
  test('fails, naming what to install, when chromium is missing', async () => {
    const result = await new Promise<{ code: number; output: string }>((resolve) => {
      execFile(
        process.execPath,
        ['node_modules/vitest/vitest.mjs', 'run', '--config', 'vitest.browser.config.ts'],
        { cwd: REPO, env: { ...process.env, CHROMIUM_PATH: '/nonexistent/chromium' }, timeout: 50_000 },
        (error, stdout, stderr) => resolve({ code: error === null ? 0 : typeof error.code === 'number' ? error.code : -1, output: stdout + stderr }),
      );
    });

    expect(result.code).toBe(1);
    expect(result.output).toContain('the browser tests need chromium at /nonexistent/chromium (CHROMIUM_PATH overrides it)');
    expect(result.output).toContain('apt-get install -y chromium');
  });
});
