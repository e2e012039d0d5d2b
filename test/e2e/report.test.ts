// `spend-alerts report` over real sockets on the fake Langfuse, with a data set whose every number
// is worked out by hand below: totals, daily rows in UTC and in Asia/Kolkata (partial first and
// last days, $0 days, a midnight at half past a UTC hour), tokens by model, the top trace, the
// budgets, the csv, the table's width, the html's self-containment, and the requests it costs.
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { main } from '../../src/cli/main.js';
import { startFakeLangfuse, type FakeLangfuse, type FakeObservation } from '../../tools/fake-langfuse/server.js';
import { SECRETS } from '../support/harness.js';
import { spend } from '../support/observations.js';

const NOW = new Date('2026-12-02T10:17:00.000Z');
const HOSTILE_MODEL = '<img src=x onerror=alert(1)>';
const HOSTILE_USER = '</script><script>alert(1)</script>';
const FORMULA_TRACE_NAME = "=cmd|' /C calc'!A0";
const ESCAPE_TRACE_NAME = 'chat\x1b[2J';

function generation(at: string, usd: number, tokens: [number, number], fields: Parameters<typeof spend>[2], traceId?: string): FakeObservation {
  const observation = spend(at, usd, fields);
  return { ...observation, ...(traceId ? { traceId } : {}), inputTokens: tokens[0], outputTokens: tokens[1] };
}

const OBSERVATIONS: FakeObservation[] = [
  generation('2026-11-18T10:00:00Z', 0.7, [1, 1], {}), // before the previous span: in nothing
  generation('2026-11-25T09:00:00Z', 3, [1, 1], {}), // the previous span (and the day budget's baseline)
  generation('2026-11-25T10:30:00Z', 1.5, [100, 50], { traceName: ESCAPE_TRACE_NAME, userId: 'u-1' }),
  generation('2026-11-27T12:00:00Z', 2, [200, 80], { model: 'claude-sonnet-4-5', environment: 'staging', traceName: 'research_agent', userId: 'u-dave' }, 'loop-1'),
  // 23:40 and 00:15 in Kolkata, in one UTC hour
  generation('2026-11-27T18:10:00Z', 0.6, [10, 5], { traceName: 'research_agent', userId: 'u-dave' }, 'loop-1'),
  generation('2026-11-27T18:45:00Z', 0.4, [20, 10], { userId: null }),
  generation('2026-12-02T10:05:00Z', 4, [1000, 300], { model: HOSTILE_MODEL, traceName: FORMULA_TRACE_NAME, userId: HOSTILE_USER }),
  generation('2026-12-02T10:20:00Z', 0.25, [1, 1], {}), // after now
];

const ALERTS = `
alerts:
  - name: daily-budget
    window: day
    threshold: 5
    channels: [terminal]
  - name: model-month
    window: month
    groupBy: model
    threshold: { warning: 10, critical: 20 }
    channels: [terminal]
  - name: rolling
    window: 24h
    threshold: 100
    channels: [terminal]
`;
const ROLLING_ONLY = `
alerts:
  - name: rolling
    window: 24h
    threshold: 100
    channels: [terminal]
`;

let fake: FakeLangfuse;
beforeAll(async () => {
  fake = await startFakeLangfuse({ observations: OBSERVATIONS, publicKey: SECRETS.publicKey, secretKey: SECRETS.secretKey });
});
afterAll(async () => {
  await fake.close();
});

async function report(
  args: string[],
  options: { alerts?: string; timezone?: string; langfuseYaml?: string; tty?: boolean; env?: Record<string, string>; dir?: string; server?: FakeLangfuse; now?: Date } = {},
) {
  const server = options.server ?? fake;
  const dir = options.dir ?? (await mkdtemp(join(tmpdir(), 'spend-alerts-report-')));
  const config = [
    options.langfuseYaml ?? '',
    `timezone: ${options.timezone ?? 'UTC'}`,
    'channels:\n  terminal:\n    type: console',
    options.alerts ?? ALERTS,
  ].join('\n');
  await writeFile(join(dir, 'alerts.yaml'), config);
  let stdout = '';
  let stderr = '';
  const out = Object.assign(new PassThrough().on('data', (chunk: Buffer) => (stdout += chunk.toString())), { isTTY: options.tty ?? false });
  const err = new PassThrough().on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const env = { LANGFUSE_BASE_URL: server.url, LANGFUSE_PUBLIC_KEY: SECRETS.publicKey, LANGFUSE_SECRET_KEY: SECRETS.secretKey, LOG_LEVEL: 'warn', ...options.env };
  const before = server.requests.length;
  const code = await main(['report', ...args], { stdout: out, stderr: err, env, cwd: dir }, () => options.now ?? NOW);
  const metrics = server.requests.slice(before).filter((r) => /\/metrics\/?$/.test(r.path)).length;
  const cleanup = () => rm(dir, { recursive: true, force: true });
  return { code, stdout, stderr, metrics, dir, cleanup };
}

