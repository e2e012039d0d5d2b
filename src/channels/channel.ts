// One small interface behind which every channel type sits. Retry, timeouts, classification and
// redaction wrap it once (./deliver.ts), so a channel file only knows how to talk to its peer.
import type { Notification } from '../core/notification.js';

export interface Channel {
  readonly name: string;
  /**
   * its definition's `type:` (`slack`), for messages and delivery records; a plain string so this
   * interface, which every channel file implements, needn't import the registry that lists them
   */
  readonly type: string;
  /**
   * true: one message carries every notification of an evaluation (Slack, email, console);
   * false: one request per notification (webhook).
   */
  readonly batches: boolean;
  /** Resolves when the peer accepted; rejects with a DeliveryError otherwise. */
  send(notifications: readonly Notification[], signal: AbortSignal): Promise<void>;
  /** Releases pooled connections (SMTP). */
  close?(): Promise<void>;
}

/** A failure to deliver; `message` is safe to print (no URLs with tokens, no passwords). */
export class DeliveryError extends Error {
  constructor(
    message: string,
    readonly retryable: boolean,
    /** seconds the peer asked us to wait (HTTP Retry-After) */
    readonly retryAfterSeconds?: number,
  ) {
    super(message);
    this.name = 'DeliveryError';
  }
}
