// The medium-neutral reading of a notification. Every renderer (Slack, email, console) lists the
// same facts in the same order; they differ only in markup and escaping, which they apply to the
// values here. Values derived from traced data already show their control characters escaped
// (`\x1b`) and are bounded in length, so no medium can be handed a line break, a terminal escape
// sequence or a megabyte-long model name.
import type { GroupByField } from '../core/alert.js';
import type { Contributor, MissingContributors, Notification, NotificationWindow } from '../core/notification.js';
import { ruleKind } from '../core/rules/index.js';
import type { NotificationFact } from '../core/rules/rule.js';
import { wallClock } from '../core/time/zone.js';
import { escapeControls, terminalSafe } from '../util/terminal.js';
import { cleanUsd } from '../core/money.js';
import { formatUsd } from './money.js';

export interface TextLine {
  readonly label: string;
  readonly value: string;
  /** a link: rich media show `value` as its text, plain text shows the address itself */
  readonly href?: string;
}

/** One of a dimension's top contributors as people read it: "gpt-4o $40.00 (65%, +$30.00 on $10.00)". */
export interface ContributorItem {
  /** the value: control characters escaped, bounded; "(none)" for the group Langfuse reports as null */
  readonly name: string;
  /** "$40.00 (65%, +$30.00 on $10.00)" */
  readonly figures: string;
  /** Langfuse's list filtered to the value; absent when there is none or it is no http(s) address */
  readonly href?: string;
}

/** "Top models: …" — one line per dimension, under the alert's facts. */
export interface ContributorLine {
  /** "Top models", "Top trace names" */
  readonly label: string;
  /** most spend first; empty when `unavailable` */
  readonly items: readonly ContributorItem[];
  /** "not available (<reason>)": the dimension could not be worked out in time */
  readonly unavailable?: string;
}

export interface NotificationText {
  readonly notification: Notification;
  /** "CRITICAL FIRING: daily-budget", "[TEST] WARNING FIRING: spend-alerts" */
  readonly title: string;
  readonly lines: readonly TextLine[];
  /** why it fired: the top contributors by dimension, then the dimensions missing from them */
  readonly contributors: readonly ContributorLine[];
}

const MAX_DATA_CHARS = 200;
const MAX_MESSAGE_CHARS = 1500;

/** One line of data-derived text: control characters escaped, at most `max` characters. */
export function cleanLine(value: string, max = MAX_DATA_CHARS): string {
  return truncate(escapeControls(value), max);
}

/** Multi-line text (system notices): line breaks kept, every other control character escaped. */
export function cleanMessage(value: string, max = MAX_MESSAGE_CHARS): string {
  return truncate(terminalSafe(value.replace(/\r\n?/g, '\n')).trim(), max);
}

export function truncate(value: string, max: number): string {
  if (value.length <= max) return value;
  // never split a surrogate pair: half an emoji is an invalid string for JSON and MIME encoders
  const cut = /[\ud800-\udbff]/.test(value.charAt(max - 2)) ? max - 2 : max - 1;
  return `${value.slice(0, cut)}…`;
}

/**
 * How people read a series' group, everywhere (notifications, status, the demo): "model=gpt-4o",
 * "model=(none)" for spend without one — not "null", which a model could be named; null without
 * groupBy. State keys and notification ids keep their own format ("model:null"): changing those
 * would re-send after an upgrade.
 */
export function groupLabel(group: Readonly<Record<string, string | null>>): string | null {
  const entries = Object.entries(group);
  if (entries.length === 0) return null;
  return entries.map(([key, value]) => `${cleanLine(key, 40)}=${value === null ? '(none)' : cleanLine(value)}`).join(', ');
}

/** "$61.25 > $50.00" while firing, "$40.00 ≤ $50.00" once resolved, "12,345 tokens, $0.00" without a threshold; null for system notices. */
export function comparison(n: Notification): string | null {
  if (n.kind === 'system') return null;
  if (n.threshold === null) return n.tokens ? `${formatCount(n.tokens.total)} tokens, ${formatUsd(n.value)}` : formatUsd(n.value);
  if (n.forecast !== undefined && n.status === 'firing') return `${formatUsd(n.forecast)} projected > ${formatUsd(n.threshold)}`;
  return `${formatUsd(n.value)} ${n.status === 'firing' ? '>' : '≤'} ${formatUsd(n.threshold)}`;
}

export function title(n: Notification): string {
  return `${n.test ? '[TEST] ' : ''}${n.severity.toUpperCase()} ${n.status.toUpperCase()}: ${cleanLine(n.alert, 100)}`;
}

/**
 * Most severe first: critical firing, warning firing, then resolved (critical before warning).
 * Digest media that must cut a long list keep the head of this order.
 */
export function severityRank(n: Notification): number {
  return (n.status === 'firing' ? 0 : 2) + (n.severity === 'critical' ? 0 : 1);
}

