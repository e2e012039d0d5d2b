import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DeliveryError } from '../../src/channels/channel.js';
import { deliver } from '../../src/channels/deliver.js';
import { createSlackChannel } from '../../src/channels/slack.js';
import { SLACK_LIMITS, renderSlack, type SlackMessage } from '../../src/render/slack.js';
import type { Notification } from '../../src/core/notification.js';
import { startHttpReceiver, type HttpReceiver } from '../support/http-receiver.js';
import { CLAUDE_URL, GPT_4O_URL, RESEARCH_URL, context, explained, firing, hostileContributors, notification, recordingSleep, resolved } from './fixtures.js';
import { everyDimension } from '../support/contributors.js';

const hookPath = '/services/T0SLACKTEST/B0SLACKTEST/slackSecretToken123';

let receiver: HttpReceiver;
beforeEach(async () => {
  receiver = await startHttpReceiver();
});
afterEach(async () => {
  await receiver.close();
});

function channel() {
  return createSlackChannel('slack-ops', { type: 'slack', webhookUrl: receiver.url(hookPath) }, context());
}

function posted(index = 0): SlackMessage & Record<string, unknown> {
  const request = receiver.requests[index];
  expect(request).toBeDefined();
  return request?.json as SlackMessage & Record<string, unknown>;
}

/** every piece of text Slack would parse */
function texts(message: SlackMessage): string[] {
  return [message.text, ...message.blocks.map((b) => b.text.text)];
}

const hostile = notification({
  id: 'model-budget|model=evil|p|critical|firing',
  alert: 'model-budget',
  group: { model: '<!channel> <https://evil.example|click me> @here & <@U123>' },
});

