// Slack incoming webhook: one message per evaluation listing every notification.
import * as z from 'zod/mini';
import { isDigest } from '../core/digest.js';
import { renderSlackDigest } from '../render/digest.js';
import { renderSlack } from '../render/slack.js';
import { httpRequest } from '../util/http.js';
import { hostOf } from '../util/redact.js';
import { describe, httpUrl } from '../core/schema-parts.js';
import { DeliveryError, type Channel } from './channel.js';
import { defineChannel, type ChannelDeps } from './definition.js';

const schema = describe(
  z.strictObject({
    type: z.literal('slack'),
    webhookUrl: describe(httpUrl, 'Slack incoming-webhook URL. A secret: use ${VAR}.'),
  }),
  'Posts to Slack through an incoming webhook.',
);

export type SlackChannelConfig = z.infer<typeof schema>;

export function createSlackChannel(name: string, config: SlackChannelConfig, deps: ChannelDeps): Channel {
  return {
    name,
    type: 'slack',
    batches: true,
    async send(notifications, signal) {
      if (notifications.length === 0) return;
      // deliver() sends a digest alone: it is never batched with alerts
      const [first] = notifications;
      const message = notifications.length === 1 && first !== undefined && isDigest(first) ? renderSlackDigest(first) : renderSlack(notifications);
      const result = await httpRequest({
        method: 'POST',
        url: config.webhookUrl,
        headers: { 'content-type': 'application/json' },
        // a Langfuse link preview under every alert is noise
        body: JSON.stringify({ ...message, unfurl_links: false, unfurl_media: false }),
        signal,
        timeoutMs: deps.timeoutMs,
        transport: deps.transport,
        clock: deps.clock,
      });
      if (!result.ok) throw new DeliveryError(`Slack: ${result.message}`, result.retryable, result.retryAfterSeconds);
    },
  };
}

export const slackChannel = defineChannel({
  type: 'slack',
  schema,
  // the URL's path is the token that lets anyone post to the channel
  secrets: ['webhookUrl'],
  describe: (config) => `slack (${hostOf(config.webhookUrl)})`,
  create: createSlackChannel,
});
