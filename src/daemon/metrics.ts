// What `run` exposes on /metrics. Its own Registry, so nothing else in the process (or a second
// daemon in a test) can add to or collide with it. Per-series gauges are bounded: a `groupBy: userId`
// alert over thousands of users exports only its top series, a configuration of thousands of alerts
// only the top series of them all, and series that drop out are removed.
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { SeriesEvaluation } from '../core/series.js';
import type { RequestEvent } from '../sources/langfuse/client.js';
import type { DeliveryRecord } from '../core/decide/index.js';
import type { QuotaSnapshot } from '../sources/langfuse/planner/index.js';
import type { State } from '../core/ledger.js';

export const METRIC_PREFIX = 'spend_alerts_';
/** series per alert exported on /metrics: firing ones first, then by spend */
export const DEFAULT_TOP_SERIES = 20;
/** samples labelled with a series (spend, firing, thresholds) on /metrics in all: firing ones first, then by spend */
export const DEFAULT_MAX_SERIES_SAMPLES = 2_000;

export interface DaemonMetricsOptions {
  readonly topSeries?: number;
  readonly maxSeriesSamples?: number;
  /** process and Node.js runtime metrics (CPU, memory, event loop lag), prefixed like the rest */
  readonly processMetrics?: boolean;
}

type SeriesSample = Pick<SeriesEvaluation, 'seriesKey' | 'value' | 'breach' | 'levels'>;

/** What metrics need of a CheckReport. */
export interface EvaluationOutcome {
  readonly evaluations: ReadonlyArray<{ readonly alert: { readonly name: string }; readonly series: readonly SeriesSample[] }>;
  readonly alertFailures: readonly unknown[];
  readonly deliveryFailures: readonly unknown[];
  readonly deliveries: ReadonlyArray<Pick<DeliveryRecord, 'channel' | 'ok'>>;
  readonly state: Pick<State, 'langfuse' | 'channels' | 'outbox'>;
}

export class DaemonMetrics {
  readonly registry = new Registry();
  private readonly topSeries: number;
  private readonly maxSeriesSamples: number;
  private readonly evaluations: Counter;
  private readonly evaluationFailures: Counter;
  private readonly duration: Histogram;
  private readonly lastSuccess: Gauge;
  private readonly langfuseRequests: Counter<'endpoint' | 'status'>;
  private readonly notifications: Counter<'channel' | 'outcome'>;
  private readonly seriesSpend: Gauge<'alert' | 'group'>;
  private readonly seriesThreshold: Gauge<'alert' | 'group' | 'severity'>;
  private readonly seriesFiring: Gauge<'alert' | 'group'>;
  private readonly seriesEvaluated: Gauge<'alert'>;
  private readonly reloads: Counter<'outcome'>;
  private readonly langfuseDegraded: Gauge;
  private readonly langfuseFailures: Gauge;
  private readonly channelDegraded: Gauge<'channel'>;
  private readonly pending: Gauge<'channel'>;
  private readonly deferrals: Counter<'kind'>;
  private readonly budgetUsed: Gauge<'window'>;
  private readonly budgetLimit: Gauge<'window'>;
  private readonly budgetPausedUntil: Gauge;
  private readonly lastReloadOk: Gauge;
  /**
   * Per alert, its top series at its last evaluation: they compete for the samples of /metrics
   * with those of every other alert, including alerts not evaluated since (other schedules).
   */
  private readonly candidates = new Map<string, readonly SeriesSample[]>();

