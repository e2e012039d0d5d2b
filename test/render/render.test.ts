import { describe, expect, it } from 'vitest';
import { emailSubject, escapeHtml, renderEmail } from '../../src/render/email.js';
import { formatUsd } from '../../src/render/money.js';
import { renderPlain } from '../../src/render/plain.js';
import { clipMrkdwn, escapeSlack, renderSlack } from '../../src/render/slack.js';
import { bySeverity, cleanLine, countSummary, notificationText, formatWindow } from '../../src/render/text.js';
import type { Contributor } from '../../src/core/notification.js';
import { webhookBody } from '../../src/render/webhook.js';
import { everyDimension } from '../support/contributors.js';
import { createLogger } from '../../src/log/logger.js';
import { terminalSafe } from '../../src/util/terminal.js';
import { PassThrough } from 'node:stream';
import {
  CLAUDE_URL,
  GPT_4O_URL,
  RESEARCH_URL,
  explained,
  firing,
  hostileContributors,
  notification,
  relative,
  resolved,
  systemNotice,
} from '../channels/fixtures.js';

describe('formatUsd', () => {
  it('shows two decimals with thousands separators', () => {
    expect(formatUsd(61.25)).toBe('$61.25');
    expect(formatUsd(1234.5)).toBe('$1,234.50');
    expect(formatUsd(1_000_000)).toBe('$1,000,000.00');
    expect(formatUsd(50)).toBe('$50.00');
    expect(formatUsd(0.01)).toBe('$0.01');
    expect(formatUsd(0.019)).toBe('$0.02');
  });

  it('keeps up to four significant digits under one cent', () => {
    expect(formatUsd(0.0042)).toBe('$0.0042');
    expect(formatUsd(0.00421234)).toBe('$0.004212');
    expect(formatUsd(0.0000123)).toBe('$0.0000123');
  });

  it('shows zero as $0.00, whatever its sign', () => {
    expect(formatUsd(0)).toBe('$0.00');
    expect(formatUsd(-0)).toBe('$0.00');
  });
});

describe('formatWindow', () => {
  it('shows a calendar day in its time zone, the end as a time on the same day', () => {
    expect(formatWindow(firing.window)).toBe('day, 2026-11-24 00:00 – 14:00 America/New_York');
  });

  it('shows both dates when the window spans days', () => {
    expect(formatWindow(resolved.window)).toBe('rolling 24h, 2026-11-23 15:04 – 2026-11-24 15:04 UTC');
    expect(
      formatWindow({ type: 'week', from: '2026-11-22T23:00:00.000Z', to: '2026-11-24T13:00:00.000Z', timezone: 'Europe/Berlin' }),
    ).toBe('week, 2026-11-23 00:00 – 2026-11-24 14:00 Europe/Berlin');
  });

  it('uses the offset of each instant across a DST change', () => {
    // 2026-03-08: New York moves from UTC−5 to UTC−4 at 02:00
    expect(
      formatWindow({ type: 'day', from: '2026-03-08T05:00:00.000Z', to: '2026-03-08T16:00:00.000Z', timezone: 'America/New_York' }),
    ).toBe('day, 2026-03-08 00:00 – 12:00 America/New_York');
  });
});

