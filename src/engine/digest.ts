// Sending one digest: its report read (src/engine/report.ts), then through the outbox as alerts
// go. The notification enters the outbox, and the digest's record (the last scheduled time sent)
// moves, in one write under the state lock, before anything is sent; its deliveries are claimed in
// that write too, and each channel's answer is recorded as soon as it came. So a scheduled time
// is sent once even across restarts and concurrent processes, and a channel that fails keeps it
// pending: the evaluations' deliveries retry it with the same backoff as alerts.
import { randomUUID } from 'node:crypto';
import type { Channel } from '../channels/channel.js';
import { deliver } from '../channels/deliver.js';
import type { Config, DigestConfig } from '../config/schema.js';
import { addToOutbox, claimDue, recordOutcome } from '../core/decide/outbox.js';
import type { DecideContext } from '../core/decide/types.js';
import { digestNotification, digestRanges, type DigestNotification } from '../core/digest.js';
import type { Notification } from '../core/notification.js';
import type { State } from '../core/ledger.js';
import type { Logger } from '../log/logger.js';
import type { StateStore } from '../storage/state-store.js';
import { realTimer, timeLimit, type StartTimer } from '../util/deadline.js';
import { formatSeconds } from '../util/format-seconds.js';
import { readFullReport, type ReportLangfuse } from './report.js';
import { DEFAULT_POLICY, type CheckPolicy } from './types.js';

export interface DigestDeps {
  readonly config: Config;
  readonly langfuse: ReportLangfuse;
  readonly channels: ReadonlyMap<string, Channel>;
  readonly store: StateStore;
  readonly langfuseUrl: () => Promise<string>;
  readonly log: Logger;
  readonly redact: (text: string) => string;
  readonly policy?: Partial<CheckPolicy>;
  /** the wall clock: when the digest is made, and the time of claims on its deliveries */
  readonly clock: () => Date;
  readonly signal?: AbortSignal;
  readonly startTimer?: StartTimer;
}

export interface DigestRun {
  /** the time it is made for: a scheduled time, or now for `spend-alerts digest` */
  readonly scheduledFor: Date;
  /** a scheduled time missed while the daemon was down */
  readonly late: boolean;
  /** the daemon's schedule: skip a time already recorded, and record this one; `digest` by hand touches no record */
  readonly record: boolean;
}

export type DigestOutcome =
  | { readonly kind: 'already-sent' }
  | { readonly kind: 'sent'; readonly notification: DigestNotification; readonly delivered: readonly string[]; readonly failed: ReadonlyArray<{ channel: string; error: string }> };

/** Makes the digest's notification for `run` (the report read); nothing is written or sent. */
export async function makeDigest(deps: DigestDeps, digest: DigestConfig, run: Pick<DigestRun, 'scheduledFor' | 'late'>): Promise<DigestNotification> {
  const { config } = deps;
  // the budgets' periods to date are read as of the scheduled time, on the minute as the history cache is cut
  const now = new Date(Math.floor(run.scheduledFor.getTime() / 60_000) * 60_000);
  const ranges = digestRanges(digest.window, run.scheduledFor, config.timezone);
  const read = await readFullReport(deps.langfuse, { alerts: config.alerts, timezone: config.timezone, ranges, top: digest.top, now, ...(deps.signal ? { signal: deps.signal } : {}) });
  for (const line of read.unread) deps.log.error({ digest: digest.name }, `digest ${digest.name}: budget not read: ${deps.redact(line)}`);
  if (read.waiting.length > 0) deps.log.info({ digest: digest.name, budgets: read.waiting }, `digest ${digest.name}: budgets left out until their history is fetched`);
  return digestNotification({
    name: digest.name,
    window: digest.window,
    scheduledFor: run.scheduledFor,
    report: read.report,
    at: deps.clock(),
    langfuseUrl: await deps.langfuseUrl(),
    late: run.late,
  });
}

/** Reads, records and sends one digest for one scheduled time. Throws when its report can't be read (nothing is then recorded). */
export async function sendDigest(deps: DigestDeps, digest: DigestConfig, run: DigestRun): Promise<DigestOutcome> {
  const recorded = (state: State): boolean => run.record && (state.digests[digest.name] ?? '') >= run.scheduledFor.toISOString();
  if (recorded(await deps.store.load())) return { kind: 'already-sent' };
  const notification = await makeDigest(deps, digest, run);
  const policy: CheckPolicy = { ...DEFAULT_POLICY, ...deps.policy };
  const now = deps.clock();
  const context: DecideContext = {
    ...policy,
    timezone: deps.config.timezone,
    langfuseUrl: notification.langfuseUrl,
    alerts: deps.config.alerts.map((alert) => alert.name),
    channels: [...deps.channels.keys()],
    claim: { by: randomUUID(), at: now },
  };
  let due: ReadonlyMap<string, readonly Notification[]> | null = null;
  await deps.store.update((state) => {
    // another process sent it meanwhile
    if (recorded(state)) return state;
    const added = addToOutbox(state, [{ notification, channels: digest.channels }], now, context);
    const withRecord = run.record ? { ...added, digests: { ...added.digests, [digest.name]: run.scheduledFor.toISOString() } } : added;
    const claimed = claimDue(withRecord, now, context, new Set([notification.id]));
    due = claimed.deliveries;
    return claimed.state;
  });
  if (due === null) return { kind: 'already-sent' };
  const delivered: string[] = [];
  const failed: Array<{ channel: string; error: string }> = [];
  const startTimer = deps.startTimer ?? realTimer;
  await Promise.all(
    [...(due as ReadonlyMap<string, readonly Notification[]>)].map(async ([channelName, notifications]) => {
      const limit = timeLimit(policy.channelBudgetMs, `channel ${channelName}'s time limit of ${formatSeconds(policy.channelBudgetMs / 1000)} ran out`, deps.signal, startTimer);
      try {
        const outcomes = await deliver(deps.channels.get(channelName)!, notifications, {
          redact: deps.redact,
          signal: limit.signal,
          onSent: async (sent) => {
            await deps.store.update((state) => sent.reduce((next, outcome) => recordOutcome(next, channelName, outcome, now, policy), state));
          },
        });
        for (const outcome of outcomes) {
          if (outcome.ok) delivered.push(channelName);
          else failed.push({ channel: channelName, error: outcome.error });
        }
      } finally {
        limit.clear();
      }
    }),
  );
  for (const { channel, error } of failed) deps.log.error({ digest: digest.name, channel, err: error }, `digest ${digest.name}: ${channel} failed: ${error}; it stays pending and is retried`);
  return { kind: 'sent', notification, delivered, failed };
}