interface ReportJson {
  window: { from: string; to: string; timezone: string };
  currency: string;
  total: number;
  previousTotal: number;
  daily: Array<{ date: string; cost: number }>;
  byModel: Array<{ model: string | null; cost: number; inputTokens: number; outputTokens: number }>;
  byTraceName: Array<{ traceName: string | null; cost: number }>;
  byEnvironment: Array<{ environment: string | null; cost: number }>;
  topTraces: Array<{ traceId: string; traceName: string | null; userId: string | null; cost: number }>;
  topUsers: Array<{ userId: string | null; cost: number }>;
  budgets: Array<{ alert: string; group: Record<string, string | null>; window: string; spend: number; threshold: number; forecast: number | null }>;
}

const near = (value: number, expected: number) => expect(value).toBeCloseTo(expected, 9);

describe('report --format json', () => {
  test('7d in UTC: totals, daily rows with partial ends and $0 days, tokens by model, top trace, budgets', async () => {
    const run = await report(['--format', 'json']);
    await run.cleanup();
    expect(run.code).toBe(0);
    const json = JSON.parse(run.stdout) as ReportJson;
    expect(json.window).toEqual({ from: '2026-11-25T10:17:00.000Z', to: NOW.toISOString(), timezone: 'UTC' });
    expect(json.currency).toBe('USD');
    near(json.total, 1.5 + 2 + 0.6 + 0.4 + 4);
    near(json.previousTotal, 3);
    expect(json.daily.map((d) => d.date)).toEqual(['2026-11-25', '2026-11-26', '2026-11-27', '2026-11-28', '2026-11-29', '2026-11-30', '2026-12-01', '2026-12-02']);
    const daily = [1.5, 0, 2 + 0.6 + 0.4, 0, 0, 0, 0, 4];
    json.daily.forEach((day, i) => near(day.cost, daily[i]!));
    expect(json.byModel).toEqual([
      { model: HOSTILE_MODEL, cost: 4, inputTokens: 1000, outputTokens: 300 },
      { model: 'gpt-4o', cost: 2.5, inputTokens: 130, outputTokens: 65 },
      { model: 'claude-sonnet-4-5', cost: 2, inputTokens: 200, outputTokens: 80 },
    ]);
    expect(json.byEnvironment).toEqual([
      { environment: 'production', cost: 6.5 },
      { environment: 'staging', cost: 2 },
    ]);
    expect(json.topTraces[0]).toEqual({ traceId: expect.any(String), traceName: FORMULA_TRACE_NAME, userId: HOSTILE_USER, cost: 4 });
    expect(json.topTraces[1]).toEqual({ traceId: 'loop-1', traceName: 'research_agent', userId: 'u-dave', cost: 2.6 });
    expect(json.topUsers).toEqual([
      { userId: HOSTILE_USER, cost: 4 },
      { userId: 'u-dave', cost: 2.6 },
      { userId: 'u-1', cost: 1.5 },
      { userId: null, cost: 0.4 },
    ]);
    // day: today 00:00–10:17 holds $4; of the 7 previous days 11-25 ($3 by 10:17 of $4.50) and
    // 11-27 ($0 by 10:17 of $3) had spend: share 3 / 7.5, forecast 4 / 0.4 = 10.
    // month: December holds the hostile model's $4 only, and no earlier month has it: no forecast.
    expect(json.budgets).toEqual([
      { alert: 'daily-budget', group: {}, window: 'day', spend: 4, threshold: 5, forecast: 10 },
      // Langfuse's root rows (no model, $0) are a series of a groupBy-model alert too
      { alert: 'model-month', group: { model: null }, window: 'month', spend: 0, threshold: 20, forecast: null },
      { alert: 'model-month', group: { model: HOSTILE_MODEL }, window: 'month', spend: 4, threshold: 20, forecast: null },
    ]);
  });

  test('Asia/Kolkata: the rows are local dates, the hour holding a local midnight split at it', async () => {
    const run = await report(['--format', 'json', '--top', '2'], { timezone: 'Asia/Kolkata', alerts: ROLLING_ONLY });
    await run.cleanup();
    expect(run.code).toBe(0);
    const json = JSON.parse(run.stdout) as ReportJson;
    // 10:17 UTC is 15:47 in Kolkata: 11-25 15:47 … 12-02 15:47
    expect(json.daily.map((d) => d.date)).toEqual(['2026-11-25', '2026-11-26', '2026-11-27', '2026-11-28', '2026-11-29', '2026-11-30', '2026-12-01', '2026-12-02']);
    const daily = [1.5, 0, 2 + 0.6, 0.4, 0, 0, 0, 4];
    json.daily.forEach((day, i) => near(day.cost, daily[i]!));
    expect(json.byModel.map((m) => m.model)).toEqual([HOSTILE_MODEL, 'gpt-4o']);
    expect(json.topUsers).toHaveLength(2);
    // seven, and one for the one local midnight (18:30 UTC) whose hour holds spend
    expect(run.metrics).toBe(8);
    expect(run.stderr).toContain('report: 8 Langfuse requests');
  });

  test('week: Monday to now, compared with last week to the same point', async () => {
    const run = await report(['--format', 'json', '--window', 'week'], { alerts: ROLLING_ONLY });
    await run.cleanup();
    expect(run.code).toBe(0);
    const json = JSON.parse(run.stdout) as ReportJson;
    // Wednesday 2026-12-02 10:17: the week began Monday 11-30; last week's Monday to Wednesday 10:17 held the $3 of 11-25 09:00
    expect(json.window.from).toBe('2026-11-30T00:00:00.000Z');
    expect(json.daily).toEqual([
      { date: '2026-11-30', cost: 0 },
      { date: '2026-12-01', cost: 0 },
      { date: '2026-12-02', cost: 4 },
    ]);
    expect(json.total).toBe(4);
    expect(json.previousTotal).toBe(3);
  });

  test('Asia/Kolkata, a window that begins inside the hour holding a local midnight: only its own part of that hour counts', async () => {
    // the window is 11-27 18:05 UTC (23:35 in Kolkata) … 12-04 18:05 UTC; local midnight 11-28 00:00 is 18:30 UTC
    const other = await startFakeLangfuse({
      observations: [
        generation('2026-11-27T18:02:00Z', 0.05, [1, 1], {}), // before the window, in the same UTC hour
        generation('2026-11-27T18:20:00Z', 0.2, [1, 1], {}), // 23:50 on 11-27
        generation('2026-11-27T18:40:00Z', 0.3, [1, 1], {}), // 00:10 on 11-28
      ],
      publicKey: SECRETS.publicKey,
      secretKey: SECRETS.secretKey,
    });
    try {
      const run = await report(['--format', 'json'], { timezone: 'Asia/Kolkata', alerts: ROLLING_ONLY, server: other, now: new Date('2026-12-04T18:05:00Z') });
      await run.cleanup();
      expect(run.code).toBe(0);
      const json = JSON.parse(run.stdout) as ReportJson;
      expect(json.daily.slice(0, 2)).toEqual([
        { date: '2026-11-27', cost: 0.2 },
        { date: '2026-11-28', cost: 0.3 },
      ]);
      near(json.total, 0.5);
      expect(json.daily).toHaveLength(8);
    } finally {
      await other.close();
    }
  });

  test('30d on a cold cache costs 7 requests for its own sections, printed on stderr', async () => {
    const run = await report(['--window', '30d', '--format', 'json'], { alerts: ROLLING_ONLY });
    await run.cleanup();
    expect(run.code).toBe(0);
    expect(run.metrics).toBe(7);
    expect(run.stderr).toContain('report: 7 Langfuse requests');
    const json = JSON.parse(run.stdout) as ReportJson;
    expect(json.daily).toHaveLength(31);
    near(json.total, 0.7 + 3 + 1.5 + 2 + 0.6 + 0.4 + 4);
  });
});

