// Time limits as abort signals that say which limit ran out, started on an injectable timer so a
// test can make a limit run out at the moment it chooses instead of waiting for it.

/** The reason of a signal aborted by a time limit; its message names the limit and is safe to print. */
export class TimeLimitError extends Error {
  override name = 'TimeLimitError';
}

/**
 * Calls `expire` once `ms` have passed and returns what cancels it. `what` names the limit, so a
 * test's timer can tell the limits of one evaluation apart.
 */
export type StartTimer = (ms: number, expire: () => void, what: string) => () => void;

export const realTimer: StartTimer = (ms, expire) => {
  const timer = setTimeout(expire, ms);
  // like AbortSignal.timeout: a limit alone never keeps the process alive
  timer.unref();
  return () => clearTimeout(timer);
};

export interface TimeLimit {
  readonly signal: AbortSignal;
  /** stops the timer once the limited work is over */
  readonly clear: () => void;
}

/** A signal that aborts with TimeLimitError(`what`) after `ms`, or with `parent`'s reason when that aborts first. */
export function timeLimit(ms: number, what: string, parent: AbortSignal | undefined, startTimer: StartTimer = realTimer): TimeLimit {
  const own = new AbortController();
  const clear = startTimer(ms, () => own.abort(new TimeLimitError(what)), what);
  return { signal: parent ? AbortSignal.any([parent, own.signal]) : own.signal, clear };
}

/** Why `signal` aborted, for an error message: the limit that ran out, else "cancelled". */
export function abortReason(signal: AbortSignal): string {
  return signal.reason instanceof TimeLimitError ? signal.reason.message : 'cancelled';
}

/**
 * `work`, or a rejection as soon as `signal` aborts: a peer library that ignores the signal (SMTP)
 * can't hold its caller past the limit. The abandoned work's own failure is ignored.
 */
export function untilAborted<T>(work: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) {
    work.catch(() => {});
    return Promise.reject(signal.reason);
  }
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => {
      work.catch(() => {});
      reject(signal.reason);
    };
    signal.addEventListener('abort', onAbort, { once: true });
    work.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(error);
      },
    );
  });
}
