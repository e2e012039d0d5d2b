// The daemon's status page at `/`: one HTML document from what the worker already holds — the
// configuration, its latest evaluation of each alert, the state (firing series, recent
// evaluations, pending deliveries, peer health) and the daily spend the history cache covers.
// Plain HTML with inline CSS and SVG: no script, no external asset, readable in any browser or
// with curl. Every value passes escapeHtml, traced ones (model, trace and user names) after
// cleanLine; error texts pass the redactor first. It shows channel names and types, never their
// addresses, keys or passwords (the configuration's channel definitions don't reach it).
import type { AlertConfig } from '../core/alert.js';
import type { DaySpend } from '../core/daily-spend.js';
import { seriesStateKey, type PeerHealth, type SeriesState, type State } from '../core/ledger.js';
import type { Contributor, MissingContributors } from '../core/notification.js';
import { ruleOf } from '../core/rules/index.js';
import type { SeriesEvaluation } from '../core/series.js';
import { escapeHtml } from './email.js';
import { formatUsd } from './money.js';
import { cleanLine, contributorLines, formatInstant, groupLabel, type ContributorLine } from './text.js';

/** An alert's latest evaluation by this process: its series, or why it couldn't be read. */
export type AlertOutcome = { readonly at: string; readonly series: readonly SeriesEvaluation[] } | { readonly at: string; readonly error: string };

/** What the latest firing notification of a series said fired it. */
export interface Explained {
  readonly contributors: readonly Contributor[];
  readonly contributorsMissing: readonly MissingContributors[];
}

export interface StatusPageData {
  readonly now: Date;
  readonly timezone: string;
  readonly alerts: readonly AlertConfig[];
  /** per alert name; absent: not evaluated since the daemon started */
  readonly outcomes: ReadonlyMap<string, AlertOutcome>;
  /** the configured channels: name and type only */
  readonly channels: readonly { readonly name: string; readonly type: string }[];
  readonly state: State;
  /** per series (seriesStateKey), its latest firing notification's contributors */
  readonly explained: ReadonlyMap<string, Explained>;
  /** the chart's days, oldest first */
  readonly daily: readonly DaySpend[];
  /** /readyz's line */
  readonly readiness: string;
  /** hides secrets in error texts (peers' words) */
  readonly redact: (text: string) => string;
}

/** Series listed per alert, most spend first; the rest are counted. */
export const SERIES_SHOWN = 10;

const STYLE = `
body{font:14px/1.45 system-ui,sans-serif;margin:1.5rem auto;max-width:60rem;padding:0 1rem;color:#1d1d1f}
h1{font-size:1.4rem;margin:0}h2{font-size:1.15rem;margin:2rem 0 .5rem;border-bottom:1px solid #ddd}h3{font-size:1rem;margin:1.2rem 0 .2rem}
table{border-collapse:collapse;width:100%}th,td{text-align:left;padding:3px 8px 3px 0;vertical-align:top;border-bottom:1px solid #eee}
.muted{color:#666}.ok{color:#1e7d32}.bad{color:#b3261e}.warn{color:#b26a00}
.bar{display:block}.num{white-space:nowrap;font-variant-numeric:tabular-nums}
ul{margin:.2rem 0;padding-left:1.2rem}`;

export function renderStatusPage(data: StatusPageData): string {
  const { now, timezone } = data;
  return [
    '<!DOCTYPE html>',
    '<html lang="en"><head><meta charset="utf-8">',
    '<meta name="viewport" content="width=device-width,initial-scale=1">',
    '<title>spend-alerts status</title>',
    `<style>${STYLE}</style></head><body>`,
    '<h1>spend-alerts</h1>',
    `<p class="muted">As of ${text(formatInstant(now.toISOString(), timezone))}. ${text(data.redact(data.readiness))}</p>`,
    alertsSection(data),
    dailySection(data.daily, timezone),
    firingSection(data),
    evaluationsSection(data),
    pendingSection(data),
    healthSection(data),
    '</body></html>',
    '',
  ].join('\n');
}

/** Escaped text of a value from configuration, state or a peer. */
function text(value: string): string {
  return escapeHtml(value);
}

/** Escaped text of a traced value: control characters escaped, bounded, then escaped for HTML. */
function traced(value: string, max?: number): string {
  return escapeHtml(cleanLine(value, max));
}

