// One small interface behind which every channel type sits. Retry, timeouts, classification and
// redaction wrap it once (./deliver.ts), so a channel file only knows how to talk to its peer.
import type { ChannelConfig, ChannelType } from '../config/schema.js';
import type { Notification } from '../core/notification.js';
import type { Transport } from '../net/transport.js';

export interface Channel {
  readonly name: string;
  readonly type: ChannelType;
  /**
   * true: one message carries every notification of an evaluation (Slack, email, console);
   * false: one request per notification (webhook).
   */
  readonly digest: boolean;
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

export interface ChannelContext {
  /** where console channels print; defaults to process.stdout in the CLI */
  readonly stdout: NodeJS.WritableStream;
  /** per-request timeout */
  readonly timeoutMs: number;
  /** how HTTP channels reach their peer (direct, or through a proxy) */
  readonly transport: Transport;
  /** the wall clock (a Retry-After given as a date) */
  readonly clock: () => Date;
}

export type ChannelFactory<T extends ChannelConfig = ChannelConfig> = (
  name: string,
  config: T,
  context: ChannelContext,
) => Channel;

/** Checked by the compiler: every channel type of the schema has exactly one factory. */
export type ChannelFactories = { [K in ChannelType]: ChannelFactory<Extract<ChannelConfig, { type: K }>> };