describe('slack channel', () => {
  it('posts JSON to the webhook with a header and the facts, without link unfurling', async () => {
    await channel().send([firing], AbortSignal.timeout(5_000));
    const [request] = receiver.requests;
    expect(request).toMatchObject({ method: 'POST', path: hookPath });
    expect(request?.headers['content-type']).toBe('application/json');
    const message = posted();
    expect(message).toMatchObject({ unfurl_links: false, unfurl_media: false });
    expect(message.blocks[0]).toEqual({
      type: 'header',
      text: { type: 'plain_text', text: '🔴 CRITICAL FIRING: daily-budget', emoji: true },
    });
    expect(message.blocks[1]?.text.text).toBe(
      [
        '*Spend:* $61.25',
        '*Threshold:* $50.00',
        '*Window:* day, 2026-11-24 00:00 – 14:00 America/New_York',
        '*Langfuse:* <https://cloud.langfuse.com/project/proj-1|Open in Langfuse>',
      ].join('\n'),
    );
    expect(message.text).toBe('🔴 CRITICAL FIRING: daily-budget ($61.25 &gt; $50.00)');
  });

  it('sends one message for several notifications, most severe first', async () => {
    await channel().send([resolved, firing], AbortSignal.timeout(5_000));
    expect(receiver.requests).toHaveLength(1);
    const message = posted();
    expect(message.blocks.map((b) => b.text.text.split('\n')[0])).toEqual([
      '2 spend alerts: 1 critical, 1 resolved',
      '*🔴 CRITICAL FIRING: daily-budget*',
      '*✅ WARNING RESOLVED: model-budget*',
    ]);
  });

  it('escapes mentions and links coming from traced data', async () => {
    await channel().send([hostile], AbortSignal.timeout(5_000));
    const message = posted();
    const all = texts(message).join('\n');
    expect(all).toContain('&lt;!channel&gt; &lt;https://evil.example|click me&gt; @\u200dhere &amp; &lt;@U123&gt;');
    expect(all).not.toContain('<!');
    expect(all).not.toContain('<@');
    expect(all).not.toContain('<https://evil');
    // the only link is ours
    expect(all.match(/<[^>]*>/g)).toEqual(['<https://cloud.langfuse.com/project/proj-1|Open in Langfuse>']);
    for (const block of message.blocks) {
      if (block.type === 'section') expect(block.text.verbatim).toBe(true);
    }
  });

  it('lists the top contributors under the facts, each value linked to Langfuse', async () => {
    await channel().send([explained], AbortSignal.timeout(5_000));
    const lines = (posted().blocks[1]?.text.text ?? '').split('\n');
    expect(lines.slice(0, 4).map((line) => line.split(':*')[0])).toEqual(['*Spend', '*Threshold', '*Window', '*Langfuse']);
    // Slack escapes & in an address too
    const [gpt, claude, research] = [GPT_4O_URL, CLAUDE_URL, RESEARCH_URL].map((url) => url.replace('&', '&amp;'));
    expect(lines.slice(4)).toEqual([
      `*Top models:* <${gpt}|gpt-4o> $40.00 (65.3%, +$30.00 on $10.00), <${claude}|claude-3> $12.00 (19.6%, new), (none) $2.50 (4.1%, -$1.50 on $4.00)`,
      `*Top trace names:* <${research}|research_agent> $61.25 (100%)`,
      '*Top users:* not available (the request budget admits no more Langfuse requests until 13:40)',
    ]);
  });

  it('escapes mentions, links and markup in contributor values', async () => {
    await channel().send([hostileContributors], AbortSignal.timeout(5_000));
    const all = texts(posted()).join('\n');
    expect(all).toContain('|&lt;img src=x onerror=alert(1)&gt;> $10.00 (16.3%)');
    expect(all).toContain('|@\u200dchannel &lt;!here&gt;> $9.00 (14.7%)');
    expect(all).toContain('|*bold* &lt;/script&gt;> $8.00 (13.1%)');
    expect(all).toContain('|gpt\\x0d\\x0aBcc: x@evil.example> $7.00 (11.4%)');
    expect(all).not.toMatch(/<!|<@|<img|<\/script|@channel/);
    // the only links are ours: the project and the four contributor lists
    expect(all.match(/<[^|>]*\|/g)).toEqual([
      '<https://cloud.langfuse.com/project/proj-1|',
      ...[0, 1, 2, 3].map((index) => `<https://cloud.langfuse.com/project/proj-1/observations?filter=${index}&amp;dateRange=1795496400000-1795546800000|`),
    ]);
  });

  it('keeps 30 notifications with long contributor values within 50 blocks and 3,000 characters, facts whole', async () => {
    const many = Array.from({ length: 30 }, (_, index) =>
      notification({
        id: `n${index}`,
        alert: `alert-${index}`,
        contributors: everyDimension(
          (dimension, rank) => `${dimension}-${rank}-${'x'.repeat(200)}`.slice(0, 200),
          () => `https://cloud.langfuse.com/project/proj-1/traces?filter=${'y'.repeat(300)}`,
        ),
      }),
    );
    await channel().send(many, AbortSignal.timeout(5_000));
    const message = posted();
    expect(message.blocks).toHaveLength(31);
    for (const block of message.blocks) {
      const limit = block.type === 'header' ? SLACK_LIMITS.headerChars : SLACK_LIMITS.sectionChars;
      expect(block.text.text.length).toBeLessThanOrEqual(limit);
    }
    for (const block of message.blocks.slice(1)) {
      expect(block.text.text).toContain('\n*Spend:* $61.25\n*Threshold:* $50.00\n');
      expect(block.text.text).toContain('\n*Langfuse:* <https://cloud.langfuse.com/project/proj-1|Open in Langfuse>\n*Top models:* ');
      expect(block.text.text).toMatch(/\n_…left out to fit Slack: [a-z ,]+_$/i);
    }
  });

  it('breaks bare broadcast mentions for Slack-compatible receivers (Mattermost, Rocket.Chat), which ignore verbatim', async () => {
    const loud = notification({
      alert: 'model-budget',
      group: { model: '@here @channel @ALL @everyone, not @hereafter nor mail@example.com' },
    });
    await channel().send([loud], AbortSignal.timeout(5_000));
    const all = texts(posted()).join('\n');
    expect(all).not.toMatch(/@(here|channel|all|everyone)\b/i);
    expect(all).toContain('@\u200dhere @\u200dchannel @\u200dALL @\u200deveryone, not @hereafter nor mail@example.com');
  });

  it('keeps 60 notifications within 50 blocks, 3,000 characters a section, most severe listed', () => {
    const many: Notification[] = [];
    for (let i = 0; i < 60; i += 1) {
      const severity = i % 3 === 0 ? 'critical' : 'warning';
      const status = i % 4 === 0 ? 'resolved' : 'firing';
      many.push(notification({ id: `n${i}`, alert: `alert-${i}`, severity, status, group: { model: 'x'.repeat(5_000) } }));
    }
    const message = renderSlack(many);
    expect(message.blocks.length).toBeLessThanOrEqual(SLACK_LIMITS.blocks);
    for (const block of message.blocks) {
      const limit = block.type === 'header' ? SLACK_LIMITS.headerChars : SLACK_LIMITS.sectionChars;
      expect(block.text.text.length).toBeLessThanOrEqual(limit);
    }
    const sections = message.blocks.slice(1, -1).map((b) => b.text.text.split('\n')[0] ?? '');
    expect(sections).toHaveLength(SLACK_LIMITS.blocks - 2);
    // 15 critical firing, 30 warning firing, 15 resolved: the last 12 resolved don't fit
    expect(sections.filter((line) => line.includes('CRITICAL FIRING'))).toHaveLength(15);
    const order = sections.map((line) => (line.includes('CRITICAL FIRING') ? 0 : line.includes('WARNING FIRING') ? 1 : 2));
    expect(order).toEqual([...order].sort((a, b) => a - b));
    expect(message.blocks[message.blocks.length - 1]?.text.text).toBe('…and 12 more (12 resolved)');
  });

  it('cuts a section of escaped text without breaking an entity or a link', () => {
    const message = renderSlack([notification({ kind: 'system', message: '<'.repeat(3_000) })]);
    const section = message.blocks[1]?.text.text ?? '';
    expect(section.length).toBeLessThanOrEqual(SLACK_LIMITS.sectionChars);
    expect(section.endsWith('…')).toBe(true);
    expect(section.slice(0, -1)).toMatch(/(&lt;)+$/);
  });

  it('waits for Retry-After on 429 and then delivers, through deliver()', async () => {
    receiver.enqueue({ status: 429, headers: { 'Retry-After': '7' }, body: 'rate_limited' });
    const { sleep, waits } = recordingSleep();
    const outcomes = await deliver(channel(), [firing], { sleep, random: () => 0, maxDelayMs: 30_000 });
    expect(outcomes).toEqual([{ notificationId: firing.id, ok: true }]);
    expect(waits).toEqual([7_000]);
    expect(receiver.requests.map((r) => r.status)).toEqual([429, 200]);
  });

  it('stops when Retry-After is longer than the longest wait, and says so', async () => {
    receiver.enqueue({ status: 429, headers: { 'Retry-After': '120' }, body: 'rate_limited' });
    const { sleep, waits } = recordingSleep();
    const [outcome] = await deliver(channel(), [firing], { sleep, maxDelayMs: 30_000 });
    expect(outcome).toMatchObject({ ok: false, retryable: true });
    expect(outcome?.ok === false && outcome.error).toContain('retry after 120 s');
    expect(waits).toEqual([]);
    expect(receiver.requests).toHaveLength(1);
  });

  it("treats 404 no_service as permanent, with Slack's reason and without the webhook path", async () => {
    receiver.enqueue({ status: 404, body: 'no_service' });
    const error = await channel()
      .send([firing], AbortSignal.timeout(5_000))
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DeliveryError);
    const { message, retryable } = error as DeliveryError;
    expect(retryable).toBe(false);
    expect(message).toBe(`Slack: HTTP 404 from ${receiver.origin}/…: no_service`);
    expect(message).not.toContain('services');
    expect(message).not.toContain('slackSecretToken123');
  });

  it('an error body over 1 MB is a permanent DeliveryError naming only the host', async () => {
    receiver.enqueue({ status: 502, body: '<html>'.repeat(300_000) });
    const error = (await channel()
      .send([firing], AbortSignal.timeout(5_000))
      .catch((e: unknown) => e)) as DeliveryError;
    expect(error).toBeInstanceOf(DeliveryError);
    expect([error.message, error.retryable]).toEqual([`Slack: HTTP 502 from ${receiver.origin}/…: answered more than 1 MB`, false]);
    expect(receiver.requests).toHaveLength(1);
  });

  it('reports an unreachable webhook as retryable, naming only the host', async () => {
    const address = receiver.url(hookPath);
    await receiver.close();
    const error = (await createSlackChannel('s', { type: 'slack', webhookUrl: address }, context())
      .send([firing], AbortSignal.timeout(5_000))
      .catch((e: unknown) => e)) as DeliveryError;
    expect(error).toBeInstanceOf(DeliveryError);
    expect(error.retryable).toBe(true);
    expect(error.message).toMatch(/^Slack: could not reach http:\/\/127\.0\.0\.1:\d+\/…: ECONNREFUSED$/);
    receiver = await startHttpReceiver();
  });
});
