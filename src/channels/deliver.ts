// The one place that decides how hard to try: every send through every channel goes through
// deliver(), so retry, backoff, Retry-After and redaction behave the same for Slack, email and
// webhooks. Channels only talk to their peer and classify its answer.
import { isDigest } from '../core/digest.js';
import type { Notification } from '../core/notification.js';
import { retryDelayMs, sleep as realSleep } from '../util/backoff.js';
import { abortReason, untilAborted } from '../util/deadline.js';
import { DeliveryError, type Channel } from './channel.js';

export type DeliveryOutcome =
  | { readonly notificationId: string; readonly ok: true }
  | {
      readonly notificationId: string;
      readonly ok: false;
      /** redacted, safe to log and print */
      readonly error: string;
      /** false when the peer refused for good (bad token, unknown mailbox): retrying won't help */
      readonly retryable: boolean;
      /**
       * the peer's Retry-After when this evaluation stopped trying (it asked for more than
       * maxDelayMs, or the attempts or the time ran out first): the next attempt waits for it
       */
      readonly retryAfterSeconds?: number;
    };

export interface DeliverOptions {
  /** tries per send, the first included; default 3 */
  readonly attempts?: number;
  /** backoff before try n+1 is a random wait up to min(maxDelayMs, baseDelayMs × 2^(n-1)); default 1000 */
  readonly baseDelayMs?: number;
  /** the longest wait between tries, also the longest Retry-After honoured; default 30000 */
  readonly maxDelayMs?: number;
  /**
   * cancels waiting and sending (shutdown, a time limit): a send the channel doesn't stop is no
   * longer waited for. An abort reason of TimeLimitError names the limit in the error.
   */
  readonly signal?: AbortSignal;
  readonly sleep?: (ms: number, signal: AbortSignal) => Promise<void>;
  /** [0, 1); jitter source */
  readonly random?: () => number;
  /** applied to every error message on top of the channel's own care */
  readonly redact?: (text: string) => string;
  /**
   * Told of the outcomes of each send (a batch's notifications together) as soon as the peer
   * answered, before the next send starts: recording them there means a crash can repeat at most
   * the one send in flight.
   */
  readonly onSent?: (outcomes: readonly DeliveryOutcome[]) => Promise<void>;
}

function asDeliveryError(error: unknown): DeliveryError {
  if (error instanceof DeliveryError) return error;
  // not classified by the channel: a bug or an unexpected failure; another try costs little
  return new DeliveryError(error instanceof Error ? error.message : String(error), true);
}

type SendResult =
  | { readonly ok: true }
  | { readonly ok: false; readonly error: string; readonly retryable: boolean; readonly retryAfterSeconds?: number };

async function sendWithRetry(
  channel: Channel,
  batch: readonly Notification[],
  options: DeliverOptions,
  signal: AbortSignal,
): Promise<SendResult> {
  const attempts = Math.max(1, options.attempts ?? 3);
  const baseDelayMs = options.baseDelayMs ?? 1000;
  const maxDelayMs = options.maxDelayMs ?? 30_000;
  const sleep = options.sleep ?? realSleep;
  const random = options.random ?? Math.random;
  const tries = (n: number) => (n === 1 ? '' : ` (after ${n} attempts)`);
  for (let attempt = 1; ; attempt += 1) {
    if (signal.aborted) return { ok: false, error: notSent(signal), retryable: true };
    let failure: DeliveryError;
    try {
      await untilAborted(channel.send(batch, signal), signal);
      return { ok: true };
    } catch (error) {
      // the limit ran out while the peer had not answered: no reply to name
      if (signal.aborted && error === signal.reason) {
        return { ok: false, error: `${channel.type}: no answer (${abortReason(signal)})`, retryable: true };
      }
      failure = asDeliveryError(error);
    }
    if (signal.aborted) return givenUp(failure, `${failure.message} (${abortReason(signal)})`, failure.retryable);
    if (!failure.retryable || attempt >= attempts) {
      return givenUp(failure, `${failure.message}${askedToWait(failure)}${tries(attempt)}`, failure.retryable);
    }
    let wait = retryDelayMs(attempt, { baseMs: baseDelayMs, maxMs: maxDelayMs, random });
    if (failure.retryAfterSeconds !== undefined) {
      const asked = failure.retryAfterSeconds * 1000;
      if (asked > maxDelayMs) return givenUp(failure, `${failure.message}${askedToWait(failure)}${tries(attempt)}`, true);
      wait = Math.max(wait, asked);
    }
    try {
      await sleep(wait, signal);
    } catch {
      return givenUp(failure, `${failure.message} (${abortReason(signal)})`, true);
    }
  }
}

