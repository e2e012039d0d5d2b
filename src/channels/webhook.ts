// Generic JSON webhook: one POST per notification, optionally signed so receivers can check that
// it came from us and is fresh.
import { createHmac, timingSafeEqual } from 'node:crypto';
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

export interface SignatureCheck {
  readonly secret: string;
  /** the raw request body, exactly as received */
  readonly body: string;
  /** the X-Spend-Alerts-Timestamp header */
  readonly timestamp: string | null | undefined;
  /** the X-Spend-Alerts-Signature header */
  readonly signature: string | null | undefined;
  /** reject requests older (or further in the future) than this; default 300, Infinity to skip */
  readonly toleranceSeconds?: number;
  /** unix seconds; default now */
  readonly now?: number;
}

/** For receivers: true when the signature matches the body and the timestamp is fresh. */
export function verifySignature(check: SignatureCheck): boolean {
  const { timestamp, signature } = check;
  if (typeof timestamp !== 'string' || !/^\d+$/.test(timestamp) || typeof signature !== 'string') return false;
  const now = check.now ?? Math.floor(Date.now() / 1000);
  if (Math.abs(now - Number(timestamp)) > (check.toleranceSeconds ?? 300)) return false;
  const expected = Buffer.from(signBody(check.secret, timestamp, check.body));
  const actual = Buffer.from(signature);
  return actual.length === expected.length && timingSafeEqual(actual, expected);
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
          const timestamp = Math.floor(context.clock().getTime() / 1000);
          headers[TIMESTAMP_HEADER] = String(timestamp);
          headers[SIGNATURE_HEADER] = signBody(config.secret, timestamp, body);
        }
        const result = await httpRequest({ method: 'POST', url: config.url, headers, body, signal, timeoutMs: context.timeoutMs, transport: context.transport, clock: context.clock });
        if (!result.ok) {
          throw new DeliveryError(`webhook: ${redact(result.message)}`, result.retryable, result.retryAfterSeconds);
        }
      }
    },
  };
}
