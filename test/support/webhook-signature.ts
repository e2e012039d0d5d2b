// A receiver's check of a signed webhook, as the README tells receivers to write it (the package is
// a command, not a library: receivers verify with their own few lines, in any language). The tests
// check signed deliveries with it.
import { timingSafeEqual } from 'node:crypto';
import { signBody } from '../../src/channels/webhook.js';

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

/** True when the signature matches the body and the timestamp is fresh. */
export function verifySignature(check: SignatureCheck): boolean {
  const { timestamp, signature } = check;
  if (typeof timestamp !== 'string' || !/^\d+$/.test(timestamp) || typeof signature !== 'string') return false;
  const now = check.now ?? Math.floor(Date.now() / 1000);
  if (Math.abs(now - Number(timestamp)) > (check.toleranceSeconds ?? 300)) return false;
  const expected = Buffer.from(signBody(check.secret, timestamp, check.body));
  const actual = Buffer.from(signature);
  return actual.length === expected.length && timingSafeEqual(actual, expected);
}
