// The status page as a pure function: state, configuration and the cache's daily spend → HTML.
// Traced values are hostile everywhere they appear (table cells, SVG text and attributes, links);
// days the cache doesn't hold are "no data"; the bars show spend against the level.
import { describe, expect, test } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import type { Config } from '../../src/config/schema.js';
import { dailySpend, type HourSlices } from '../../src/core/daily-spend.js';
import { evaluateAlert } from '../../src/core/evaluate.js';
import { emptyState, seriesStateKey, type State } from '../../src/core/ledger.js';
import type { Contributor } from '../../src/core/notification.js';
import { renderStatusPage, SERIES_SHOWN, type StatusPageData } from '../../src/render/status-page.js';
import { createRedactor } from '../../src/util/redact.js';
import { notification } from '../channels/fixtures.js';

const NOW = new Date('2026-11-24T15:00:00.000Z');
const HOUR = 3_600_000;
const HOSTILE = `<img src=x onerror=alert(1)>"'&</script><script>alert(2)</script>`;
const ESCAPED = '&lt;img src=x onerror=alert(1)&gt;&quot;&#39;&amp;&lt;/script&gt;&lt;script&gt;alert(2)&lt;/script&gt;';

async function config(alerts: string): Promise<Config> {
  const text = `langfuse:
  publicKey: pk-lf-page
  secretKey: sk-lf-page-secret
channels:
  ops:
    type: slack
    webhookUrl: https://hooks.slack.com/services/T0/B0/slack-page-token
alerts:
${alerts}`;
  return (await loadConfig({ path: 'alerts.yaml', text, env: {}, needs: 'all' })).config;
}

const MODELS = `  - name: per-model
    window: day
    groupBy: model
    threshold: { warning: 8, critical: 10 }
    channels: [ops]
`;

function page(overrides: Partial<StatusPageData> & Pick<StatusPageData, 'alerts'>): string {
  return renderStatusPage({
    now: NOW,
    timezone: 'UTC',
    outcomes: new Map(),
    channels: [{ name: 'ops', type: 'slack' }],
    state: emptyState(),
    explained: new Map(),
    daily: [],
    readiness: 'ok: last successful evaluation at 2026-11-24T15:00:00.000Z',
    redact: (text) => text,
    ...overrides,
  });
}

/** The per-model alert evaluated by the core over `spend` per model. */
async function evaluated(spend: ReadonlyArray<[string | null, number]>) {
  const { alerts } = await config(MODELS);
  const alert = alerts[0]!;
  const byGroup = new Map(spend);
  const series = evaluateAlert(alert, { current: { total: [...byGroup.values()].reduce((a, b) => a + b, 0), byGroup }, baselines: [] }, { now: NOW, timezone: 'UTC' });
  return { alerts, outcomes: new Map([[alert.name, { at: NOW.toISOString(), series }]]), series };
}

