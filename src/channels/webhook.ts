// Generic JSON webhook: one POST per notification, optionally signed so receivers can check that
// it came from us and is fresh.
import { createHmac } from 'node:crypto';
import type { ChannelConfig } from '../config/schema.js';
import { webhookBody } from '../render/webhook.js';
import { httpRequest } from '../util/http.js';
import { createRedactor } from '../util/redact.js';
import { DeliveryError, type Channel, type ChannelContext } from './channel.js';

export type WebhookChannelConfig = Extract<ChannelConfig, { type: 'webhook' }>;

export const TIMESTAMP_HEADER = 'X-Spend-Alerts-Timestamp';
export const SIGNATURE_HEADER = 'X-Spend-Alerts-Signature';

/** "sha256=<hex HMAC-SHA256 of "<timestamp>.<body>">" */
export function signBody(secret: string, timestamp: number | string, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex')}`;
}

export function createWebhookChannel(name: string, config: WebhookChannelConfig, context: ChannelContext): Channel {
  // a receiver's error body may echo what it was sent
  const redact = createRedactor(config.secret === undefined ? [config.url] : [config.url, config.secret]);
  return {
    name,
    type: 'webhook',
    digest: false,
    async send(notifications, signal) {
      for (const notification of notifications) {
        const body = JSON.stringify(webhookBody(notification));
        const headers: Record<string, string> = { 'content-type': 'application/json' };
        if (config.secret !== undefined) {
          const timestamp = Math.floor(Date.now() / 1000);
          headers[TIMESTAMP_HEADER] = String(timestamp);
          headers[SIGNATURE_HEADER] = signBody(config.secret, timestamp, body);
        }
        const result = await httpRequest({ method: 'POST', url: config.url, headers, body, signal, timeoutMs: context.timeoutMs });
        if (!result.ok) {
          throw new DeliveryError(`webhook: ${redact(result.message)}`, result.retryable, result.retryAfterSeconds);
        }
      }
    },
  };
}