describe('the text model', () => {
  const labels = (n: Parameters<typeof notificationText>[0]) => notificationText(n).lines.map((l) => l.label);

  it('names alert, severity and status in the title and lists the facts', () => {
    const text = notificationText(firing);
    expect(text.title).toBe('CRITICAL FIRING: daily-budget');
    expect(text.lines).toEqual([
      { label: 'Spend', value: '$61.25' },
      { label: 'Threshold', value: '$50.00' },
      { label: 'Window', value: 'day, 2026-11-24 00:00 – 14:00 America/New_York' },
      { label: 'Langfuse', value: 'Open in Langfuse', href: 'https://cloud.langfuse.com/project/proj-1' },
    ]);
  });

  it('adds baseline and factor for relative alerts', () => {
    const lines = notificationText(relative).lines;
    expect(lines).toContainEqual({ label: 'Baseline', value: '$20.00' });
    expect(lines).toContainEqual({ label: 'Factor', value: '2×' });
    expect(notificationText(notification({ kind: 'relative', baseline: 0.003, factor: 1.5 })).lines).toContainEqual({
      label: 'Factor',
      value: '1.5×',
    });
  });

  it('shows the group, a null value as (none)', () => {
    expect(notificationText(resolved).lines[0]).toEqual({ label: 'Group', value: 'model=gpt-4o' });
    expect(notificationText(notification({ group: { model: null } })).lines[0]).toEqual({ label: 'Group', value: 'model=(none)' });
    expect(labels(firing)).not.toContain('Group');
  });

  it('marks test notifications clearly', () => {
    const text = notificationText(notification({ test: true }));
    expect(text.title).toBe('[TEST] CRITICAL FIRING: daily-budget');
    expect(text.lines[0]?.label).toBe('Test');
  });

  it('shows the message of a system notice instead of spend figures', () => {
    const text = notificationText(systemNotice);
    expect(text.title).toBe('WARNING FIRING: spend-alerts');
    expect(text.lines.slice(0, 2)).toEqual([
      { label: 'Message', value: 'Langfuse unreachable for 3 evaluations' },
      { label: 'At', value: '2026-11-24 14:00 America/New_York' },
    ]);
    expect(labels(systemNotice)).not.toContain('Spend');
  });

  it('says when a retried notification was first due', () => {
    const lines = notificationText(notification({ delayedSince: '2026-11-24T17:15:00.000Z' })).lines;
    expect(lines[0]).toEqual({ label: 'Delayed', value: 'first due 2026-11-24 12:15 America/New_York; delivery was retried' });
  });

  it('shows control characters in data escaped and bounds its length', () => {
    expect(cleanLine('gpt\r\nBcc: x\u001b[31m\u2028\u0085')).toBe('gpt\\x0d\\x0aBcc: x\\x1b[31m\\u2028\\x85');
    const long = cleanLine('m'.repeat(500));
    expect(long).toHaveLength(200);
    expect(long.endsWith('…')).toBe(true);
    // an emoji is never cut in half
    const emoji = cleanLine(`${'a'.repeat(198)}😀😀`);
    expect(emoji).toBe(`${'a'.repeat(198)}…`);
  });

  it('makes text safe for a terminal: line breaks kept, every other control character escaped', () => {
    expect(terminalSafe('a\n\u001b]8;;http://evil\u0007\u001b[2J\u0000\t\r\u007f\u009b\u2028b')).toBe(
      'a\n\\x1b]8;;http://evil\\x07\\x1b[2J\\x00\\x09\\x0d\\x7f\\x9b\\u2028b',
    );
    // pretty logs go to a terminal as they are: their strings are escaped too
    let pretty = '';
    const sink = new PassThrough().on('data', (chunk: Buffer) => (pretty += chunk.toString()));
    createLogger({ level: 'info', format: 'pretty', redact: (text) => text, destination: sink }).warn({ model: 'x\u001b[2J' }, 'bell\u0007');
    expect(pretty).toContain('bell\\x07');
    expect(pretty).toContain('x\\x1b[2J');
    expect(pretty).not.toMatch(/[\u0000-\u0009\u000b-\u001f]/);
  });

  it('orders critical firing, warning firing, then resolved, and counts them', () => {
    const criticalResolved = notification({ id: 'cr', status: 'resolved' });
    const sorted = bySeverity([resolved, relative, criticalResolved, firing]);
    expect(sorted.map((n) => n.id)).toEqual([firing.id, relative.id, criticalResolved.id, resolved.id]);
    expect(countSummary(sorted)).toBe('1 critical, 1 warning, 2 resolved');
  });
});