describe('escaping', () => {
  test('a hostile model name stays text in the alert table, the bar\'s SVG title and aria-label, firing series, contributors and pending deliveries', async () => {
    const { alerts, outcomes } = await evaluated([[HOSTILE, 12], ['gpt-4o', 3]]);
    const group = { model: HOSTILE };
    const key = seriesStateKey('per-model', `model=${HOSTILE}`);
    const state: State = {
      ...emptyState(),
      series: {
        [key]: { alert: 'per-model', seriesKey: `model=${HOSTILE}`, group, period: '2026-11-24T00:00:00.000Z', notified: ['critical'], open: false, lastValue: 12, updatedAt: NOW.toISOString() },
      },
      outbox: {
        n1: {
          notification: notification({ id: 'n1', alert: 'per-model', group }),
          createdAt: NOW.toISOString(),
          expiresAt: null,
          channels: { ops: { attempts: 1, nextAttemptAt: NOW.toISOString(), lastError: `HTTP 500 for ${HOSTILE}` } },
        },
      },
    };
    const contributor: Contributor = {
      dimension: 'userId',
      value: HOSTILE,
      spend: 12,
      share: 1,
      baseline: null,
      change: null,
      url: `https://cloud.langfuse.com/project/p/users/${encodeURIComponent(HOSTILE)}"onmouseover="alert(3)`,
    };
    const explained = new Map([[key, { contributors: [contributor, { ...contributor, dimension: 'traceName' as const }], contributorsMissing: [] }]]);
    const html = page({ alerts, outcomes, state, explained });

    // nothing of it is markup: no tag, no attribute it could open
    expect(html).not.toMatch(/<img|<\/?script|"onmouseover|onerror=alert\(1\)>/i);
    expect(html).toContain(`<td>model=${ESCAPED}</td>`);
    expect(html).toContain(`<title>model=${ESCAPED}: $12.00 of $10.00</title>`);
    expect(html).toContain(`aria-label="model=${ESCAPED}: $12.00 of $10.00"`);
    expect(html).toContain(`<h3>per-model <span class="muted">model=${ESCAPED}</span></h3>`);
    expect(html).toContain(`>${ESCAPED}</a> $12.00 (100%)`);
    expect(html).toContain('&quot;onmouseover=&quot;alert(3)"');
    expect(html).toContain(`<td>per-model (model=${ESCAPED}): firing critical</td>`);
    expect(html).toContain(`HTTP 500 for ${ESCAPED}`);
  });

  test('control characters in a traced value are shown escaped, and secrets in errors are redacted', async () => {
    const { alerts, outcomes } = await evaluated([['gpt\u001b[31m\r\nBcc: x', 12]]);
    const state: State = {
      ...emptyState(),
      evaluations: [{ at: NOW.toISOString(), ok: false, alertsEvaluated: 1, firing: 0, notificationsSent: 0, errors: ['ops: HTTP 403 from https://hooks.slack.com/services/T0/B0/slack-page-token'] }],
      channels: { ops: { failures: 2, since: NOW.toISOString(), lastError: 'HTTP 403 slack-page-token', noticeSent: false } },
    };
    const html = page({ alerts, outcomes, state, redact: createRedactor(['slack-page-token']) });
    expect(html).toContain('<td>model=gpt\\x1b[31m\\x0d\\x0aBcc: x</td>');
    expect(html).not.toContain('slack-page-token');
    expect(html).toContain('https://hooks.slack.com/services/T0/B0/[REDACTED]');
  });
});

describe('the alerts and their bars', () => {
  test('each series shows its spend against its highest level, most spend first, as a bar of that share', async () => {
    const { alerts, outcomes } = await evaluated([['cheap', 2], ['gpt-4o', 12], ['claude', 9]]);
    const html = page({ alerts, outcomes });
    const rows = [...html.matchAll(/<tr><td>(model=[^<]+)<\/td>.*?data-share="([\d.]+)".*?<td class="num">([^<]+)<\/td><td><span class="(\w+)">/g)].map((m) => m.slice(1));
    expect(rows).toEqual([
      ['model=gpt-4o', '1.2000', '$12.00 of $10.00', 'bad'],
      ['model=claude', '0.9000', '$9.00 of $10.00', 'warn'],
      ['model=cheap', '0.2000', '$2.00 of $10.00', 'ok'],
    ]);
    // the fill: 240 px × the share of the larger of spend and level
    expect(html).toMatch(/<rect width="240" height="14" fill="#b3261e" data-share="1.2000"\/><rect x="199"/);
    expect(html).toMatch(/<rect width="216" height="14" fill="#b26a00" data-share="0.9000"\/>/);
  });

  test(`at most ${SERIES_SHOWN} series per alert are listed, the rest counted`, async () => {
    const { alerts, outcomes } = await evaluated(Array.from({ length: SERIES_SHOWN + 4 }, (_, i): [string, number] => [`m${i}`, i + 1]));
    const html = page({ alerts, outcomes });
    expect(html.match(/<tr><td>model=m\d+<\/td>/g)).toHaveLength(SERIES_SHOWN);
    expect(html).toContain(`<td>model=m${SERIES_SHOWN + 3}</td>`);
    expect(html).not.toContain('<td>model=m0</td>');
    expect(html).toContain('and 4 more series.');
  });

  test('an alert not evaluated yet, and one that could not be read, say so', async () => {
    const { alerts } = await config(`${MODELS}  - name: total
    window: 24h
    threshold: 5
    channels: [ops]
`);
    const html = page({ alerts, outcomes: new Map([['total', { at: NOW.toISOString(), error: 'Langfuse answered HTTP 503' }]]) });
    expect(html).toMatch(/<h3>per-model<\/h3>\n<p class="muted">[^\n]*\n<p class="muted">Not evaluated since the daemon started.<\/p>/);
    expect(html).toContain('Could not be read (evaluated 2026-11-24 15:00 UTC): Langfuse answered HTTP 503');
  });

  test('the page names channels and their types, never their addresses', async () => {
    const { alerts, outcomes } = await evaluated([['gpt-4o', 1]]);
    const html = page({ alerts, outcomes });
    expect(html).toContain('<tr><td>ops</td><td>slack</td><td><span class="ok">ok</span></td></tr>');
    expect(html).not.toMatch(/hooks\.slack\.com|pk-lf-page|sk-lf-page-secret/);
  });

  test('the stable ids a browser test finds the sections by', async () => {
    const html = page({ alerts: (await config(MODELS)).alerts });
    for (const id of ['alerts', 'daily-chart', 'firing', 'evaluations', 'pending', 'health']) expect(html).toContain(`<section id="${id}">`);
    expect(html).not.toMatch(/<script|<link|src=|@import|url\(/i);
  });
});

/** `hours` of $1 each, from `from` on, uncut. */
function hoursOf(from: Date, count: number, usd = 1): Map<number, HourSlices> {
  return new Map(Array.from({ length: count }, (_, i): [number, HourSlices] => [from.getTime() + i * HOUR, { cuts: [0], spend: [usd] }]));
}

describe('daily spend', () => {
  test('days the hours fully cover are summed, the others are "no data"; today counts to its last held hour', () => {
    // held: all of 2026-11-22 and 2026-11-23 but its last hour, today to 14:00
    const hours = new Map([...hoursOf(new Date('2026-11-22T00:00:00Z'), 47), ...hoursOf(new Date('2026-11-24T00:00:00Z'), 14, 0.5)]);
    const days = dailySpend(hours, NOW, 'UTC', 4);
    expect(days.map((d) => [d.day, d.spend, d.through ?? null])).toEqual([
      ['2026-11-21', null, null],
      ['2026-11-22', 24, null],
      ['2026-11-23', null, null],
      ['2026-11-24', 7, '2026-11-24T14:00:00.000Z'],
    ]);
  });

  test('a day in a zone off the whole hour counts the slices cut at its midnight, and is no data without the cut', () => {
    // Asia/Kolkata (+05:30): 2026-11-23 runs from 18:30 UTC on the 22nd to 18:30 UTC on the 23rd
    const from = new Date('2026-11-22T18:00:00Z');
    const cut = new Map([...hoursOf(from, 25)].map(([hour, slices]): [number, HourSlices] => [hour, { cuts: [0, 30 * 60_000], spend: [0.25, 0.75] }]));
    const [day] = dailySpend(cut, new Date('2026-11-24T06:00:00Z'), 'Asia/Kolkata', 2);
    // the 18:00 hour's second half, 23 whole hours, the 18:00 hour's first half on the 23rd
    expect(day).toMatchObject({ day: '2026-11-23', from: '2026-11-22T18:30:00.000Z', spend: 0.75 + 23 + 0.25 });
    const [uncut] = dailySpend(hoursOf(from, 25), new Date('2026-11-24T06:00:00Z'), 'Asia/Kolkata', 2);
    expect(uncut).toMatchObject({ day: '2026-11-23', spend: null });
  });

  test('the chart draws "no data" days as outlines, not as $0 bars, and lists every day', async () => {
    const hours = hoursOf(new Date('2026-11-23T00:00:00Z'), 24, 2);
    const html = page({ alerts: (await config(MODELS)).alerts, daily: dailySpend(hours, NOW, 'UTC', 30) });
    expect(html.match(/data-nodata="true"/g)).toHaveLength(29);
    expect(html).toContain('<title>2026-11-22: no data</title>');
    expect(html).toContain('<title>2026-11-23: $48.00</title>');
    expect(html).toContain('<tr><td>2026-11-24</td><td class="num">no data</td></tr>');
    expect(html).toContain('(29 of 30 here)');
    // the one known day is the tallest bar: the plot's full height
    expect(html).toMatch(/<rect x="[\d.]+" y="20.0" width="[\d.]+" height="136.0" fill="#2f6fb0" data-day="2026-11-23">/);
  });
});
