// Slack Block Kit for incoming webhooks. Slack reads `<…>` as links and mentions (`<!channel>`,
// `<@U123>`), so every value is escaped; mrkdwn objects are `verbatim` so a bare `@here` or URL in a
// model name is not turned into a mention or link either. Slack-compatible receivers (Mattermost,
// Rocket.Chat) ignore `verbatim` and notify everyone for a bare `@here`, `@channel`, `@all` or
// `@everyone`: a zero-width joiner after the `@` breaks those, and reads the same.
import type { Notification } from '../core/notification.js';
import { bySeverity, comparison, countSummary, notificationText, title, type ContributorLine, type NotificationText } from './text.js';

export const SLACK_LIMITS = { blocks: 50, sectionChars: 3000, headerChars: 150 } as const;

export interface SlackPlainText {
  readonly type: 'plain_text';
  readonly text: string;
  readonly emoji: boolean;
}

export interface SlackMrkdwn {
  readonly type: 'mrkdwn';
  readonly text: string;
  readonly verbatim: true;
}

export type SlackBlock =
  | { readonly type: 'header'; readonly text: SlackPlainText }
  | { readonly type: 'section'; readonly text: SlackMrkdwn };

export interface SlackMessage {
  /** the notification/fallback text */
  readonly text: string;
  readonly blocks: readonly SlackBlock[];
}

const BROADCAST_MENTION = /@(here|channel|all|everyone)\b/gi;
const ZERO_WIDTH_JOINER = '\u200d';

export function escapeSlack(value: string): string {
  return value
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(BROADCAST_MENTION, `@${ZERO_WIDTH_JOINER}$1`);
}

function marker(n: Notification): string {
  if (n.status === 'resolved') return '✅';
  return n.severity === 'critical' ? '🔴' : '🟠';
}

function link(href: string, label: string): string {
  if (!/^https?:\/\//i.test(href)) return escapeSlack(href);
  // `|` would end the address part of `<address|label>`
  return `<${escapeSlack(href).replace(/\|/g, '%7C')}|${label}>`;
}

/**
 * Cuts escaped mrkdwn to `max` characters without leaving half an entity (`&am`) or half a link
 * (`<https://…`), either of which Slack would show as garbage or reject.
 */
export function clipMrkdwn(text: string, max: number): string {
  if (text.length <= max) return text;
  let cut = max - 1;
  const amp = text.lastIndexOf('&', cut - 1);
  if (amp !== -1 && amp >= cut - 4 && !text.slice(amp, cut).includes(';')) cut = amp;
  const open = text.lastIndexOf('<', cut - 1);
  if (open !== -1 && text.indexOf('>', open) >= cut) cut = open;
  if (/[\ud800-\udbff]/.test(text.charAt(cut - 1))) cut -= 1;
  return `${text.slice(0, cut)}…`;
}

function header(text: string): SlackBlock {
  return {
    type: 'header',
    text: { type: 'plain_text', text: clipMrkdwn(escapeSlack(text), SLACK_LIMITS.headerChars), emoji: true },
  };
}

function section(text: string): SlackBlock {
  return { type: 'section', text: { type: 'mrkdwn', text: clipMrkdwn(text, SLACK_LIMITS.sectionChars), verbatim: true } };
}

function detailLines(view: NotificationText): string {
  return view.lines
    .map((line) => {
      const value = line.href === undefined ? escapeSlack(line.value) : link(line.href, escapeSlack(line.value));
      return `*${line.label}:* ${value.replace(/\n/g, '\n    ')}`;
    })
    .join('\n');
}

/** "*Top models:* <url|gpt-4o> $40.00 (65%, +$30.00 on $10.00), …" */
function contributorMrkdwn(line: ContributorLine, withLinks: boolean): string {
  const value =
    line.unavailable !== undefined
      ? escapeSlack(line.unavailable)
      : line.items
          .map((item) => {
            const name = escapeSlack(item.name);
            return `${withLinks && item.href !== undefined ? link(item.href, name) : name} ${escapeSlack(item.figures)}`;
          })
          .join(', ');
  return `*${line.label}:* ${value}`;
}

/**
 * A notification's section: its facts (clipped as ever), then its top contributors in the room
 * Slack's 3,000 characters leave, so a cut takes contributors, never the alert's facts. A line that
 * doesn't fit with its links goes without them; the first that doesn't fit at all and those after
 * it are named in a last line instead.
 */
function sectionText(facts: string, view: NotificationText): string {
  const limit = SLACK_LIMITS.sectionChars;
  const clipped = clipMrkdwn(facts, limit);
  const shown: string[] = [];
  let length = clipped.length;
  for (const line of view.contributors) {
    const fitting = [contributorMrkdwn(line, true), contributorMrkdwn(line, false)].find((text) => length + 1 + text.length <= limit);
    if (fitting === undefined) break;
    shown.push(fitting);
    length += 1 + fitting.length;
  }
  // the note naming the lines left out needs room too: give up shown lines, last first, until it fits
  while (shown.length < view.contributors.length) {
    const note = `_…left out to fit Slack: ${view.contributors
      .slice(shown.length)
      .map((line) => line.label)
      .join(', ')}_`;
    if (length + 1 + note.length <= limit) return [clipped, ...shown, note].join('\n');
    const last = shown.pop();
    if (last === undefined) return clipped;
    length -= 1 + last.length;
  }
  return [clipped, ...shown].join('\n');
}

function oneLine(n: Notification): string {
  const compared = comparison(n);
  return compared === null ? title(n) : `${title(n)} (${compared})`;
}

/**
 * One notification: a header naming it and a section with its facts and top contributors. Several: a header counting
 * them by severity, then one section each, most severe first; past Slack's 50 blocks the rest are
 * counted in a last "…and N more" section.
 */
export function renderSlack(notifications: readonly Notification[]): SlackMessage {
  const sorted = bySeverity(notifications);
  const [first] = sorted;
  if (first === undefined) return { text: '', blocks: [] };
  if (sorted.length === 1) {
    const view = notificationText(first);
    return {
      text: escapeSlack(`${marker(first)} ${oneLine(first)}`),
      blocks: [header(`${marker(first)} ${view.title}`), section(sectionText(detailLines(view), view))],
    };
  }
  const summary = `${sorted.length} spend alerts: ${countSummary(sorted)}`;
  const room = SLACK_LIMITS.blocks - 1;
  const shown = sorted.length <= room ? sorted : sorted.slice(0, room - 1);
  const blocks: SlackBlock[] = [header(summary)];
  for (const n of shown) {
    const view = notificationText(n);
    blocks.push(section(sectionText(`*${escapeSlack(`${marker(n)} ${view.title}`)}*\n${detailLines(view)}`, view)));
  }
  const hidden = sorted.slice(shown.length);
  if (hidden.length > 0) {
    blocks.push(section(`…and ${hidden.length} more (${countSummary(hidden)})`));
  }
  return { text: escapeSlack(summary), blocks };
}