/**
 * The result of a send this evaluation stops trying. A Retry-After the peer sent goes with it
 * whichever way the trying ended (asked for too long, attempts used up, time limit), so that the
 * outbox doesn't try again before it.
 */
function givenUp(failure: DeliveryError, error: string, retryable: boolean): SendResult {
  return failure.retryAfterSeconds === undefined
    ? { ok: false, error, retryable }
    : { ok: false, error, retryable, retryAfterSeconds: failure.retryAfterSeconds };
}

function askedToWait(failure: DeliveryError): string {
  return failure.retryAfterSeconds === undefined ? '' : `; asked to retry after ${failure.retryAfterSeconds} s`;
}

/** "cancelled before delivery", or which time limit ran out before it. */
function notSent(signal: AbortSignal): string {
  const reason = abortReason(signal);
  return reason === 'cancelled' ? 'cancelled before delivery' : `not sent: ${reason}`;
}

/** A batching channel's messages: the alerts together, each digest on its own (a digest is never batched with alerts). */
function batchesOf(notifications: readonly Notification[]): Notification[][] {
  const alerts = notifications.filter((n) => !isDigest(n));
  return [...(alerts.length === 0 ? [] : [alerts]), ...notifications.filter(isDigest).map((digest) => [digest])];
}

/**
 * Sends `notifications` through `channel` — in one message for channels that batch (a digest in one of its own), one by one
 * otherwise — retrying retryable failures with exponential backoff and full jitter. Never
 * throws; returns one outcome per notification, in input order.
 */
export async function deliver(
  channel: Channel,
  notifications: readonly Notification[],
  options: DeliverOptions = {},
): Promise<DeliveryOutcome[]> {
  const signal = options.signal ?? new AbortController().signal;
  const redact = options.redact ?? ((text: string) => text);
  const batches = channel.batches ? batchesOf(notifications) : notifications.map((n) => [n]);
  const outcomes: DeliveryOutcome[] = [];
  // a peer that asked to wait gets none of the other batches either: they would ask it again now
  let askedToWaitSeconds: number | undefined;
  for (const batch of batches) {
    const result: SendResult =
      askedToWaitSeconds === undefined
        ? await sendWithRetry(channel, batch, options, signal)
        : {
            ok: false,
            error: `not sent: ${channel.type} asked to retry after ${askedToWaitSeconds} s`,
            retryable: true,
            retryAfterSeconds: askedToWaitSeconds,
          };
    if (!result.ok && result.retryAfterSeconds !== undefined && result.retryAfterSeconds > 0) {
      askedToWaitSeconds = result.retryAfterSeconds;
    }
    const sent = batch.map(
      (n): DeliveryOutcome =>
        result.ok
          ? { notificationId: n.id, ok: true }
          : {
              notificationId: n.id,
              ok: false,
              error: redact(result.error),
              retryable: result.retryable,
              ...(result.retryAfterSeconds === undefined ? {} : { retryAfterSeconds: result.retryAfterSeconds }),
            },
    );
    outcomes.push(...sent);
    await options.onSent?.(sent);
  }
  // a digest's own message may have been sent after alerts that came after it
  const position = new Map(notifications.map((n, index) => [n.id, index]));
  return outcomes.sort((a, b) => position.get(a.notificationId)! - position.get(b.notificationId)!);
}
