// The request budget: how many Langfuse Metrics API requests the worker may spend, and when the
// next evaluation may spend them. Two mechanisms, both over the configured hourly and daily limits:
//
// - Sliding counters (per minute, over the last 24 hours) are the hard limit: an evaluation that
//   would take the last hour or day over its limit waits until enough older requests age out.
// - Pacing spreads the allowance evenly, so that a daily limit isn't spent by mid-morning and the
//   worker blind until the next day (a generic cell-rate algorithm): evaluations may run ahead of
//   an even schedule by a quarter of a window, and each request costs 1.25 × window / limit of
//   time, so that even with such a burst no window ever holds more than the limit and the
//   counters never have to stop the worker for hours.
//
// After a 429 nothing is admitted, and the planner sends nothing, before Retry-After (or a backoff
// when Langfuse gives none): this pause is the one record of "Langfuse said wait". The pace is
// halved, recovering by doubling for every hour after the pause without another 429. Without a
// configured limit a 429 still pauses, and the pace becomes half of what the last hour used.
//
// Its state is the storage key `langfuse-budget.json` (a file in the state directory) so restarts
// don't reset it. A `check` next to a running daemon spends from the same budget: every change is
// an update of what the storage holds, and admission reads it first.
import type { RequestBudgetPlan, RequestBudgetSetting } from '../../config/schema.js';
import type { Refusal } from '../../core/ledger.js';
import { memoryStorage } from '../../storage/memory.js';
import type { Codec, Storage } from '../../storage/storage.js';
import { backoffCeilingMs } from '../../core/backoff.js';
import { MAX_RETRY_AFTER_SECONDS } from '../../util/http.js';
import { floorTo, HOUR, MINUTE } from './planner/time.js';

export const QUOTA_FILE = 'langfuse-budget.json';
const BUDGET_VERSION = 1;
const DAY = 24 * HOUR;

export interface QuotaLimits {
  readonly perHour?: number;
  readonly perDay?: number;
}

export const PLAN_LIMITS: Readonly<Record<RequestBudgetPlan, QuotaLimits>> = {
  hobby: { perDay: 100 },
  core: { perHour: 100 },
  pro: { perHour: 500 },
  'self-hosted': {},
};

/** The limits a `langfuse.requestBudget` setting stands for; {} without one. */
export function quotaLimits(setting: RequestBudgetSetting | undefined): QuotaLimits {
  if (setting === undefined) return {};
  return typeof setting === 'string' ? PLAN_LIMITS[setting] : setting;
}

/** The share of the tightest limit one evaluation may spend: a cold start fills its history over several. */
const BURST_SHARE = 0.2;

/** The most requests one evaluation may send under these limits: 20 % of the tightest, at least 1; unlimited without one. */
export function burstAllowance(limits: QuotaLimits): number {
  return burstUnder(Math.min(limits.perHour ?? Infinity, limits.perDay ?? Infinity));
}

function burstUnder(tightest: number): number {
  return tightest === Infinity ? Infinity : Math.max(1, Math.floor(tightest * BURST_SHARE));
}

/** `hobby (100 a day)`, `200 an hour, 1,000 a day`, `none`. */
export function describeQuota(setting: RequestBudgetSetting | undefined): string {
  const limits = quotaLimits(setting);
  const parts = [
    ...(limits.perHour === undefined ? [] : [`${limits.perHour.toLocaleString('en-US')} an hour`]),
    ...(limits.perDay === undefined ? [] : [`${limits.perDay.toLocaleString('en-US')} a day`]),
  ];
  const text = parts.length > 0 ? parts.join(', ') : 'no limit';
  return typeof setting === 'string' ? `${setting} (${text})` : text;
}

/** Why an evaluation must wait (see the type in the ledger, which records deferrals); a one-off `check` may ignore `pace`. */
export type { Refusal } from '../../core/ledger.js';