export function bySeverity(notifications: readonly Notification[]): Notification[] {
  return [...notifications].sort((a, b) => severityRank(a) - severityRank(b));
}

/** "2 critical, 1 warning, 1 resolved" — firing notifications by severity, resolved ones together. */
export function countSummary(notifications: readonly Notification[]): string {
  const count = (predicate: (n: Notification) => boolean) => notifications.filter(predicate).length;
  const parts: Array<[number, string]> = [
    [count((n) => n.status === 'firing' && n.severity === 'critical'), 'critical'],
    [count((n) => n.status === 'firing' && n.severity === 'warning'), 'warning'],
    [count((n) => n.status === 'resolved'), 'resolved'],
  ];
  return parts
    .filter(([k]) => k > 0)
    .map(([k, label]) => `${k} ${label}`)
    .join(', ');
}

// made on first use, like the money formats: a number format loads ICU data a quiet `check` never needs
let factorFormat: Intl.NumberFormat | undefined;
const formatFactor = (factor: number): string =>
  `${(factorFormat ??= new Intl.NumberFormat('en-US', { maximumFractionDigits: 2 })).format(factor)}×`;

let percentFormat: Intl.NumberFormat | undefined;
const formatPercent = (share: number): string =>
  (percentFormat ??= new Intl.NumberFormat('en-US', { style: 'percent', maximumFractionDigits: 1 })).format(share);

let countFormat: Intl.NumberFormat | undefined;
export const formatCount = (count: number): string => (countFormat ??= new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 })).format(count);

function formatFact(fact: NotificationFact, n: Notification): string {
  const value =
    fact.unit === 'count'
      ? formatCount(fact.value)
      : fact.unit === 'usd'
      ? formatUsd(fact.value)
      : fact.unit === 'factor'
        ? formatFactor(fact.value)
        : fact.unit === 'percent'
          ? formatPercent(fact.value)
          : formatTimeOfDay(fact.value, n.evaluatedAt, n.window.timezone);
  const lead = fact.lead === undefined ? '' : `${fact.lead.replace('{threshold}', n.threshold === null ? '' : formatUsd(n.threshold))} `;
  return `${lead}${value}${fact.tail === undefined ? '' : ` ${fact.tail}`}`;
}

/** "19:40 Europe/Berlin" on the day of `reference` in the zone, else "2026-12-03 19:40 Europe/Berlin". */
function formatTimeOfDay(epochMs: number, reference: string, timeZone: string): string {
  const at = new Date(epochMs);
  if (Number.isNaN(at.getTime())) return '?';
  const { day, time } = zoned(at, timeZone);
  const ref = new Date(reference);
  const sameDay = !Number.isNaN(ref.getTime()) && zoned(ref, timeZone).day === day;
  return `${sameDay ? '' : `${day} `}${time} ${timeZone}`;
}

export function notificationText(n: Notification): NotificationText {
  const lines: TextLine[] = [];
  if (n.test) lines.push({ label: 'Test', value: 'sent by spend-alerts test-notify; no action needed' });
  if (n.message !== undefined) lines.push({ label: n.kind === 'system' ? 'Message' : 'Note', value: cleanMessage(n.message) });
  if (n.delayedSince !== undefined) {
    lines.push({ label: 'Delayed', value: `first due ${formatInstant(n.delayedSince, n.window.timezone)}; delivery was retried` });
  }
  // a digest has its own renderers (src/render/digest.ts); here it is a message sent at a time
  if (n.kind === 'system' || n.kind === 'digest') {
    lines.push({ label: 'At', value: formatInstant(n.evaluatedAt, n.window.timezone) });
  } else {
    const group = groupLabel(n.group);
    if (group !== null) lines.push({ label: 'Group', value: group });
    if (n.trace) {
      lines.push({ label: 'Trace', value: n.trace.name === null ? '(no name)' : cleanLine(n.trace.name, 200) });
      lines.push({ label: 'User', value: n.trace.userId === null ? '(no user)' : cleanLine(n.trace.userId, 200) });
    }
    lines.push({ label: 'Spend', value: formatUsd(n.value) });
    if (n.threshold !== null) lines.push({ label: 'Threshold', value: formatUsd(n.threshold) });
    if (n.step !== undefined && n.threshold !== null) lines.push({ label: 'Step', value: stepText(n.step, n.threshold) });
    for (const fact of ruleKind(n.kind).notificationFacts(n)) lines.push({ label: fact.label, value: formatFact(fact, n) });
    lines.push({ label: 'Window', value: formatWindow(n.window) });
  }
  if (n.traceUrl) lines.push({ label: 'Trace URL', value: 'Open the trace in Langfuse', href: cleanLine(n.traceUrl, 2000) });
  if (n.langfuseUrl !== '') {
    lines.push({ label: 'Langfuse', value: 'Open in Langfuse', href: cleanLine(n.langfuseUrl, 2000) });
  }
  return { notification: n, title: title(n), lines, contributors: contributorLines(n.contributors ?? [], n.contributorsMissing ?? []) };
}