function alertsSection(data: StatusPageData): string {
  const parts = ['<section id="alerts"><h2>Alerts</h2>'];
  if (data.alerts.length === 0) parts.push('<p class="muted">No alerts configured.</p>');
  for (const alert of data.alerts) {
    const { kind, config } = ruleOf(alert);
    const scope = [
      `window ${alert.window}`,
      ...(alert.groupBy === undefined ? [] : [`by ${alert.groupBy}`]),
      ...(alert.filters === undefined ? [] : [`filters ${JSON.stringify(alert.filters)}`]),
      `to ${alert.channels.join(', ')}`,
    ];
    parts.push(
      `<h3>${text(alert.name)}</h3>`,
      `<p class="muted">${text(kind.describe(config, alert, formatUsd))}; ${text(scope.join('; '))}</p>`,
      alertOutcome(data.outcomes.get(alert.name), data),
    );
  }
  parts.push('</section>');
  return parts.join('\n');
}

function alertOutcome(outcome: AlertOutcome | undefined, data: StatusPageData): string {
  if (outcome === undefined) return '<p class="muted">Not evaluated since the daemon started.</p>';
  const at = `evaluated ${text(formatInstant(outcome.at, data.timezone))}`;
  if ('error' in outcome) return `<p class="bad">Could not be read (${at}): ${text(cleanLine(data.redact(outcome.error), 500))}</p>`;
  if (outcome.series.length === 0) return `<p class="muted">No spend in the window (${at}).</p>`;
  const series = [...outcome.series].sort((a, b) => compared(b).value - compared(a).value);
  const rows = series.slice(0, SERIES_SHOWN).map((s) => {
    const name = s.groupValue === null && s.groupBy === undefined ? 'total' : seriesName(s);
    const { value, against, words } = compared(s);
    const status = s.breach === null ? '<span class="ok">ok</span>' : `<span class="${s.breach === 'critical' ? 'bad' : 'warn'}">${s.breach}</span>`;
    return `<tr><td>${name}</td><td>${bar(value, against, name)}</td><td class="num">${text(words)}</td><td>${status}</td></tr>`;
  });
  const more = series.length > SERIES_SHOWN ? `<p class="muted">and ${series.length - SERIES_SHOWN} more series.</p>` : '';
  return `<p class="muted">${at}</p><table><tr><th>Series</th><th>Spend against its level</th><th></th><th></th></tr>\n${rows.join('\n')}</table>${more}`;
}

/** The series' group as people read it, escaped: "model=gpt-4o", "traceId=… (name, user)". */
function seriesName(s: SeriesEvaluation): string {
  const group = groupLabel(s.groupBy === undefined ? {} : { [s.groupBy]: s.groupValue }) ?? 'total';
  const labels = Object.entries(s.labels ?? {}).map(([key, value]) => `${key} ${value === null ? '(none)' : cleanLine(value, 80)}`);
  return traced(labels.length === 0 ? group : `${group} (${labels.join(', ')})`, 300);
}

/**
 * What the bar shows: the spend against the highest level it is compared with; a forecast its
 * projected total against the budget. `against` null: nothing to compare with yet.
 */
function compared(s: SeriesEvaluation): { value: number; against: number | null; words: string } {
  if (s.projection !== undefined) {
    const { forecast, threshold } = s.projection;
    return { value: forecast, against: threshold, words: `forecast ${formatUsd(forecast)} of ${formatUsd(threshold)} (${formatUsd(s.value)} so far)` };
  }
  const levels = Object.values(s.levels).filter((level): level is number => level !== undefined);
  if (levels.length === 0) return { value: s.value, against: null, words: `${formatUsd(s.value)}, nothing to compare with yet` };
  const against = Math.max(...levels);
  return { value: s.value, against, words: `${formatUsd(s.value)} of ${formatUsd(against)}` };
}

const BAR_WIDTH = 240;
const BAR_HEIGHT = 14;

/**
 * An inline SVG bar: the value's share of its level (the level's mark at the right, or further
 * left when the value is beyond it). `label` is already escaped.
 */
function bar(value: number, against: number | null, label: string): string {
  if (against === null) return '<span class="muted">—</span>';
  const scale = Math.max(value, against) || 1;
  const fill = Math.round((value / scale) * BAR_WIDTH);
  const mark = Math.round((against / scale) * BAR_WIDTH);
  const colour = value > against ? '#b3261e' : value > 0.8 * against ? '#b26a00' : '#2f6fb0';
  const words = `${formatUsd(value)} of ${formatUsd(against)}`;
  return (
    `<svg class="bar" width="${BAR_WIDTH}" height="${BAR_HEIGHT}" role="img" aria-label="${label}: ${text(words)}">` +
    `<title>${label}: ${text(words)}</title>` +
    `<rect width="${BAR_WIDTH}" height="${BAR_HEIGHT}" fill="#eee"/>` +
    `<rect width="${fill}" height="${BAR_HEIGHT}" fill="${colour}" data-share="${(value / against).toFixed(4)}"/>` +
    `<rect x="${Math.max(0, mark - 1)}" width="2" height="${BAR_HEIGHT}" fill="#1d1d1f"/></svg>`
  );
}