describe('email format', () => {
  it('names alert, severity and amounts in the subject', () => {
    expect(emailSubject([firing])).toBe('[CRITICAL] daily-budget: $61.25 > $50.00');
    expect(emailSubject([resolved])).toBe('[RESOLVED] model-budget (model=gpt-4o): $17.00 ≤ $20.00');
    expect(emailSubject([systemNotice])).toBe('[WARNING] spend-alerts: Langfuse unreachable for 3 evaluations');
    expect(emailSubject([notification({ test: true })])).toBe('[TEST] [CRITICAL] daily-budget: $61.25 > $50.00');
    expect(emailSubject([firing, relative, notification({ id: 'x' })])).toBe('[spend-alerts] 3 alerts: 2 critical, 1 warning');
  });

  it('keeps the subject on one bounded line whatever the data', () => {
    const subject = emailSubject([notification({ group: { model: `a\r\nBcc: x@evil.example\n${'z'.repeat(500)}` } })]);
    expect(subject).not.toMatch(/[\r\n]/);
    expect(subject.length).toBeLessThanOrEqual(200);
    expect(subject.startsWith('[CRITICAL] daily-budget (model=a\\x0d\\x0aBcc: x@evil.example\\x0azzz')).toBe(true);
  });

  it('escapes data in HTML and links only http(s) addresses', () => {
    expect(escapeHtml(`<a href="x">'&'</a>`)).toBe('&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;');
    const html = renderEmail([
      notification({ group: { model: '<img src=x onerror=alert(1)>' }, langfuseUrl: 'javascript:alert(1)' }),
    ]).html;
    expect(html).toContain('model=&lt;img src=x onerror=alert(1)&gt;');
    expect(html).not.toContain('<img');
    expect(html).not.toContain('href="javascript:');
  });

  it('ends the text part with a signature', () => {
    expect(renderEmail([firing]).text.endsWith('\n\n-- \nSent by langfuse-spend-alerts.\n')).toBe(true);
  });
});

describe('plain text (console)', () => {
  it('lays one notification out with aligned labels', () => {
    expect(renderPlain([firing])).toBe(
      [
        'CRITICAL FIRING: daily-budget',
        '  Spend:     $61.25',
        '  Threshold: $50.00',
        '  Window:    day, 2026-11-24 00:00 – 14:00 America/New_York',
        '  Langfuse:  https://cloud.langfuse.com/project/proj-1',
      ].join('\n'),
    );
  });

  it('heads several with a count and indents multi-line messages', () => {
    const text = renderPlain([notification({ kind: 'system', message: 'line one\r\nline two' }), resolved]);
    expect(text.split('\n')[0]).toBe('2 spend alerts: 1 critical, 1 resolved');
    expect(text).toContain('  Message:   line one\n             line two\n');
  });
});

describe('slack format', () => {
  it('escapes the three characters Slack parses', () => {
    expect(escapeSlack('<!here> & <@U1>')).toBe('&lt;!here&gt; &amp; &lt;@U1&gt;');
  });

  it('clips without cutting an entity or a link in half', () => {
    expect(clipMrkdwn('abc', 3)).toBe('abc');
    expect(clipMrkdwn('ab&amp;cd', 5)).toBe('ab…');
    expect(clipMrkdwn('x <https://a.example|A> y', 10)).toBe('x …');
    expect(clipMrkdwn('abcdef', 4)).toBe('abc…');
  });

  it('keeps a | in the Langfuse address from ending the link', () => {
    const message = renderSlack([notification({ langfuseUrl: 'https://lf.example/p?a=1|2&b=<3>' })]);
    expect(message.blocks[1]?.text.text).toContain('<https://lf.example/p?a=1%7C2&amp;b=&lt;3&gt;|Open in Langfuse>');
  });
});