describe('report --format csv', () => {
  test('parses to the same numbers; a formula-like name is neutralised', async () => {
    const run = await report(['--format', 'csv']);
    await run.cleanup();
    expect(run.code).toBe(0);
    const rows = parseCsv(run.stdout);
    expect(rows[0]).toEqual(['section', 'name', 'date', 'cost', 'inputTokens', 'outputTokens']);
    const of = (section: string) => rows.filter((row) => row[0] === section);
    near(Number(of('total')[0]![3]), 8.5);
    near(Number(of('previousTotal')[0]![3]), 3);
    expect(of('daily').map((row) => [row[2], Number(row[3])])).toEqual([
      ['2026-11-25', 1.5], ['2026-11-26', 0], ['2026-11-27', 3], ['2026-11-28', 0], ['2026-11-29', 0], ['2026-11-30', 0], ['2026-12-01', 0], ['2026-12-02', 4],
    ]);
    expect(of('model')).toContainEqual(['model', HOSTILE_MODEL, '', '4', '1000', '300']);
    expect(of('traceName')).toContainEqual(['traceName', `'${FORMULA_TRACE_NAME}`, '', '4', '', '']);
    expect(of('budget')).toEqual([
      ['budget', 'daily-budget', '', '4', '', ''],
      ['budget', 'model-month [model=(none)]', '', '0', '', ''],
      ['budget', `model-month [model=${HOSTILE_MODEL}]`, '', '4', '', ''],
    ]);
    expect(of('trace')).toHaveLength(4);
    expect(of('user')).toHaveLength(4);
  });
});

