// Generic JSON webhook: one POST per notification, optionally signed so receivers can check that
// it came from us and is fresh.
import { createHmac } from 'node:crypto';
import * as z from 'zod/mini';
import { isDigest } from '../core/digest.js';
import { digestWebhookBody } from '../render/digest.js';
import { webhookBody } from '../render/webhook.js';
import { httpRequest } from '../util/http.js';
import { createRedactor, hostOf } from '../util/redact.js';
import { describe, httpUrl, nonEmpty } from '../core/schema-parts.js';
import { DeliveryError, type Channel } from './channel.js';
import { defineChannel, type ChannelDeps } from './definition.js';

const schema = describe(
  z.strictObject({
    type: z.literal('webhook'),
    url: describe(httpUrl, 'Receives one JSON POST per notification. A secret: use ${VAR}.'),
    secret: describe(
      z.optional(nonEmpty()),
      'Signs every request: X-Spend-Alerts-Signature: sha256=<hex HMAC-SHA256 of "<timestamp>.<body>">. Use ${VAR}.',
    ),
  }),
  'POSTs a JSON body per notification to your automation.',
);

export type WebhookChannelConfig = z.infer<typeof schema>;

export const TIMESTAMP_HEADER = 'X-Spend-Alerts-Timestamp';
export const SIGNATURE_HEADER = 'X-Spend-Alerts-Signature';

/** "sha256=<hex HMAC-SHA256 of "<timestamp>.<body>">" */
export function signBody(secret: string, timestamp: number | string, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex')}`;
}

export function createWebhookChannel(name: string, config: WebhookChannelConfig, deps: ChannelDeps): Channel {
  // a receiver's error body may echo what it was sent
  const redact = createRedactor(config.secret === undefined ? [config.url] : [config.url, config.secret]);
  return {
    name,
    type: 'webhook',
    batches: false,
    async send(notifications, signal) {
      for (const notification of notifications) {
        const body = JSON.stringify(isDigest(notification) ? digestWebhookBody(notification) : webhookBody(notification));
        const headers: Record<string, string> = { 'content-type': 'application/json' };
        if (config.secret !== undefined) {
          const timestamp = Math.floor(deps.clock().getTime() / 1000);
          headers[TIMESTAMP_HEADER] = String(timestamp);
          headers[SIGNATURE_HEADER] = signBody(config.secret, timestamp, body);
        }
        const result = await httpRequest({
          method: 'POST',
          url: config.url,
          headers,
          body,
          signal,
          timeoutMs: deps.timeoutMs,
          transport: deps.transport,
          clock: deps.clock,
        });
        if (!result.ok) {
          throw new DeliveryError(`webhook: ${redact(result.message)}`, result.retryable, result.retryAfterSeconds);
        }
      }
    },
  };
}

export const webhookChannel = defineChannel({
  type: 'webhook',
  schema,
  // URLs of automation endpoints carry their token in the path or the query
  secrets: ['url', 'secret'],
  describe: (config) => `webhook (${hostOf(config.url)}${config.secret ? ', signed' : ''})`,
  create: createWebhookChannel,
});