/**
 * The answer to every query while Langfuse's pause is in force: the quota holds the one record of
 * "Langfuse said wait until", and the planner asks it before sending anything.
 */
export class LangfusePausedError extends Error {
  override name = 'LangfusePausedError';

  constructor(readonly until: Date) {
    super(`Langfuse asked not to be queried before ${until.toISOString()} (rate limit); not queried`);
  }
}

export type Admission =
  | { readonly ok: true }
  | { readonly ok: false; readonly retryAt: Date; readonly kind: Refusal; readonly reason: string };

export interface QuotaSnapshot {
  readonly limits: QuotaLimits;
  /** the limits in force now: lower than configured for a while after a 429 */
  readonly effective: QuotaLimits;
  readonly usedLastHour: number;
  readonly usedLastDay: number;
  /** nothing is admitted before this (a 429's Retry-After) */
  readonly pausedUntil: Date | null;
  /** 1, or a fraction after a 429 */
  readonly pace: number;
}

interface Strike {
  /** ms: when the pause it caused ended; the pace recovers from then on */
  readonly resumed: number;
  /** the pace right after the strike */
  readonly pace: number;
  /** without a configured hourly limit: the hourly limit the strike implied */
  readonly impliedPerHour: number | null;
  readonly count: number;
}

interface BudgetJson {
  version: number;
  /** [minute start ms, requests] over the last 24 hours */
  log: Array<[number, number]>;
  /** per window length (ms, as text): the pacing's theoretical arrival time, ms */
  pacing: Record<string, number>;
  pausedUntil: number | null;
  strike: Strike | null;
}

const MIN_PACE = 1 / 16;
/** how far evaluations may run ahead of the even pace, as a fraction of the window */
const BURST_FRACTION = 0.25;
/** the pause after a 429 without Retry-After: this, doubling with each strike in a row, up to an hour */
const BASE_PAUSE_MS = 60_000;
/** no pause is longer, whatever Langfuse asked (Retry-After is capped to it) or the file says */
const MAX_PAUSE_MS = MAX_RETRY_AFTER_SECONDS * 1000;
/** the latest time a Date can hold; a number beyond it makes `toISOString()` throw */
const MAX_DATE_MS = 8.64e15;

/** A number that a Date can hold: anything else read from the file would throw where it is printed. */
function isTime(value: unknown): value is number {
  return typeof value === 'number' && Number.isFinite(value) && Math.abs(value) <= MAX_DATE_MS;
}

/**
 * The budget's content; null when it is unreadable: a fresh start (the worker can't know what was
 * spent, and Langfuse's 429 remains the backstop). Values that are not times (a hand edit, a
 * damaged file) are dropped here; a pause too long is shortened by `repairedPause`.
 */
function parseBudget(text: string): BudgetJson | null {
  try {
    const data = JSON.parse(text) as BudgetJson;
    if (data?.version !== BUDGET_VERSION || !Array.isArray(data.log)) return null;
    const strike = data.strike;
    return {
      version: BUDGET_VERSION,
      log: data.log.filter((entry) => Array.isArray(entry) && isTime(entry[0]) && Number.isFinite(entry[1])),
      pacing: Object.fromEntries(Object.entries(data.pacing ?? {}).filter(([, tat]) => isTime(tat))),
      // kept as read when it is not a time, so that repairedPause reports it
      pausedUntil: data.pausedUntil ?? null,
      strike: strike && isTime(strike.resumed) && Number.isFinite(strike.pace) && Number.isFinite(strike.count) ? strike : null,
    };
  } catch {
    return null;
  }
}

const budgetCodec: Codec<BudgetJson | null> = { parse: parseBudget, serialize: (budget) => JSON.stringify(budget) + '\n' };

/**
 * A stored pause that can't be right — not a time, or further ahead than any Retry-After may ask
 * (written by an older version, or edited by hand) — repaired: dropped, or shortened to 24 h from
 * `at`. Null when it is fine.
 */