describe('report --format table', () => {
  test('every line fits 80 columns, a sparkline shows the trend, control characters are escaped, no colour off a TTY', async () => {
    const run = await report([]);
    await run.cleanup();
    expect(run.code).toBe(0);
    const lines = run.stdout.trimEnd().split('\n');
    for (const line of lines) expect([...line].length).toBeLessThanOrEqual(80);
    expect(run.stdout).toMatch(/Daily {2}[▁▂▃▄▅▆▇█]{8}$/m);
    expect(run.stdout).toContain('chat\\x1b[2J');
    expect(run.stdout).not.toContain('\x1b');
  });

  test('colour on a TTY unless NO_COLOR is set; traced escape sequences stay escaped either way', async () => {
    const tty = await report([], { alerts: ROLLING_ONLY, tty: true });
    const noColor = await report([], { alerts: ROLLING_ONLY, tty: true, env: { NO_COLOR: '1' } });
    await Promise.all([tty.cleanup(), noColor.cleanup()]);
    expect(tty.stdout).toContain('\x1b[1mTop users\x1b[0m');
    expect(tty.stdout).toContain('chat\\x1b[2J');
    expect(noColor.stdout).not.toContain('\x1b');
    expect(noColor.stdout).toContain('chat\\x1b[2J');
  });
});

