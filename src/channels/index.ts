// Builds channels from configuration. The compiler checks that every channel type of the schema
// has exactly one factory (ChannelFactories).
import type { ChannelConfig } from '../config/schema.js';
import type { Channel, ChannelContext, ChannelFactories } from './channel.js';
import { createConsoleChannel } from './console.js';
import { createEmailChannel } from './email.js';
import { createSlackChannel } from './slack.js';
import { createWebhookChannel } from './webhook.js';

export const channelFactories: ChannelFactories = {
  slack: createSlackChannel,
  email: createEmailChannel,
  webhook: createWebhookChannel,
  console: createConsoleChannel,
};

export function createChannel(name: string, config: ChannelConfig, context: ChannelContext): Channel {
  switch (config.type) {
    case 'slack':
      return channelFactories.slack(name, config, context);
    case 'email':
      return channelFactories.email(name, config, context);
    case 'webhook':
      return channelFactories.webhook(name, config, context);
    case 'console':
      return channelFactories.console(name, config, context);
  }
}

/** The values of a channel's configuration that must never appear in logs or messages. */
export function channelSecrets(config: ChannelConfig): string[] {
  switch (config.type) {
    case 'slack':
      return [config.webhookUrl];
    case 'email':
      return [config.smtpUrl];
    case 'webhook':
      return config.secret === undefined ? [config.url] : [config.url, config.secret];
    case 'console':
      return [];
  }
}
