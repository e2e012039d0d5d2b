// The status page of `spend-alerts run`, over real sockets: the process against the fake Langfuse,
// Slack, webhook and SMTP receivers (the e2e harness's peers and secrets). GET / shows the alerts,
// the daily chart from the history cache, firing series with contributors — escaped — and costs
// no Langfuse request; --no-ui and SPEND_ALERTS_UI=off turn it off.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { freePort, isEvaluation, startCli, type CliProcess } from '../support/cli-process.js';
import { CHANNELS_YAML, SECRETS, startPeers, type Peers } from '../support/harness.js';
import { spend } from '../support/observations.js';

const HOSTILE = '<img src=x onerror=alert(1)></script><script>alert(2)</script>';
const HOUR = 3_600_000;
const DAY = 24 * HOUR;

// at the middle of whole UTC days before today, so each day's sum is known (days 2 to 5 are closed
// at any time of day, whatever the lag margin); and today's spend earlier today
const now = Date.now();
const todayStart = Math.floor(now / DAY) * DAY;
const earlierToday = new Date(now - Math.min(HOUR, (now - todayStart) / 2));
const DAYS_AGO: ReadonlyArray<[number, number]> = [
  [2, 7],
  [3, 1.5],
  [5, 4],
];
const OBSERVATIONS = [
  ...DAYS_AGO.map(([days, usd]) => spend(new Date(todayStart - days * DAY + 12 * HOUR), usd, { model: 'gpt-4o' })),
  spend(earlierToday, 6, { model: HOSTILE, userId: HOSTILE, traceName: HOSTILE }),
  spend(earlierToday, 2, { model: 'gpt-4o' }),
];
const dayOf = (days: number): string => new Date(todayStart - days * DAY).toISOString().slice(0, 10);

// A daily total (no filters, no groupBy) fires; a relative alert per model looks back 8 days, so
// the history cache holds a week of the unfiltered filter set's hours.
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
let daemon: CliProcess | undefined;

beforeEach(async () => {
  peers = await startPeers(OBSERVATIONS);
  dir = await mkdtemp(join(tmpdir(), 'spend-alerts-page-'));
  await writeFile(join(dir, 'alerts.yaml'), ALERTS);
});

afterEach(async () => {
  await daemon?.kill();
  daemon = undefined;
  await peers.close();
  await rm(dir, { recursive: true, force: true });
});

async function run(args: readonly string[] = [], env: Record<string, string> = {}): Promise<number> {
  const port = await freePort();
  daemon = startCli({
    args: ['run', '--config', join(dir, 'alerts.yaml'), '--state-dir', join(dir, 'state'), '--port', String(port), '--host', '127.0.0.1', ...args],
    env: { ...peers.env, ...env },
    cwd: dir,
  });
  await daemon.waitForLog((line) => line.msg.startsWith('spend-alerts run:'), 'the start');
  return port;
}

describe('the status page of run', () => {
  test('GET / shows the alerts, the chart, firing series with contributors, escaped, without a secret and without a Langfuse request', async () => {
    const port = await run();
    await daemon!.waitForLog(isEvaluation, 'the first evaluation', 30_000);
    const langfuseRequests = peers.fake.requests.length;

    const response = await fetch(`http://127.0.0.1:${port}/`);
    const html = await response.text();
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(response.headers.get('content-security-policy')).toContain("default-src 'none'");
    // a second look costs nothing either
    expect((await fetch(`http://127.0.0.1:${port}/`)).status).toBe(200);
    expect(peers.fake.requests.length).toBe(langfuseRequests);

    expect(html).toContain('<h3>daily</h3>');
    expect(html).toContain('<h3>spike</h3>');
    // today's $8 against the $5 threshold, as a bar
    expect(html).toContain('<title>total: $8.00 of $5.00</title>');
    // the daily chart: days the cache holds, summed from the data set; today so far
    for (const [days, usd] of DAYS_AGO) expect(html).toContain(`<tr><td>${dayOf(days)}</td><td class="num">$${usd.toFixed(2)}</td></tr>`);
    expect(html).toContain(`<tr><td>${dayOf(4)}</td><td class="num">$0.00</td></tr>`);
    expect(html).toContain(`<tr><td>${dayOf(29)}</td><td class="num">no data</td></tr>`);
    // the firing total and its contributors, the hostile model, trace and user as text
    expect(html).toMatch(/<section id="firing">[\s\S]*<h3>daily<\/h3>[\s\S]*Top models: <a href="[^"]+">&lt;img src=x onerror=alert\(1\)&gt;&lt;\/script&gt;/);
    expect(html).toMatch(/Top users: <a href="[^"]+">&lt;img src=x/);
    expect(html).not.toMatch(/<img|<\/?script/i);
    expect(html).toMatch(/<section id="evaluations">[\s\S]*<td class="ok">ok<\/td><td>2<\/td>/);
    expect(html).toContain('<tr><td>finance-mail</td><td>email</td><td><span class="ok">ok</span></td></tr>');
    for (const secret of Object.values(SECRETS)) expect(html).not.toContain(secret);
  }, 60_000);

  test('a series that keeps firing keeps the contributors its notification listed, at later evaluations that notify nothing', async () => {
    await writeFile(join(dir, 'alerts.yaml'), ALERTS.replace('schedule: "0 0 1 1 *"', 'schedule: "*/2 * * * * *"'));
    const port = await run();
    const [first, second] = await daemon!.waitForLogs(isEvaluation, 2, 'two evaluations', 30_000);
    expect([first!['notificationsSent'], second!['notificationsSent']]).toEqual([1, 0]);
    const html = await (await fetch(`http://127.0.0.1:${port}/`)).text();
    expect(html).toMatch(/<section id="firing">[\s\S]*<h3>daily<\/h3>[\s\S]*Top models: <a href="[^"]+">&lt;img src=x/);
  }, 60_000);

  test('--no-ui and SPEND_ALERTS_UI=off turn it off: / is not found, the other endpoints answer', async () => {
    for (const [args, env] of [
      [['--no-ui'], {}],
      [[], { SPEND_ALERTS_UI: 'off' }],
    ] as const) {
      const port = await run(args, env);
      const page = await fetch(`http://127.0.0.1:${port}/`);
      expect(page.status).toBe(404);
      expect(await page.text()).toBe('not found: try /healthz, /readyz or /metrics\n');
      expect((await fetch(`http://127.0.0.1:${port}/healthz`)).status).toBe(200);
      await daemon!.kill();
    }
  }, 60_000);
});
