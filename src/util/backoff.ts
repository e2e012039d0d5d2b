// Retries waited for in process: full jitter over the core's exponential ceiling (src/core/backoff.ts),
// and the sleep between them.
import { backoffCeilingMs } from '../core/backoff.js';

export type Sleep = (ms: number, signal?: AbortSignal) => Promise<void>;

export interface BackoffOptions {
  readonly baseMs: number;
  readonly maxMs: number;
  /** the peer's Retry-After wins over our own schedule */
  readonly retryAfterSeconds?: number | undefined;
  readonly random?: () => number;
}

/** Delay before retry number `attempt` (1 = the first retry): a random share of the ceiling. */
export function retryDelayMs(attempt: number, options: BackoffOptions): number {
  if (options.retryAfterSeconds !== undefined) return options.retryAfterSeconds * 1000;
  return Math.round((options.random ?? Math.random)() * backoffCeilingMs(attempt, options));
}

export const sleep: Sleep = (ms, signal) =>
  new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
