// The status page of `spend-alerts run` in chromium: the real process, against the fake Langfuse
// and the Slack, webhook and SMTP receivers, evaluates once with a firing total whose top model,
// trace and user are hostile; at http://127.0.0.1:<port>/ the page shows the alerts with their
// bars, the firing series with its contributors, the 30-day chart with its "no data" days, the
// evaluations and the peers' health — the hostile names as literal text, no dialog, no script,
// and no request but the page itself.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Locator } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { freePort, isEvaluation, startCli, type CliProcess } from '../support/cli-process.js';
import { CHANNELS_YAML, startPeers, type Peers } from '../support/harness.js';
import { spend } from '../support/observations.js';
import { launchChromium } from './support/chromium.js';
import { openGuardedPage } from './support/guarded-page.js';
import { SCREENSHOT_DIR } from './support/screenshots.js';

const IMG_MODEL = '<img src=x onerror=alert(1)>';
const SCRIPT_MODEL = '</script><script>alert(1)</script>';
const PWNED_TRACE_NAME = '<img src=x onerror="window.__pwned=1">';
const PWNED_USER = '<svg onload="window.__pwned=2">';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const now = Date.now();
const todayStart = Math.floor(now / DAY) * DAY;
const earlierToday = new Date(now - Math.min(HOUR, (now - todayStart) / 2));
const dayOf = (days: number): string => new Date(todayStart - days * DAY).toISOString().slice(0, 10);

// at noon (UTC) of days before today, so each day's sum is known: days 2 to 5 are closed at any
// time of day; day 4 spent nothing
const DAYS_AGO: ReadonlyMap<number, number> = new Map([
  [2, 7],
  [3, 1.5],
  [5, 4],
]);
// today: $8 against the daily threshold of $5, most of it from the hostile model, trace and user
const OBSERVATIONS = [
  ...[...DAYS_AGO].map(([days, usd]) => spend(new Date(todayStart - days * DAY + 12 * HOUR), usd, { model: 'gpt-4o' })),
  spend(earlierToday, 4, { model: IMG_MODEL, traceName: PWNED_TRACE_NAME, userId: PWNED_USER }),
  spend(earlierToday, 3, { model: SCRIPT_MODEL, traceName: PWNED_TRACE_NAME, userId: PWNED_USER }),
  spend(earlierToday, 1, { model: 'gpt-4o' }),
];

// The daily total fires; the relative alert per model looks back 7 days, so the history cache
// holds a week of the project's hours and the chart has days with data and days without.
const ALERTS = `${CHANNELS_YAML}
schedule: "0 0 1 1 *"
alerts:
  - name: daily
    window: day
    threshold: 5
    channels: [automation]
  - name: spike
    window: day
    groupBy: model
    relative: { factor: 3, baseline: 7 }
    channels: [slack-ops, finance-mail]
`;

let peers: Peers;
let dir: string;
let daemon: CliProcess;
let port: number;
let browser: Browser;

beforeAll(async () => {
  peers = await startPeers(OBSERVATIONS);
  dir = await mkdtemp(join(tmpdir(), 'spend-alerts-page-browser-'));
  await writeFile(join(dir, 'alerts.yaml'), ALERTS);
  port = await freePort();
  daemon = startCli({
    args: ['run', '--config', 'alerts.yaml', '--state-dir', 'state', '--port', String(port), '--host', '127.0.0.1'],
    env: peers.env,
    cwd: dir,
  });
  await daemon.waitForLog(isEvaluation, 'the first evaluation', 30_000);
  browser = await launchChromium();
});

afterAll(async () => {
  await browser?.close();
  await daemon?.kill();
  await peers?.close();
  if (dir !== undefined) await rm(dir, { recursive: true, force: true });
});

const heightOf = async (locator: Locator): Promise<number> => (await locator.boundingBox())?.height ?? 0;