function repairedPause(pausedUntil: unknown, at: number): { pausedUntil: number | null; problem: string } | null {
  if (pausedUntil === null) return null;
  if (!isTime(pausedUntil)) {
    return { pausedUntil: null, problem: `the stored pause after a Langfuse 429 (${String(pausedUntil).slice(0, 40)}) is not a time: dropped` };
  }
  if (pausedUntil <= at + MAX_PAUSE_MS) return null;
  const shortened = at + MAX_PAUSE_MS;
  return {
    pausedUntil: shortened,
    problem: `the stored pause after a Langfuse 429 lasts until ${new Date(pausedUntil).toISOString()}, more than 24 h ahead: shortened to ${new Date(shortened).toISOString()}`,
  };
}

/** The state with its pause repaired (see repairedPause), and what was wrong; problem null when nothing was. */
function withRepairedPause(state: BudgetJson, at: number): { state: BudgetJson; problem: string | null } {
  const repaired = repairedPause(state.pausedUntil, at);
  return repaired === null ? { state, problem: null } : { state: { ...state, pausedUntil: repaired.pausedUntil }, problem: repaired.problem };
}

export class RequestQuota {
  private state: BudgetJson;

  private constructor(
    readonly limits: QuotaLimits,
    /** where the spending of this and other processes is kept */
    private readonly storage: Storage,
    state: BudgetJson | null,
    /** told once about a stored pause that had to be repaired */
    private readonly onRepair: (message: string) => void = () => {},
  ) {
    this.state = state ?? { version: BUDGET_VERSION, log: [], pacing: {}, pausedUntil: null, strike: null };
  }

  /**
   * Reads the budget's state from the storage (missing or unreadable: a fresh start). Every
   * command writes what it spends there, `check --dry-run` too.
   */
  static async open(options: { storage: Storage; limits: QuotaLimits; onRepair?: (message: string) => void }): Promise<RequestQuota> {
    const state = (await options.storage.read(QUOTA_FILE, budgetCodec)) ?? null;
    return new RequestQuota(options.limits, options.storage, state, options.onRepair);
  }

  /** A budget that lives in memory only (tests, demo). */
  static inMemory(limits: QuotaLimits): RequestQuota {
    return new RequestQuota(limits, memoryStorage(), null);
  }

  /**
   * Takes in what other processes (a `check` next to the daemon) spent since: call before `admit`.
   * A stored pause that can't be right is repaired, and written back so it is reported once.
   */
  async refresh(now: Date): Promise<void> {
    this.state = (await this.storage.read(QUOTA_FILE, budgetCodec)) ?? this.state;
    if (repairedPause(this.state.pausedUntil, now.getTime()) !== null) await this.update(now, (state) => state);
  }

  /** The pause Langfuse asked for still in force at `now`, as stored now (other processes' 429s included); null when there is none. */
  async pausedUntil(now: Date): Promise<Date | null> {
    await this.refresh(now);
    return this.snapshot(now).pausedUntil;
  }

  /** Repairs the pause in memory (see repairedPause) and reports what was wrong. */
  private repairPause(at: number): void {
    const repaired = withRepairedPause(this.state, at);
    this.state = repaired.state;
    if (repaired.problem !== null) this.onRepair(repaired.problem);
  }

  /**
   * Applies `change` at `now` to the state in the storage (what other processes spent included,
   * a stored pause repaired first), and keeps the result.
   */
  private async update(now: Date, change: (state: BudgetJson) => BudgetJson): Promise<void> {
    let problem: string | null = null;
    // never null: the change always returns a state
    this.state = (await this.storage.update(QUOTA_FILE, budgetCodec, (stored) => {
      const repaired = withRepairedPause(stored ?? this.state, now.getTime());
      problem = repaired.problem;
      return change(repaired.state);
    })) ?? this.state;
    if (problem !== null) this.onRepair(problem);
  }