describe('report --format html', () => {
  test('one self-contained file, no script, every hostile value escaped, sections findable; --output leaves stdout empty', async () => {
    const run = await report(['--format', 'html', '--output', 'report.html']);
    const html = await readFile(join(run.dir, 'report.html'), 'utf8');
    await run.cleanup();
    expect(run.code).toBe(0);
    expect(run.stdout).toBe('');
    expect(run.stderr).toContain(`report: written to ${join(run.dir, 'report.html')}`);
    expect(html).not.toMatch(/<script/i);
    for (const match of html.matchAll(/<[^>]*?\s(?:src|href)\s*=\s*["']?([^"'\s>]*)/gi)) expect(match[1]).toMatch(/^(#|data:)/);
    expect(html).not.toContain(HOSTILE_MODEL);
    expect(html).not.toContain(HOSTILE_USER);
    expect(html).toContain('&lt;img src=x onerror=alert(1)&gt;');
    expect(html).toContain('&lt;/script&gt;&lt;script&gt;alert(1)&lt;/script&gt;');
    for (const id of ['total', 'daily-chart', 'model-chart', 'top-traces', 'top-users', 'budgets']) expect(html).toContain(`id="${id}"`);
    expect(html).toMatch(/<svg id="daily-chart"[^>]*>.*<rect class="bar"/s);
  });
});

describe('report and a 429', () => {
  test('Langfuse asking to wait fails the report (exit 1) and refuses the next one without a request until then', async () => {
    fake.inject({ kind: 'status', status: 429, retryAfter: 3600, path: '/api/public/v2/metrics' });
    const first = await report(['--format', 'json'], { alerts: ROLLING_ONLY });
    const second = await report(['--format', 'json'], { alerts: ROLLING_ONLY, dir: first.dir });
    await first.cleanup();
    expect(first.code).toBe(1);
    expect(first.stdout).toBe('');
    expect(first.stderr).toContain('report: Langfuse could not be read: Langfuse rate limit reached (HTTP 429');
    expect(second.code).toBe(1);
    expect(second.metrics).toBe(0);
    // an hour after 10:17 UTC
    expect(second.stderr).toContain('report: needs 7 requests; the budget admits 0 until 11:17 (Langfuse asked to wait (HTTP 429) until 2026-12-02T11:17:00.000Z)');
  });
});

describe('help report', () => {
  test('lists every option of report with its default', async () => {
    let stdout = '';
    const out = new PassThrough().on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    const code = await main(['help', 'report'], { stdout: out, stderr: new PassThrough().resume(), env: {}, cwd: tmpdir() });
    expect(code).toBe(0);
    expect(stdout).toMatch(/^Usage: spend-alerts report \[options\]$/m);
    expect(stdout).toMatch(/^ {2}--window WINDOW {6}7d \| 30d .*\(default 7d\)$/m);
    expect(stdout).toMatch(/^ {2}--top N {14}.*\(default 10\)$/m);
    expect(stdout).toMatch(/^ {2}--format FORMAT {6}table \| json \| csv \| html \(default table\)$/m);
    expect(stdout).toMatch(/^ {2}--output FILE {8}.*\(default stdout\)$/m);
  });
});

describe('report refusals', () => {
  test('a bad --window is a usage error (exit 2)', async () => {
    const run = await report(['--window', '2d']);
    await run.cleanup();
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('--window must be one of 7d, 30d, day, week, month, got "2d"');
    expect(run.metrics).toBe(0);
  });

  test('--top must be a whole number from 1 to 1000 (exit 2)', async () => {
    const run = await report(['--top', '0']);
    await run.cleanup();
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('--top must be a whole number from 1 to 1000, got "0"');
  });

  test('a request budget that can\'t admit the report: exit 1, nothing sent, the spec\'s message', async () => {
    const run = await report(['--format', 'json'], { langfuseYaml: 'langfuse:\n  requestBudget: { perHour: 5 }', alerts: ROLLING_ONLY });
    await run.cleanup();
    expect(run.code).toBe(1);
    expect(run.stdout).toBe('');
    expect(run.metrics).toBe(0);
    expect(run.stderr).toContain('report: needs 7 requests; the budget admits 5\n');
  });

  test('a budget partly spent by an earlier report: refused until the hour has room again, in the configured zone', async () => {
    const setup = { langfuseYaml: 'langfuse:\n  requestBudget: { perHour: 10 }', alerts: ROLLING_ONLY, timezone: 'Asia/Kolkata' };
    const first = await report(['--format', 'json', '--window', 'day'], setup);
    const second = await report(['--format', 'json', '--window', 'day'], { ...setup, dir: first.dir });
    await first.cleanup();
    expect(first.code).toBe(0);
    expect(first.metrics).toBe(7);
    expect(second.code).toBe(1);
    expect(second.metrics).toBe(0);
    expect(second.stdout).toBe('');
    // 7 of 10 used in the minute 10:17–10:18 UTC: 7 more fit once that minute is out of the last
    // hour, at 11:18 UTC = 16:48 in Kolkata
    expect(second.stderr).toMatch(/report: needs 7 requests; the budget admits 3 until 16:48 \(/);
  });
});

/** RFC 4180, CRLF rows: enough of it to read back what the renderer wrote. */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const char = text[i]!;
    if (quoted) {
      if (char === '"' && text[i + 1] === '"') (field += '"'), i++;
      else if (char === '"') quoted = false;
      else field += char;
    } else if (char === '"') quoted = true;
    else if (char === ',') row.push(field), (field = '');
    else if (char === '\r' && text[i + 1] === '\n') row.push(field), rows.push(row), (row = []), (field = ''), i++;
    else field += char;
  }
  return rows;
}
