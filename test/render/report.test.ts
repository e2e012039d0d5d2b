// The report's renderers on a hand-made report with hostile values: the table's 80 columns and its
// colour switch, the csv's quoting and formula neutralising, the html's escaping in SVG.
import { describe, expect, test } from 'vitest';
import type { Report } from '../../src/core/report.js';
import { renderReportCsv } from '../../src/render/report/csv.js';
import { renderReportHtml } from '../../src/render/report/html.js';
import { renderReportTable, sparkline } from '../../src/render/report/table.js';

const LONG = 'x'.repeat(300);
const report: Report = {
  window: { from: '2026-11-25T10:17:00.000Z', to: '2026-12-02T10:17:00.000Z', timezone: 'UTC' },
  currency: 'USD',
  total: 1234567.89,
  previousTotal: 1000,
  daily: [
    { date: '2026-11-25', cost: 0 },
    { date: '2026-11-26', cost: 7 },
    { date: '2026-11-27', cost: 3.5 },
  ],
  byModel: [
    { model: `${LONG}\x1b]8;;https://evil\x07`, cost: 999999.99, inputTokens: 123456789, outputTokens: 9876543 },
    { model: null, cost: 0, inputTokens: 5000, outputTokens: 1 },
  ],
  byTraceName: [
    { traceName: '=SUM(A1:A9)', cost: 2 },
    { traceName: '+1', cost: 1 },
    { traceName: '-1', cost: 1 },
    { traceName: '@cmd', cost: 1 },
    { traceName: 'a "quoted", name\nwith a break', cost: 1 },
  ],
  byEnvironment: [{ environment: null, cost: 1 }],
  topTraces: [{ traceId: LONG, traceName: LONG, userId: LONG, cost: 1 }],
  topUsers: [{ userId: '<b>u</b>', cost: 1 }],
  budgets: [{ alert: 'model-month', group: { model: LONG }, window: 'month', spend: 1234567.5, threshold: 2000000, forecast: 9999999.99 }],
};

describe('table', () => {
  test('every line fits 80 columns, whatever the names and amounts', () => {
    const text = renderReportTable(report, { colour: false });
    for (const line of text.trimEnd().split('\n')) expect([...line].length).toBeLessThanOrEqual(80);
    expect(text).not.toContain('\x1b');
    expect(text).not.toContain('\x07');
    expect(text).toContain('(none)');
  });

  test('colour is ANSI bold headings when asked for, and the lines still fit without the escapes', () => {
    const text = renderReportTable(report, { colour: true });
    expect(text).toContain('\x1b[1mTop users\x1b[0m');
    for (const line of text.trimEnd().split('\n')) expect([...line.replace(/\x1b\[\d+m/g, '')].length).toBeLessThanOrEqual(80);
  });

  test('the sparkline runs from the lowest block at $0 to the full block at the highest day', () => {
    expect(sparkline([0, 7, 3.5])).toBe('▁█▅');
    expect(sparkline([0, 0])).toBe('▁▁');
  });
});

describe('csv', () => {
  test('formula-like names start with a quote, fields with commas, quotes or breaks are quoted', () => {
    const lines = renderReportCsv(report).split('\r\n');
    expect(lines[0]).toBe('section,name,date,cost,inputTokens,outputTokens');
    expect(lines).toContain("traceName,'=SUM(A1:A9),,2,,");
    expect(lines).toContain("traceName,'+1,,1,,");
    expect(lines).toContain("traceName,'-1,,1,,");
    expect(lines).toContain("traceName,'@cmd,,1,,");
    expect(renderReportCsv(report)).toContain('traceName,"a ""quoted"", name\nwith a break",,1,,\r\n');
    expect(lines).toContain('total,,,1234567.89,,');
    expect(lines).toContain('model,,,0,5000,1');
  });
});

describe('html', () => {
  test('traced values are escaped in tables and inside the SVG charts', () => {
    const html = renderReportHtml({ ...report, byModel: [{ model: '</title><script>alert(1)</script>', cost: 1, inputTokens: 1, outputTokens: 1 }] });
    expect(html).not.toMatch(/<script/i);
    expect(html).toContain('&lt;/title&gt;&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(html).toContain('&lt;b&gt;u&lt;/b&gt;');
    const modelChart = /<svg id="model-chart".*?<\/svg>/s.exec(html)?.[0] ?? '';
    expect(modelChart).toContain('<title>&lt;/title&gt;&lt;script&gt;alert(1)&lt;/script&gt;: $1.00</title>');
  });
});