describe('webhook body', () => {
  it('has the documented keys in the documented order', () => {
    expect(Object.keys(webhookBody(firing))).toEqual([
      'version',
      'id',
      'status',
      'severity',
      'alert',
      'kind',
      'group',
      'window',
      'value',
      'threshold',
      'baseline',
      'factor',
      'currency',
      'evaluatedAt',
      'langfuseUrl',
      'contributors',
    ]);
    expect(Object.keys(webhookBody(firing).window)).toEqual(['type', 'from', 'to', 'timezone']);
    expect(webhookBody(relative)).toMatchObject({ version: '1', currency: 'USD', kind: 'relative', baseline: 20, factor: 2 });
    expect(webhookBody(notification({ test: true, message: 'hi' }))).toMatchObject({ test: true, message: 'hi' });
  });
});

function contributor(overrides: Partial<Contributor> = {}): Contributor {
  return { dimension: 'model', value: 'gpt-4o', spend: 40, share: 0.5, baseline: null, change: null, url: null, ...overrides };
}

describe('top contributors in the text model', () => {
  it('lists them by dimension in the given order, then the dimensions left out', () => {
    expect(notificationText(explained).contributors).toEqual([
      {
        label: 'Top models',
        items: [
          { name: 'gpt-4o', figures: '$40.00 (65.3%, +$30.00 on $10.00)', href: GPT_4O_URL },
          { name: 'claude-3', figures: '$12.00 (19.6%, new)', href: CLAUDE_URL },
          { name: '(none)', figures: '$2.50 (4.1%, -$1.50 on $4.00)' },
        ],
      },
      { label: 'Top trace names', items: [{ name: 'research_agent', figures: '$61.25 (100%)', href: RESEARCH_URL }] },
      { label: 'Top users', items: [], unavailable: 'not available (the request budget admits no more Langfuse requests until 13:40)' },
    ]);
    expect(notificationText(firing).contributors).toEqual([]);
  });

  it('names every dimension in words', () => {
    const dimensions = ['release', 'environment', 'userId', 'traceName', 'model'] as const;
    const labels = notificationText(notification({ contributors: dimensions.map((dimension) => contributor({ dimension })) })).contributors;
    expect(labels.map((line) => line.label)).toEqual(['Top releases', 'Top environments', 'Top users', 'Top trace names', 'Top models']);
  });

  it('bounds and escapes a value, and links only short http(s) addresses', () => {
    const [line] = notificationText(
      notification({
        contributors: [
          contributor({ value: `gpt\n${'m'.repeat(300)}`, url: 'javascript:alert(1)' }),
          contributor({ value: 'long-link', url: `https://lf.example/${'a'.repeat(2_000)}` }),
          contributor({ value: 'ok', url: 'HTTPS://lf.example/x' }),
        ],
      }),
    ).contributors;
    const [hostile, longLink, ok] = line?.items ?? [];
    expect(hostile?.name).toBe(`gpt\\x0a${'m'.repeat(72)}…`);
    expect(hostile).not.toHaveProperty('href');
    expect(longLink).toEqual({ name: 'long-link', figures: '$40.00 (50%)' });
    expect(ok?.href).toBe('HTTPS://lf.example/x');
  });

  it('shows a spend that fell, and no change at all', () => {
    const [line] = notificationText(
      notification({
        contributors: [
          contributor({ spend: 0.004, share: 0.0001, baseline: 0.01, change: -0.006 }),
          contributor({ value: 'same', spend: 5, share: 0.25, baseline: 5, change: 0 }),
        ],
      }),
    ).contributors;
    expect(line?.items.map((item) => item.figures)).toEqual(['$0.004 (0%, -$0.006 on $0.01)', '$5.00 (25%, +$0.00 on $5.00)']);
  });
});

describe('top contributors in plain text (console, check --dry-run, the email text part)', () => {
  it('adds one line per dimension under the facts, without the links', () => {
    expect(renderPlain([explained])).toBe(
      [
        'CRITICAL FIRING: daily-budget',
        '  Spend:     $61.25',
        '  Threshold: $50.00',
        '  Window:    day, 2026-11-24 00:00 – 14:00 America/New_York',
        '  Langfuse:  https://cloud.langfuse.com/project/proj-1',
        '  Top models: gpt-4o $40.00 (65.3%, +$30.00 on $10.00), claude-3 $12.00 (19.6%, new), (none) $2.50 (4.1%, -$1.50 on $4.00)',
        '  Top trace names: research_agent $61.25 (100%)',
        '  Top users: not available (the request budget admits no more Langfuse requests until 13:40)',
      ].join('\n'),
    );
  });

  it('keeps a hostile value on its line', () => {
    const lines = renderPlain([hostileContributors]).split('\n');
    expect(lines).toContain('  Top releases: gpt\\x0d\\x0aBcc: x@evil.example $7.00 (11.4%)');
    expect(lines).toHaveLength(9);
  });
});

