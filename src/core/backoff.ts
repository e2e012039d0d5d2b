// Exponential backoff, used by every retry schedule so they all behave alike: the wait doubles with
// each retry up to a cap. Pure math, so the core's outbox and the edges' retries share one formula:
// schedules kept in the state (a channel's next attempt, the request quota's pause) wait the ceiling
// itself; retries waited for in process add full jitter (src/util/backoff.ts).

/** The longest wait before retry number `attempt` (1 = the first retry): `baseMs` doubled per retry, at most `maxMs`. */
export function backoffCeilingMs(attempt: number, options: { readonly baseMs: number; readonly maxMs: number }): number {
  return Math.min(options.maxMs, options.baseMs * 2 ** (attempt - 1));
}