  constructor(options: DaemonMetricsOptions = {}) {
    this.topSeries = options.topSeries ?? DEFAULT_TOP_SERIES;
    this.maxSeriesSamples = options.maxSeriesSamples ?? DEFAULT_MAX_SERIES_SAMPLES;
    const registers = [this.registry];
    const name = (suffix: string): string => `${METRIC_PREFIX}${suffix}`;
    this.evaluations = new Counter({
      name: name('evaluations_total'),
      help: 'Evaluations run (each covers the alerts due at one moment).',
      registers,
    });
    this.evaluationFailures = new Counter({
      name: name('evaluation_failures_total'),
      help: 'Evaluations in which an alert could not be evaluated, a channel did not accept, or that failed as a whole.',
      registers,
    });
    this.duration = new Histogram({
      name: name('evaluation_duration_seconds'),
      help: 'Wall-clock time of one evaluation: Langfuse queries, deliveries and state writes.',
      buckets: [0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300],
      registers,
    });
    this.lastSuccess = new Gauge({
      name: name('last_successful_evaluation_timestamp_seconds'),
      help: 'Unix time at which the last evaluation without any failure finished; 0 before the first.',
      registers,
    });
    this.langfuseRequests = new Counter({
      name: name('langfuse_requests_total'),
      help: 'HTTP requests to Langfuse, by endpoint and status ("0": no answer: timeout or network error).',
      labelNames: ['endpoint', 'status'],
      registers,
    });
    this.notifications = new Counter({
      name: name('notifications_total'),
      help: 'Notifications handed to channels, by channel and outcome (sent, failed).',
      labelNames: ['channel', 'outcome'],
      registers,
    });
    this.seriesSpend = new Gauge({
      name: name('series_spend_usd'),
      help: 'USD spent in the window of a series at its last evaluation (group "" without groupBy).',
      labelNames: ['alert', 'group'],
      registers,
    });
    this.seriesThreshold = new Gauge({
      name: name('series_threshold_usd'),
      help: 'The USD level a series is compared with, per severity (relative alerts: factor × baseline).',
      labelNames: ['alert', 'group', 'severity'],
      registers,
    });
    this.seriesFiring = new Gauge({
      name: name('series_firing'),
      help: '1 while a series breaks its threshold, else 0.',
      labelNames: ['alert', 'group'],
      registers,
    });
    this.seriesEvaluated = new Gauge({
      name: name('series_evaluated'),
      help:
        `Series an alert evaluated last time; at most ${this.topSeries} of them are exported per alert, ` +
        `and at most ${this.maxSeriesSamples} series samples in all (firing ones first, then by spend).`,
      labelNames: ['alert'],
      registers,
    });
    this.reloads = new Counter({
      name: name('config_reloads_total'),
      help: 'Configuration reloads (SIGHUP or file change), by outcome (success, failure).',
      labelNames: ['outcome'],
      registers,
    });
    this.lastReloadOk = new Gauge({
      name: name('config_last_reload_successful'),
      help: '1 when the last configuration reload succeeded (or none was tried), 0 while a refused file is on disk.',
      registers,
    });
    this.langfuseDegraded = new Gauge({
      name: name('langfuse_degraded'),
      help: '1 while Langfuse has failed for degradedAfter evaluations in a row (a "monitoring degraded" notice was sent).',
      registers,
    });
    this.langfuseFailures = new Gauge({
      name: name('langfuse_consecutive_failures'),
      help: 'Evaluations in a row in which Langfuse could not be read.',
      registers,
    });
    this.channelDegraded = new Gauge({
      name: name('channel_degraded'),
      help: '1 while a channel has failed for degradedAfter evaluations in a row.',
      labelNames: ['channel'],
      registers,
    });
    this.pending = new Gauge({
      name: name('pending_notifications'),
      help: 'Notifications a channel has not accepted yet (retried at every evaluation).',
      labelNames: ['channel'],
      registers,
    });
    this.deferrals = new Counter({
      name: name('evaluations_deferred_total'),
      help: 'Evaluations skipped to stay within langfuse.requestBudget, by kind (pace, limit, rate-limited).',
      labelNames: ['kind'],
      registers,
    });
    this.budgetUsed = new Gauge({
      name: name('langfuse_budget_used_requests'),
      help: 'Langfuse requests spent in the last hour / day (window label), as the request budget counts them.',
      labelNames: ['window'],
      registers,
    });
    this.budgetLimit = new Gauge({
      name: name('langfuse_budget_limit_requests'),
      help: 'The request budget in force per hour / day (lower than configured for a while after a 429); absent without a limit.',
      labelNames: ['window'],
      registers,
    });
    this.budgetPausedUntil = new Gauge({
      name: name('langfuse_budget_paused_until_timestamp_seconds'),
      help: 'Unix time before which no Langfuse request is sent (a 429 Retry-After); 0 when not paused.',
      registers,
    });
    this.lastReloadOk.set(1);
    for (const outcome of ['success', 'failure']) this.reloads.inc({ outcome }, 0);
    if (options.processMetrics ?? true) collectDefaultMetrics({ register: this.registry, prefix: METRIC_PREFIX });
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  text(): Promise<string> {
    return this.registry.metrics();
  }

  langfuseRequest(event: RequestEvent): void {
    this.langfuseRequests.inc({ endpoint: event.endpoint, status: String(event.status) });
  }

  /** An evaluation that ran to its end; `finishedAt` only counts when it had no failure. */
  evaluation(report: EvaluationOutcome, seconds: number, finishedAt: Date): void {
    this.evaluations.inc();
    this.duration.observe(seconds);
    const ok = report.alertFailures.length === 0 && report.deliveryFailures.length === 0;
    if (ok) this.lastSuccess.set(finishedAt.getTime() / 1000);
    else this.evaluationFailures.inc();
    for (const delivery of report.deliveries) {
      this.notifications.inc({ channel: delivery.channel, outcome: delivery.ok ? 'sent' : 'failed' });
    }
    this.langfuseDegraded.set(report.state.langfuse.noticeSent ? 1 : 0);
    this.langfuseFailures.set(report.state.langfuse.failures);
    this.channelDegraded.reset();
    for (const [channel, health] of Object.entries(report.state.channels)) this.channelDegraded.set({ channel }, health.noticeSent ? 1 : 0);
    this.pending.reset();
    for (const entry of Object.values(report.state.outbox)) {
      for (const channel of Object.keys(entry.channels)) this.pending.inc({ channel });
    }
    // an alert that failed keeps its last exported values: its failure is counted above
    for (const { alert, series } of report.evaluations) {
      this.seriesEvaluated.set({ alert: alert.name }, series.length);
      this.candidates.set(alert.name, topOf(series, this.topSeries));
    }
    this.exportSeries();
  }

  /** An evaluation that could not run at all (state unreadable, unexpected error). */
  evaluationCrashed(seconds: number): void {
    this.evaluations.inc();
    this.evaluationFailures.inc();
    this.duration.observe(seconds);
  }

  budget(snapshot: QuotaSnapshot): void {
    this.budgetUsed.set({ window: 'hour' }, snapshot.usedLastHour);
    this.budgetUsed.set({ window: 'day' }, snapshot.usedLastDay);
    this.budgetLimit.reset();
    if (snapshot.effective.perHour !== undefined) this.budgetLimit.set({ window: 'hour' }, snapshot.effective.perHour);
    if (snapshot.effective.perDay !== undefined) this.budgetLimit.set({ window: 'day' }, snapshot.effective.perDay);
    this.budgetPausedUntil.set(snapshot.pausedUntil === null ? 0 : snapshot.pausedUntil.getTime() / 1000);
  }

  deferred(kind: string): void {
    this.deferrals.inc({ kind });
  }

  reload(ok: boolean): void {
    this.reloads.inc({ outcome: ok ? 'success' : 'failure' });
    this.lastReloadOk.set(ok ? 1 : 0);
  }

  /** Drops the series of alerts that are no longer configured (after a reload). */
  retainAlerts(names: ReadonlySet<string>): void {
    for (const alert of [...this.candidates.keys()]) {
      if (names.has(alert)) continue;
      this.candidates.delete(alert);
      this.seriesEvaluated.remove({ alert });
    }
    this.exportSeries();
  }

  /**
   * Exports the series of every alert afresh: the top ones of each alert, then, across alerts,
   * firing ones first and then by spend while the samples last. Linear in what is exported.
   */
  private exportSeries(): void {
    const ranked = [...this.candidates].flatMap(([alert, series]) => series.map((sample) => ({ alert, sample })));
    ranked.sort((a, b) => firingThenSpend(a.sample, b.sample));
    const chosen = new Set<SeriesSample>();
    let samples = 0;
    for (const { sample } of ranked) {
      // spend and firing, plus one threshold per severity
      const cost = 2 + Object.values(sample.levels).filter((level) => level !== undefined).length;
      if (samples + cost > this.maxSeriesSamples) break;
      samples += cost;
      chosen.add(sample);
    }
    this.seriesSpend.reset();
    this.seriesFiring.reset();
    this.seriesThreshold.reset();
    // per alert, in the order alerts were first evaluated: /metrics reads alert by alert
    for (const [alert, series] of this.candidates) {
      for (const s of series) {
        if (!chosen.has(s)) continue;
        const labels = { alert, group: s.seriesKey };
        this.seriesSpend.set(labels, s.value);
        this.seriesFiring.set(labels, s.breach === null ? 0 : 1);
        for (const [severity, level] of Object.entries(s.levels)) {
          if (level !== undefined) this.seriesThreshold.set({ ...labels, severity }, level);
        }
      }
    }
  }
}

/** Firing series first, then the larger spend. */
function firingThenSpend(a: SeriesSample, b: SeriesSample): number {
  return Number(b.breach !== null) - Number(a.breach !== null) || b.value - a.value;
}

function topOf(series: readonly SeriesSample[], count: number): SeriesSample[] {
  return [...series].sort(firingThenSpend).slice(0, count);
}