describe('top contributors in email', () => {
  it('adds a row per dimension with each value linked', () => {
    const { html, text, subject } = renderEmail([explained]);
    expect(html).toContain(
      `<th align="left" style="padding:2px 12px 2px 0;vertical-align:top">Top models</th><td style="padding:2px 0"><a href="${GPT_4O_URL.replace('&', '&amp;')}">gpt-4o</a> $40.00 (65.3%, +$30.00 on $10.00), <a href="${CLAUDE_URL.replace('&', '&amp;')}">claude-3</a> $12.00 (19.6%, new), (none) $2.50 (4.1%, -$1.50 on $4.00)</td>`,
    );
    expect(html).toContain('<td style="padding:2px 0">not available (the request budget admits no more Langfuse requests until 13:40)</td>');
    expect(text).toContain('  Top trace names: research_agent $61.25 (100%)\n');
    expect(subject).toBe('[CRITICAL] daily-budget: $61.25 > $50.00');
  });

  it('escapes hostile values in the HTML and keeps them out of the subject', () => {
    const { html, subject } = renderEmail([hostileContributors]);
    expect(html).toContain('>&lt;img src=x onerror=alert(1)&gt;</a> $10.00 (16.3%)');
    expect(html).toContain('>*bold* &lt;/script&gt;</a>');
    expect(html).toContain('>gpt\\x0d\\x0aBcc: x@evil.example</a>');
    expect(html).not.toMatch(/<img|<\/script|<!here/);
    expect(subject).toBe('[CRITICAL] daily-budget: $61.25 > $50.00');
  });
});