describe('the status page in chromium', () => {
  test('shows alerts, bars, the firing series with contributors, the 30-day chart and health, the hostile names as text, with no dialog, no script and no request but the page', async () => {
    const guarded = await openGuardedPage(browser, { screenshotDir: SCREENSHOT_DIR });
    const { page } = guarded;
    await page.setViewportSize({ width: 1100, height: 800 });
    const url = `http://127.0.0.1:${port}/`;
    await page.goto(url);

    for (const id of ['alerts', 'daily-chart', 'firing', 'evaluations', 'pending', 'health']) {
      const box = await page.locator(`#${id}`).boundingBox();
      expect(box, `#${id} is laid out`).not.toBeNull();
      expect(box!.width * box!.height, `#${id}`).toBeGreaterThan(0);
    }
    expect(await page.locator('#alerts h3').allTextContents()).toEqual(['daily', 'spike']);

    // today's $8 against the $5 threshold: the bar is full, the threshold's mark at 5/8 of it
    const totalBar = page.locator('#alerts svg.bar', { has: page.locator('title', { hasText: 'total: $8.00 of $5.00' }) });
    const [track, fill, mark] = await Promise.all([0, 1, 2].map((i) => totalBar.locator('rect').nth(i).boundingBox()));
    expect(track!.width).toBeGreaterThan(0);
    expect(fill!.width).toBeCloseTo(track!.width, 0);
    expect(mark!.x + mark!.width / 2 - track!.x).toBeCloseTo((track!.width * 5) / 8, -1);

    // the firing total and its contributors: the hostile names as literal text, links to Langfuse
    const firing = page.locator('#firing');
    expect(await firing.locator('h3').first().textContent()).toBe('daily');
    const contributors = (await firing.locator('li').allTextContents()).join('\n');
    for (const name of [IMG_MODEL, SCRIPT_MODEL, PWNED_TRACE_NAME, PWNED_USER]) expect(contributors).toContain(name);
    const links = await firing.locator('a').evaluateAll((anchors) => anchors.map((a) => a.getAttribute('href') ?? ''));
    expect(links.length).toBeGreaterThan(0);
    for (const link of links) expect(link.startsWith(`${peers.fake.url}/project/`), link).toBe(true);

    // 30 days up to today, oldest first; bars as tall as the day's spend; days the cache doesn't
    // hold drawn as "no data", not as $0
    const days = page.locator('#daily-chart svg rect[data-day]');
    const expectedDays = Array.from({ length: 30 }, (_, i) => dayOf(29 - i));
    expect(await days.evaluateAll((rects) => rects.map((rect) => rect.getAttribute('data-day')))).toEqual(expectedDays);
    const day = (back: number) => page.locator(`#daily-chart svg rect[data-day="${dayOf(back)}"]`);
    const [seven, oneAndAHalf, four, zero] = [await heightOf(day(2)), await heightOf(day(3)), await heightOf(day(5)), await heightOf(day(4))];
    expect(seven).toBeGreaterThan(0);
    expect(oneAndAHalf / seven).toBeCloseTo(1.5 / 7, 2);
    expect(four / seven).toBeCloseTo(4 / 7, 2);
    expect(zero).toBe(0);
    expect(await day(4).getAttribute('data-nodata')).toBeNull();
    expect(await day(29).getAttribute('data-nodata')).toBe('true');
    expect(await day(29).locator('title').textContent()).toBe(`${dayOf(29)}: no data`);
    expect(await heightOf(day(29))).toBeGreaterThan(seven * 0.99);

    expect(await page.locator('#evaluations td.ok').count()).toBeGreaterThan(0);
    const health = await page.locator('#health').textContent();
    for (const peer of ['Langfuse', 'slack-ops', 'finance-mail', 'automation', 'terminal']) expect(health).toContain(peer);

    // nothing the names carry became an element, and the page has no script of its own
    expect(await page.locator('img, script, iframe, object, embed, [onload], [onerror]').count()).toBe(0);
    await guarded.assertClean();
    expect(guarded.requests).toEqual([url]);
    await guarded.screenshot('status-page');
  });
});
