// Every channel type, one line each. The `channels:` schema of alerts.yaml is built from this list
// (src/config/schema.ts), and so are redaction, `validate`'s summary, the channel cross-checks and
// channel creation; a new channel type is its file plus its line here (docs/adding-a-channel.md).
import type * as z from 'zod/mini';
import type { Channel } from './channel.js';
import { consoleChannel } from './console.js';
import type { ChannelDefinition, ChannelDeps, ChannelSchema } from './definition.js';
import { emailChannel } from './email.js';
import { slackChannel } from './slack.js';
import { webhookChannel } from './webhook.js';

export const CHANNEL_DEFINITIONS = [slackChannel, emailChannel, webhookChannel, consoleChannel] as const;

type Definitions = typeof CHANNEL_DEFINITIONS;

/** The registered schemas, in registry order, typed one by one (what z.discriminatedUnion needs). */
export type ChannelSchemas = SchemasOf<Definitions>;
type SchemasOf<T extends readonly unknown[]> = { -readonly [K in keyof T]: T[K] extends { readonly schema: infer S } ? S : never };

export function channelSchemas(): ChannelSchemas {
  return CHANNEL_DEFINITIONS.map((definition) => definition.schema) as unknown as ChannelSchemas;
}

/** The settings of any registered channel type. */
export type AnyChannelConfig = z.output<Definitions[number]['schema']>;
export type ChannelType = AnyChannelConfig['type'];

/** The definition registered for `type`; undefined for a type no channel has. */
export function channelDefinition(type: unknown): ChannelDefinition | undefined {
  return (CHANNEL_DEFINITIONS as readonly ChannelDefinition<ChannelSchema>[]).find((definition) => definition.type === type);
}

export function createChannel(name: string, config: AnyChannelConfig, deps: ChannelDeps): Channel {
  // the schema admitted only registered types, so the definition exists and fits the config
  return channelDefinition(config.type)!.create(name, config as never, deps);
}

/** `validate`'s line for a channel: where it sends, never a credential. */
export function describeChannel(config: AnyChannelConfig): string {
  return channelDefinition(config.type)!.describe(config as never);
}

/**
 * Whether the value of `key` in a channel entry of type `type` (as written, maybe invalid) is a
 * credential. A type no channel has, or a key its type doesn't have (a setting under the wrong
 * type), counts as secret if any channel keeps that key secret: a misplaced webhook URL is still one.
 */
export function isSecretChannelField(type: unknown, key: string): boolean {
  const definition = channelDefinition(type);
  if (definition && key in definition.schema.shape) return (definition.secrets as readonly string[]).includes(key);
  return CHANNEL_DEFINITIONS.some((other) => (other.secrets as readonly string[]).includes(key));
}
