// Exponential backoff, used by every retry schedule so they all behave alike: the wait doubles with
// each retry up to a cap. Retries waited for in process add full jitter (retryDelayMs); schedules
// kept in the state (a channel's next attempt, the request budget's pause) wait the ceiling itself.
export type Sleep = (ms: number, signal?: AbortSignal) => Promise<void>;

export interface BackoffOptions {
  readonly baseMs: number;
  readonly maxMs: number;
  /** the peer's Retry-After wins over our own schedule */
  readonly retryAfterSeconds?: number | undefined;
  readonly random?: () => number;
}

/** The longest wait before retry number `attempt` (1 = the first retry): `baseMs` doubled per retry, at most `maxMs`. */
export function backoffCeilingMs(attempt: number, options: Pick<BackoffOptions, 'baseMs' | 'maxMs'>): number {
  return Math.min(options.maxMs, options.baseMs * 2 ** (attempt - 1));
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