const CHART = { width: 720, height: 180, top: 20, bottom: 24, left: 4 } as const;

/** The daily spend chart: one bar per day, "no data" days as a dashed outline at full height. */
function dailySection(days: readonly DaySpend[], timezone: string): string {
  const known = days.flatMap((day) => (day.spend === null ? [] : [day.spend]));
  const max = Math.max(0, ...known) || 1;
  const slot = (CHART.width - CHART.left) / Math.max(1, days.length);
  const plot = CHART.height - CHART.top - CHART.bottom;
  const bars = days.map((day, i) => {
    const x = (CHART.left + i * slot + 1).toFixed(1);
    const width = (slot - 2).toFixed(1);
    const label = `${day.day}: ${daySpendText(day, timezone)}`;
    if (day.spend === null) {
      return `<rect x="${x}" y="${CHART.top}" width="${width}" height="${plot}" fill="none" stroke="#bbb" stroke-dasharray="3 3" data-day="${day.day}" data-nodata="true"><title>${text(label)}</title></rect>`;
    }
    const height = (day.spend / max) * plot;
    const y = (CHART.top + plot - height).toFixed(1);
    return `<rect x="${x}" y="${y}" width="${width}" height="${height.toFixed(1)}" fill="${day.through === undefined ? '#2f6fb0' : '#8fb3da'}" data-day="${day.day}"><title>${text(label)}</title></rect>`;
  });
  const first = days[0];
  const last = days.at(-1);
  const axis =
    first === undefined || last === undefined
      ? ''
      : `<text x="${CHART.left}" y="${CHART.height - 6}" font-size="11">${text(first.day)}</text>` +
        `<text x="${CHART.width}" y="${CHART.height - 6}" font-size="11" text-anchor="end">${text(last.day)}</text>` +
        `<text x="${CHART.left}" y="12" font-size="11">${text(`max ${formatUsd(max)} a day`)}</text>`;
  const noData = days.length - known.length;
  const rows = days.map((day) => `<tr><td>${text(day.day)}</td><td class="num">${text(daySpendText(day, timezone))}</td></tr>`);
  return [
    '<section id="daily-chart"><h2>Daily spend, last 30 days</h2>',
    // which spend: the history cache's hours of the unfiltered filter set (see PlannedSpendSource.cachedProjectSpend)
    `<p class="muted">The whole project's spend per day (${text(timezone)}), from the hours the history cache holds for alerts without filters. ` +
      `Days it doesn't fully hold show as "no data", not $0${noData > 0 ? ` (${noData} of ${days.length} here)` : ''}; today counts up to its last closed hour.</p>`,
    `<svg width="${CHART.width}" height="${CHART.height}" viewBox="0 0 ${CHART.width} ${CHART.height}" role="img" aria-label="daily spend, last ${days.length} days">`,
    `<line x1="${CHART.left}" y1="${CHART.top + plot}" x2="${CHART.width}" y2="${CHART.top + plot}" stroke="#999"/>`,
    ...bars,
    axis,
    '</svg>',
    `<details><summary>The days as a table</summary><table><tr><th>Day</th><th>Spend</th></tr>\n${rows.join('\n')}</table></details>`,
    '</section>',
  ].join('\n');
}

function daySpendText(day: DaySpend, timezone: string): string {
  if (day.spend === null) return 'no data';
  return day.through === undefined ? formatUsd(day.spend) : `${formatUsd(day.spend)} so far (to ${formatInstant(day.through, timezone)})`;
}

function firingSection(data: StatusPageData): string {
  const firing = Object.values(data.state.series)
    .filter((s) => s.notified.length > 0)
    .sort((a, b) => a.alert.localeCompare(b.alert) || a.seriesKey.localeCompare(b.seriesKey));
  const parts = ['<section id="firing"><h2>Firing series</h2>'];
  if (firing.length === 0) parts.push('<p class="muted">None.</p>');
  for (const s of firing) parts.push(firingSeries(s, data.explained.get(seriesStateKey(s.alert, s.seriesKey)), data.timezone));
  parts.push('</section>');
  return parts.join('\n');
}