describe('top contributors in Slack', () => {
  const sectionOf = (n: Parameters<typeof renderSlack>[0][number]) => renderSlack([n]).blocks[1]?.text.text ?? '';

  it('lists them under the facts, each value linked', () => {
    expect(sectionOf(explained)).toBe(
      [
        '*Spend:* $61.25',
        '*Threshold:* $50.00',
        '*Window:* day, 2026-11-24 00:00 – 14:00 America/New_York',
        '*Langfuse:* <https://cloud.langfuse.com/project/proj-1|Open in Langfuse>',
        `*Top models:* <${GPT_4O_URL.replace('&', '&amp;')}|gpt-4o> $40.00 (65.3%, +$30.00 on $10.00), <${CLAUDE_URL.replace('&', '&amp;')}|claude-3> $12.00 (19.6%, new), (none) $2.50 (4.1%, -$1.50 on $4.00)`,
        `*Top trace names:* <${RESEARCH_URL.replace('&', '&amp;')}|research_agent> $61.25 (100%)`,
        '*Top users:* not available (the request budget admits no more Langfuse requests until 13:40)',
      ].join('\n'),
    );
  });

  it('drops the links of a line that does not fit with them', () => {
    const long = (value: string) => contributor({ value, url: `https://lf.example/${value}/${'a'.repeat(1_200)}` });
    const section = sectionOf(notification({ contributors: [long('a'), long('b'), long('c')] }));
    expect(section.length).toBeLessThanOrEqual(3_000);
    expect(section.endsWith('\n*Top models:* a $40.00 (50%), b $40.00 (50%), c $40.00 (50%)')).toBe(true);
    expect(section).not.toContain('lf.example');
  });

  it('cuts contributor lines, never the facts, and names the lines left out', () => {
    const note = '<'.repeat(660);
    const facts = sectionOf(notification({ message: note }));
    const wide = (dimension: Contributor['dimension']) =>
      [1, 2, 3].map((rank) => contributor({ dimension, value: `${dimension}-${rank}-${'v'.repeat(70)}` }));
    const section = sectionOf(notification({ message: note, contributors: [...wide('model'), ...wide('userId'), ...wide('release')] }));
    expect(facts.length).toBeGreaterThan(2_800);
    expect(facts).toContain('*Langfuse:* <https://cloud.langfuse.com/project/proj-1|Open in Langfuse>');
    expect(section).toBe(`${facts}\n_…left out to fit Slack: Top models, Top users, Top releases_`);
  });

  it('keeps 30 notifications with 5 dimensions of 3 long values each within 50 blocks and 3,000 characters a section', () => {
    const many = Array.from({ length: 30 }, (_, index) =>
      notification({
        id: `n${index}`,
        alert: `alert-${index}`,
        contributors: everyDimension(
          (dimension, rank) => `${dimension}-${rank}-${'<&>'.repeat(66)}`.slice(0, 200),
          (value) => `https://lf.example/project/p/traces?filter=${encodeURIComponent(encodeURIComponent(value))}`,
        ),
      }),
    );
    const message = renderSlack(many);
    expect(message.blocks).toHaveLength(31);
    for (const [index, block] of message.blocks.slice(1).entries()) {
      const text = block.text.text;
      expect(text.length).toBeLessThanOrEqual(3_000);
      // the alert's facts whole
      expect(text.startsWith(`*🔴 CRITICAL FIRING: alert-${index}*\n*Spend:* $61.25\n*Threshold:* $50.00\n*Window:* day,`)).toBe(true);
      expect(text).toContain('\n*Langfuse:* <https://cloud.langfuse.com/project/proj-1|Open in Langfuse>\n');
      // no half link, no raw < or > from the data
      expect(text.replace(/<https:\/\/[^<>|]+\|[^<>]*>/g, '')).not.toMatch(/[<>]/);
      // lines shown in explain order, the rest named
      const shown = text.split('\n').filter((line) => line.startsWith('*Top '));
      expect(shown.length).toBeGreaterThan(0);
      expect(shown.length).toBeLessThan(5);
      const labels = ['Top models', 'Top trace names', 'Top users', 'Top environments', 'Top releases'];
      expect(shown.map((line) => line.slice(1, line.indexOf(':*')))).toEqual(labels.slice(0, shown.length));
      expect(text.endsWith(`\n_…left out to fit Slack: ${labels.slice(shown.length).join(', ')}_`)).toBe(true);
    }
  });
});

describe('top contributors in the webhook body', () => {
  it('lists each contributor with exactly the documented keys, in order', () => {
    const body = webhookBody(
      notification({
        contributors: [{ ...contributor({ url: GPT_4O_URL }), extra: 'not documented' } as Contributor],
      }),
    );
    expect(body.contributors).toEqual([{ dimension: 'model', value: 'gpt-4o', spend: 40, share: 0.5, baseline: null, change: null, url: GPT_4O_URL }]);
    expect(Object.keys(body.contributors[0] ?? {})).toEqual(['dimension', 'value', 'spend', 'share', 'baseline', 'change', 'url']);
    expect(Object.keys(webhookBody(explained)).slice(-3)).toEqual(['langfuseUrl', 'contributors', 'contributorsMissing']);
    expect(webhookBody(explained).contributorsMissing).toEqual([
      { dimension: 'userId', reason: 'the request budget admits no more Langfuse requests until 13:40' },
    ]);
  });

  it('has contributors: [] in every other body, and contributorsMissing only when some are missing', () => {
    for (const n of [firing, resolved, systemNotice, notification({ test: true, message: 'hi' }), notification({ contributors: [], contributorsMissing: [] })]) {
      expect(webhookBody(n).contributors).toEqual([]);
      expect(webhookBody(n)).not.toHaveProperty('contributorsMissing');
    }
  });
});