  /**
   * Whether an evaluation expected to send `estimated` requests may run at `now`; if not, the
   * earliest time it could, and why. Ask again then (or at the first tick after it).
   */
  admit(estimated: number, now: Date): Admission {
    const at = now.getTime();
    this.repairPause(at);
    const { pausedUntil } = this.state;
    if (pausedUntil !== null && pausedUntil > at) {
      return {
        ok: false,
        retryAt: new Date(pausedUntil),
        kind: 'rate-limited',
        reason: `Langfuse asked to wait (HTTP 429) until ${new Date(pausedUntil).toISOString()}`,
      };
    }
    const n = Math.max(0, estimated);
    let wait = at;
    let kind: Refusal = 'pace';
    const reasons: string[] = [];
    for (const [window, limit] of this.windows(at)) {
      const label = window === HOUR ? 'hour' : 'day';
      const used = this.used(at, window);
      // An evaluation bigger than the whole limit runs alone: once nothing else is in its window.
      const allowed = Math.max(0, limit - Math.min(n, limit));
      if (used > allowed) {
        const until = this.agedOut(at, window, used - allowed);
        if (until > wait) wait = until;
        kind = 'limit';
        reasons.push(`${used} of ${Math.floor(limit)} requests used in the last ${label}`);
      }
      const interval = (window * (1 + BURST_FRACTION)) / limit;
      const tat = Math.max(at, this.state.pacing[String(window)] ?? at);
      const tolerance = Math.max(window * BURST_FRACTION, n * interval);
      const earliest = tat + n * interval - tolerance;
      if (earliest > at) {
        if (earliest > wait) wait = earliest;
        reasons.push(`spreading ${Math.floor(limit)} requests ${label === 'hour' ? 'an' : 'a'} ${label} evenly`);
      }
    }
    if (wait <= at) return { ok: true };
    return { ok: false, retryAt: new Date(Math.ceil(wait)), kind, reason: reasons.join('; ') };
  }

  /**
   * Whether a limit is in force at `now` (configured, or implied by a recent 429): only then does
   * `admit` weigh the evaluation's size, so without one nobody has to estimate it.
   */
  limited(now: Date): boolean {
    return this.windows(now.getTime()).length > 0;
  }

  /**
   * The most requests one evaluation may send at `now`: 20 % of the tightest configured limit in force
   * (lower after a 429). Without a configured budget there is no such cap, a 429 or not: the limit a
   * 429 implies paces evaluations, but cutting one into pieces would leave alerts waiting for history
   * long after Langfuse allows queries again.
   */
  burst(now: Date): number {
    if (this.limits.perHour === undefined && this.limits.perDay === undefined) return Infinity;
    return burstUnder(Math.min(Infinity, ...this.windows(now.getTime()).map(([, limit]) => limit)));
  }

  /** Requests the limits in force at `now` still admit (Infinity without one): what an evaluation's later rounds may send. */
  headroom(now: Date): number {
    const at = now.getTime();
    return Math.max(0, Math.min(Infinity, ...this.windows(at).map(([window, limit]) => Math.floor(limit) - this.used(at, window))));
  }

  /** Counts `n` requests sent at `now` (the planner calls this after every evaluation). */
  async record(n: number, now: Date): Promise<void> {
    if (n <= 0) return;
    await this.update(now, (state) => {
      const at = now.getTime();
      const minute = floorTo(at, MINUTE);
      const log = state.log.filter(([start]) => start + MINUTE > at - DAY).map(([start, count]): [number, number] => [start, count]);
      const last = log[log.length - 1];
      if (last && last[0] === minute) last[1] += n;
      else log.push([minute, n]);
      const pacing: Record<string, number> = {};
      for (const [window, limit] of windowsOf(this.limits, state, at)) {
        const key = String(window);
        pacing[key] = Math.max(at, state.pacing[key] ?? at) + (n * window * (1 + BURST_FRACTION)) / limit;
      }
      return { ...state, log, pacing };
    });
  }