function firingSeries(s: SeriesState, explained: Explained | undefined, timezone: string): string {
  const group = groupLabel(s.group);
  const since = s.open ? `episode since ${formatInstant(s.period, timezone)}` : `period from ${formatInstant(s.period, timezone)}`;
  const head =
    `<h3>${text(s.alert)}${group === null ? '' : ` <span class="muted">${traced(group, 300)}</span>`}</h3>` +
    `<p>${text(`${s.notified.join(' → ')} notified, ${since}, last value ${formatUsd(s.lastValue)}`)}</p>`;
  if (explained === undefined) return `${head}<p class="muted">Contributors: not known to this process (it listed none since it started).</p>`;
  const lines = contributorLines(explained.contributors, explained.contributorsMissing);
  if (lines.length === 0) return `${head}<p class="muted">No contributors listed.</p>`;
  return `${head}<ul>${lines.map((line) => `<li>${text(line.label)}: ${contributorsHtml(line)}</li>`).join('')}</ul>`;
}

/** Like the email's: each value linked to Langfuse's list filtered to it, with its figures. */
function contributorsHtml(line: ContributorLine): string {
  if (line.unavailable !== undefined) return text(line.unavailable);
  return line.items
    .map((item) => `${item.href === undefined ? text(item.name) : `<a href="${text(item.href)}">${text(item.name)}</a>`} ${text(item.figures)}`)
    .join(', ');
}

function evaluationsSection(data: StatusPageData): string {
  const { evaluations } = data.state;
  const parts = ['<section id="evaluations"><h2>Last evaluations</h2>'];
  if (evaluations.length === 0) parts.push('<p class="muted">None recorded yet.</p>');
  else {
    parts.push('<table><tr><th>At</th><th>Result</th><th>Alerts</th><th>Firing</th><th>Sent</th><th>Errors</th></tr>');
    for (const e of evaluations) {
      const errors = e.errors.map((error) => text(cleanLine(data.redact(error), 300))).join('<br>');
      parts.push(
        `<tr><td class="num">${text(formatInstant(e.at, data.timezone))}</td><td class="${e.ok ? 'ok' : 'bad'}">${e.ok ? 'ok' : 'failed'}</td>` +
          `<td>${e.alertsEvaluated}</td><td>${e.firing}</td><td>${e.notificationsSent}</td><td>${errors}</td></tr>`,
      );
    }
    parts.push('</table>');
  }
  parts.push('</section>');
  return parts.join('\n');
}

function pendingSection(data: StatusPageData): string {
  const entries = Object.values(data.state.outbox).sort((a, b) => a.createdAt.localeCompare(b.createdAt));
  const rows = entries.flatMap((entry) =>
    Object.entries(entry.channels).map(([channel, delivery]) => {
      const n = entry.notification;
      const group = groupLabel(n.group);
      const what = `${n.alert}${group === null ? '' : ` (${group})`}: ${n.status} ${n.severity}`;
      const error = delivery.lastError === undefined ? '' : text(cleanLine(data.redact(delivery.lastError), 300));
      return (
        `<tr><td>${traced(what, 300)}</td><td>${text(channel)}</td><td class="num">${text(formatInstant(entry.createdAt, data.timezone))}</td>` +
        `<td>${delivery.attempts}</td><td class="num">${text(formatInstant(delivery.nextAttemptAt, data.timezone))}</td><td>${error}</td></tr>`
      );
    }),
  );
  return [
    '<section id="pending"><h2>Pending deliveries</h2>',
    rows.length === 0
      ? '<p class="muted">None: every channel accepted every notification.</p>'
      : `<table><tr><th>Notification</th><th>Channel</th><th>Since</th><th>Failed attempts</th><th>Next attempt</th><th>Last error</th></tr>\n${rows.join('\n')}</table>`,
    '</section>',
  ].join('\n');
}

function healthSection(data: StatusPageData): string {
  const row = (name: string, type: string, health: PeerHealth | undefined): string => {
    const failing = health !== undefined && health.failures > 0;
    const state = failing
      ? `<span class="bad">failing</span>: ${health.failures} failed evaluation(s) since ${text(formatInstant(health.since ?? '', data.timezone))}` +
        `${health.lastError === null ? '' : `, ${text(cleanLine(data.redact(health.lastError), 300))}`}${health.noticeSent ? ' (degraded notice sent)' : ''}`
      : '<span class="ok">ok</span>';
    return `<tr><td>${text(name)}</td><td>${text(type)}</td><td>${state}</td></tr>`;
  };
  return [
    '<section id="health"><h2>Health</h2>',
    '<table><tr><th>Peer</th><th>Type</th><th>State</th></tr>',
    row('Langfuse', 'metrics API', data.state.langfuse),
    ...data.channels.map((channel) => row(channel.name, channel.type, data.state.channels[channel.name])),
    '</table>',
    '</section>',
  ].join('\n');
}
