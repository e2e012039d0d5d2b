// `spend-alerts report --format html` in chromium: the real command, run against the fake Langfuse
// with hostile model, trace and user names, writes its file; served from 127.0.0.1, the page shows
// every section and both charts, the hostile names as literal text, and it opens no dialog, runs
// no script and asks nothing of any host (nor of 127.0.0.1 beyond the file itself).
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { startFakeLangfuse, type FakeLangfuse } from '../../tools/fake-langfuse/server.js';
import { startCli } from '../support/cli-process.js';
import { spend } from '../support/observations.js';
import { launchChromium } from './support/chromium.js';
import { openGuardedPage } from './support/guarded-page.js';
import { SCREENSHOT_DIR } from './support/screenshots.js';
import { serveStatic, type StaticServer } from './support/static-server.js';

const IMG_MODEL = '<img src=x onerror=alert(1)>';
const SCRIPT_MODEL = '</script><script>alert(1)</script>';
const PWNED_TRACE_NAME = '<img src=x onerror="window.__pwned=1">';
const PWNED_USER = '<svg onload="window.__pwned=2">';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const todayStart = Math.floor(Date.now() / DAY) * DAY;
/** noon (UTC) `days` ago: inside the 7-day window at any time of day */
const noon = (days: number): Date => new Date(todayStart - days * DAY + 12 * HOUR);
const dateOf = (at: Date | number): string => new Date(at).toISOString().slice(0, 10);

// spend (and tokens, for the table's columns) per day ago; day 5 has none
const SPEND: ReadonlyArray<{ days: number; usd: number; tokens: [number, number]; fields: Parameters<typeof spend>[2] }> = [
  { days: 1, usd: 2, tokens: [120_000, 30_000], fields: { model: 'gpt-4o', traceName: 'chat', userId: 'u-ann' } },
  { days: 2, usd: 3, tokens: [400_000, 120_000], fields: { model: 'claude-sonnet-4-5', traceName: PWNED_TRACE_NAME, userId: PWNED_USER } },
  { days: 3, usd: 1.5, tokens: [90_000, 15_000], fields: { model: IMG_MODEL, traceName: 'research_agent', userId: 'u-bob' } },
  { days: 4, usd: 1, tokens: [60_000, 8_000], fields: { model: SCRIPT_MODEL, traceName: 'rag_query', userId: 'u-ann' } },
];

const CONFIG = `langfuse:
  baseUrl: \${LANGFUSE_BASE_URL}
timezone: UTC
channels:
  terminal:
    type: console
alerts:
  - name: daily-budget
    window: day
    threshold: 5
    channels: [terminal]
  - name: model-month
    window: month
    groupBy: model
    threshold: 50
    channels: [terminal]
`;

let fake: FakeLangfuse;
let dir: string;
let browser: Browser;
let server: StaticServer;

beforeAll(async () => {
  fake = await startFakeLangfuse({
    observations: SPEND.map(({ days, usd, tokens: [inputTokens, outputTokens], fields }) => ({ ...spend(noon(days), usd, fields), inputTokens, outputTokens })),
  });
  dir = await mkdtemp(join(tmpdir(), 'spend-alerts-report-browser-'));
  await writeFile(join(dir, 'alerts.yaml'), CONFIG);
  const cli = startCli({
    args: ['report', '--config', 'alerts.yaml', '--state-dir', 'state', '--window', '7d', '--format', 'html', '--output', 'report.html'],
    env: { LANGFUSE_BASE_URL: fake.url, LANGFUSE_PUBLIC_KEY: fake.publicKey, LANGFUSE_SECRET_KEY: fake.secretKey },
    cwd: dir,
  });
  const { code } = await cli.exited;
  if (code !== 0) throw new Error(`report exited ${code}:\n${cli.plainStderr.join('\n')}`);
  server = await serveStatic({ '/report.html': { contentType: 'text/html; charset=utf-8', body: await readFile(join(dir, 'report.html')) } });
  browser = await launchChromium();
});

afterAll(async () => {
  await browser?.close();
  await server?.close();
  await fake?.close();
  if (dir !== undefined) await rm(dir, { recursive: true, force: true });
});

/** The dates [from, to) touches, in UTC (the report's timezone here). */
function datesTouched(from: Date, to: Date): string[] {
  const dates: string[] = [];
  for (let day = Math.floor(from.getTime() / DAY) * DAY; day < to.getTime(); day += DAY) dates.push(dateOf(day));
  return dates;
}

describe('report --format html in chromium', () => {
  test('renders every section and both charts, the hostile names as text, with no dialog, no script and no request but its own', async () => {
    const guarded = await openGuardedPage(browser, { screenshotDir: SCREENSHOT_DIR });
    const { page } = guarded;
    await page.setViewportSize({ width: 1100, height: 800 });
    const url = `${server.origin}/report.html`;
    await page.goto(url);

    for (const id of ['total', 'daily-chart', 'model-chart', 'top-traces', 'top-users', 'budgets']) {
      const box = await page.locator(`#${id}`).boundingBox();
      expect(box, `#${id} is laid out`).not.toBeNull();
      expect(box!.width, `#${id}`).toBeGreaterThan(0);
      expect(box!.height, `#${id}`).toBeGreaterThan(0);
    }
    expect(await page.locator('#total').textContent()).toContain('$7.50');

    // the daily chart: one bar per date of the window the report names (its title), in order,
    // each saying its day's spend; a bar is as tall as its spend
    const [from, to] = [...(await page.title()).matchAll(/\d{4}-\d\d-\d\dT[\d:.]+Z/g)].map((match) => new Date(match[0]));
    expect(to!.getTime() - from!.getTime()).toBe(7 * DAY);
    const dates = datesTouched(from!, to!);
    const spent = new Map(SPEND.map(({ days, usd }) => [dateOf(noon(days)), usd]));
    const bars = page.locator('#daily-chart rect.bar');
    expect(await bars.locator('title').allTextContents()).toEqual(dates.map((date) => `${date}: $${(spent.get(date) ?? 0).toFixed(2)}`));
    const heights = await Promise.all((await bars.all()).map(async (bar) => (await bar.boundingBox())?.height ?? 0));
    dates.forEach((date, i) => (spent.has(date) ? expect(heights[i], date).toBeGreaterThan(0) : expect(heights[i], date).toBe(0)));
    expect(heights[dates.indexOf(dateOf(noon(2)))]).toBeCloseTo(heights[dates.indexOf(dateOf(noon(1)))]! * 1.5, 0);

    // the model chart names every model as text, the hostile ones literally
    const modelLabels = await page.locator('#model-chart text').allTextContents();
    for (const model of ['gpt-4o', 'claude-sonnet-4-5', IMG_MODEL, SCRIPT_MODEL]) expect(modelLabels).toContain(model);
    expect(await page.locator('#top-traces').textContent()).toContain(PWNED_TRACE_NAME);
    expect(await page.locator('#top-users').textContent()).toContain(PWNED_USER);
    expect(await page.locator('#budgets').textContent()).toContain('daily-budget');

    // nothing the names carry became an element, and the file has no script of its own
    expect(await page.locator('img, script, iframe, object, embed, [onload], [onerror]').count()).toBe(0);
    await guarded.assertClean();
    expect(guarded.requests).toEqual([url]);
    expect(server.paths).toEqual(['/report.html']);
    await guarded.screenshot('report');
  });
});