const DIMENSION_WORDS: Readonly<Record<GroupByField, string>> = {
  model: 'models',
  traceName: 'trace names',
  userId: 'users',
  environment: 'environments',
  release: 'releases',
};

// A list line stays readable with three values on it; the link and the webhook body carry the whole value.
const MAX_CONTRIBUTOR_CHARS = 80;
// Longer addresses (a long hostile value, encoded twice) would be cut into a broken link; the value is shown without one.
const MAX_URL_CHARS = 2000;

/** Contributors grouped by dimension in the order given (the alert's `explain`), then the dimensions left out. */
export function contributorLines(contributors: readonly Contributor[], missing: readonly MissingContributors[]): ContributorLine[] {
  const byDimension = new Map<GroupByField, ContributorItem[]>();
  for (const contributor of contributors) {
    const items = byDimension.get(contributor.dimension) ?? [];
    items.push(contributorItem(contributor));
    byDimension.set(contributor.dimension, items);
  }
  const lines: ContributorLine[] = [...byDimension].map(([dimension, items]) => ({ label: `Top ${DIMENSION_WORDS[dimension]}`, items }));
  for (const { dimension, reason } of missing) {
    lines.push({ label: `Top ${DIMENSION_WORDS[dimension]}`, items: [], unavailable: `not available (${cleanLine(reason)})` });
  }
  return lines;
}

/**
 * The compact form: name, spend, then in brackets its share of the series' spend and how it moved
 * against its baseline — "+$30.00 on $10.00" (up $30 on a $10 baseline), "new" when it spent
 * nothing there, nothing without a baseline window.
 */
function contributorItem(c: Contributor): ContributorItem {
  const name = c.value === null ? '(none)' : cleanLine(c.value, MAX_CONTRIBUTOR_CHARS);
  let movement = '';
  if (c.baseline === 0) movement = ', new';
  else if (c.baseline !== null && c.change !== null) movement = `, ${c.change >= 0 ? '+' : ''}${formatUsd(c.change)} on ${formatUsd(c.baseline)}`;
  const figures = `${formatUsd(c.spend)} (${formatPercent(c.share)}${movement})`;
  const linkable = c.url !== null && c.url.length <= MAX_URL_CHARS && /^https?:\/\//i.test(c.url);
  return linkable ? { name, figures, href: escapeControls(c.url) } : { name, figures };
}

/** "gpt-4o $40.00 (65%, +$30.00 on $10.00), (none) $2.00 (3%)" or "not available (…)": the line's text without links. */
export function contributorText(line: ContributorLine): string {
  return line.unavailable ?? line.items.map((item) => `${item.name} ${item.figures}`).join(', ');
}

// made on first use, like the other formats
let stepFormat: Intl.NumberFormat | undefined;

/** "80 % of the $1,000.00 budget": the budget is the step's amount ÷ its percent */
function stepText(step: number, amount: number): string {
  const percent = (stepFormat ??= new Intl.NumberFormat('en-US', { maximumFractionDigits: 2 })).format(step);
  const budget = step > 0 ? cleanUsd((amount * 100) / step) : amount;
  return `${percent} % of the ${formatUsd(budget)} budget`;
}

function zoned(date: Date, timeZone: string): { day: string; time: string } {
  const clock = wallClock(date, timeZone);
  const twoDigits = (n: number): string => String(n).padStart(2, '0');
  return { day: `${clock.year}-${twoDigits(clock.month)}-${twoDigits(clock.day)}`, time: `${twoDigits(clock.hour)}:${twoDigits(clock.minute)}` };
}

/** "2026-11-24 14:00 America/New_York" */
export function formatInstant(iso: string, timeZone: string): string {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return cleanLine(iso);
  const { day, time } = zoned(date, timeZone);
  return `${day} ${time} ${timeZone}`;
}

/**
 * "day, 2026-11-24 00:00 – 14:00 America/New_York", "rolling 24h, 2026-11-23 15:04 – 2026-11-24 15:04 UTC".
 * The window is named by its kind rather than "today": a notification retried after midnight
 * would otherwise claim the wrong day.
 */
export function formatWindow(window: NotificationWindow): string {
  const kind = /^(day|week|month)$/.test(window.type) ? window.type : `rolling ${cleanLine(window.type, 20)}`;
  const from = new Date(window.from);
  const to = new Date(window.to);
  if (Number.isNaN(from.getTime()) || Number.isNaN(to.getTime())) {
    return `${kind}, ${cleanLine(window.from, 40)} – ${cleanLine(window.to, 40)}`;
  }
  const start = zoned(from, window.timezone);
  const end = zoned(to, window.timezone);
  const endText = end.day === start.day ? end.time : `${end.day} ${end.time}`;
  return `${kind}, ${start.day} ${start.time} – ${endText} ${window.timezone}`;
}
