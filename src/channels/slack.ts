// Slack incoming webhook: one message per evaluation listing every notification.
import type { ChannelConfig } from '../config/schema.js';
import { renderSlack } from '../render/slack.js';
import { httpRequest } from '../util/http.js';
import { DeliveryError, type Channel, type ChannelContext } from './channel.js';

export type SlackChannelConfig = Extract<ChannelConfig, { type: 'slack' }>;

export function createSlackChannel(name: string, config: SlackChannelConfig, context: ChannelContext): Channel {
  return {
    name,
    type: 'slack',
    digest: true,
    async send(notifications, signal) {
      if (notifications.length === 0) return;
      const message = renderSlack(notifications);
      const result = await httpRequest({
        method: 'POST',
        url: config.webhookUrl,
        headers: { 'content-type': 'application/json' },
        // a Langfuse link preview under every alert is noise
        body: JSON.stringify({ ...message, unfurl_links: false, unfurl_media: false }),
        signal,
        timeoutMs: context.timeoutMs,
        transport: context.transport,
        clock: context.clock,
      });
      if (!result.ok) throw new DeliveryError(`Slack: ${result.message}`, result.retryable, result.retryAfterSeconds);
    },
  };
}