  /** Langfuse answered 429: pause until Retry-After (or a growing backoff) and halve the pace. */
  async rateLimited(retryAfterSeconds: number | undefined, now: Date): Promise<void> {
    await this.update(now, (state) => {
      const at = now.getTime();
      const previous = state.strike;
      const pace = paceOf(state, at);
      // Strikes in a row back off further; once the pace has recovered, the count starts over.
      const count = previous && pace < 1 ? previous.count + 1 : 1;
      const pause = retryAfterSeconds !== undefined ? Math.min(MAX_PAUSE_MS, retryAfterSeconds * 1000) : backoffCeilingMs(count, { baseMs: BASE_PAUSE_MS, maxMs: HOUR });
      const pausedUntil = Math.max(state.pausedUntil ?? 0, at + pause);
      const strike: Strike = {
        resumed: pausedUntil,
        pace: Math.max(MIN_PACE, pace / 2),
        impliedPerHour: this.limits.perHour === undefined && this.limits.perDay === undefined ? Math.max(1, usedIn(state, at, HOUR)) : null,
        count,
      };
      return { ...state, pausedUntil, strike };
    });
  }

  snapshot(now: Date): QuotaSnapshot {
    const at = now.getTime();
    this.repairPause(at);
    const effective = Object.fromEntries(
      this.windows(at).map(([window, limit]) => [window === HOUR ? 'perHour' : 'perDay', Math.floor(limit)]),
    ) as QuotaLimits;
    const { pausedUntil } = this.state;
    return {
      limits: this.limits,
      effective,
      usedLastHour: this.used(at, HOUR),
      usedLastDay: this.used(at, DAY),
      pausedUntil: pausedUntil !== null && pausedUntil > at ? new Date(pausedUntil) : null,
      pace: this.pace(at),
    };
  }

  private pace(at: number): number {
    return paceOf(this.state, at);
  }

  private windows(at: number): Array<[number, number]> {
    return windowsOf(this.limits, this.state, at);
  }

  private used(at: number, window: number): number {
    return usedIn(this.state, at, window);
  }

  /** When `excess` of the requests in the window ending at `at` will have left it. */
  private agedOut(at: number, window: number, excess: number): number {
    let left = excess;
    for (const [minute, n] of this.state.log) {
      if (!inWindow(minute, at, window)) continue;
      left -= n;
      if (left <= 0) return minute + window + MINUTE;
    }
    return at + window;
  }
}

/** The pace at `at`: halved by a strike, doubling back for every hour after its pause. */
function paceOf(state: BudgetJson, at: number): number {
  const strike = state.strike;
  if (!strike) return 1;
  return Math.min(1, strike.pace * 2 ** Math.max(0, Math.floor((at - strike.resumed) / HOUR)));
}

/** [window ms, effective limit] for every limit in force at `at`. */
function windowsOf(limits: QuotaLimits, state: BudgetJson, at: number): Array<[number, number]> {
  const pace = paceOf(state, at);
  const windows: Array<[number, number]> = [];
  const perHour = limits.perHour ?? (pace < 1 ? state.strike?.impliedPerHour ?? undefined : undefined);
  if (perHour !== undefined) windows.push([HOUR, Math.max(1, perHour * pace)]);
  if (limits.perDay !== undefined) windows.push([DAY, Math.max(1, limits.perDay * pace)]);
  return windows;
}

/** Requests that may still count in the window ending at `at` (a request logged at minute m was sent before m + 1 min). */
function usedIn(state: BudgetJson, at: number, window: number): number {
  let used = 0;
  for (const [minute, n] of state.log) if (inWindow(minute, at, window)) used += n;
  return used;
}

function inWindow(minute: number, at: number, window: number): boolean {
  return minute + MINUTE > at - window && minute <= at;
}
