// `spend-alerts run` as an object: a configuration generation (config, channels, Langfuse client,
// logger), a scheduler that decides what to evaluate when, the HTTP endpoints (the status page
// among them) and a watcher on the config file. State lives in the StateStore only: it is read
// before every evaluation and written by the engine's tick, so a reload or a restart continues
// exactly where the last evaluation left off; the page's memory of evaluations is only for show.
import type { Channel } from '../channels/channel.js';
import { ConfigError, formatIssue } from '../config/errors.js';
import type { AlertConfig, Config } from '../config/schema.js';
import type { RequestEvent } from '../sources/langfuse/client.js';
import type { Logger } from '../log/logger.js';
import { tick, type CheckPolicy, type CheckReport } from '../engine/worker.js';
import type { Admission, QuotaSnapshot, Refusal } from '../sources/langfuse/planner/index.js';
import type { SpendSource } from '../core/query.js';
import { dailySpend, type HourSlices } from '../core/daily-spend.js';
import { seriesStateKey } from '../core/ledger.js';
import { renderStatusPage, type AlertOutcome, type Explained } from '../render/status-page.js';
import type { StateStore } from '../storage/state-store.js';
import type { StartTimer } from '../util/deadline.js';
import { startHttpServer, type HttpServer, type Readiness } from './http.js';
import { DaemonMetrics } from './metrics.js';
import { watchConfigFile, type ConfigWatcher } from './reload/watch.js';
import { latestRun, nodeCron, Scheduler, type CronTask, type StartCron } from './scheduler.js';
import { sendDigest } from '../engine/digest.js';
import type { ReportLangfuse } from '../engine/report.js';
import { CostExporter, type CostExportLangfuse } from '../engine/cost-export.js';
import { CostMetrics } from './cost-metrics.js';

/** Everything built from one version of alerts.yaml. */
export interface Generation {
  readonly config: Config;
  readonly log: Logger;
  readonly redact: (text: string) => string;
  readonly channels: ReadonlyMap<string, Channel>;
  readonly source: SpendSource;
  /** what a digest's report is read with */
  readonly report: ReportLangfuse;
  /** whether the request budget lets these alerts be evaluated now */
  readonly admit: (alerts: readonly AlertConfig[], now: Date) => Promise<Admission>;
  /** what the request budget has spent and allows */
  readonly budget: (now: Date) => QuotaSnapshot;
  readonly policy: Partial<CheckPolicy>;
  /** the project's spend per closed hour the history cache holds, for the status page (no request) */
  readonly projectSpend: () => Promise<ReadonlyMap<number, HourSlices>>;
  /** `costExporter: true`: what the cost exporter reads with; undefined when it is off */
  readonly costExport?: CostExportLangfuse;
  /** the Langfuse project link for notifications, possibly resolving (and recording) the project id */
  readonly langfuseUrl: (store: StateStore) => Promise<string>;
  /** releases the channels' connections */
  readonly close: () => Promise<void>;
}

export interface DaemonOptions {
  /**
   * Loads alerts.yaml with the loader `validate` uses and builds a generation from it; throws its
   * ConfigError when the file is invalid. Langfuse requests must be reported to `onRequest`.
   */
  readonly load: (onRequest: (event: RequestEvent) => void) => Promise<Generation>;
  /** the config file, absolute: its directory is watched */
  readonly configFile: string;
  readonly store: StateStore;
  readonly port: number;
  readonly host?: string;
  /** serve the status page at /; default true */
  readonly ui?: boolean;
  readonly clock: () => Date;
  /** reload when the config file changes; default true */
  readonly watch?: boolean;
  /** how long shutdown waits for the evaluation in flight before cancelling it; default 25 s */
  readonly shutdownGraceMs?: number;
  /** the least /readyz allows between successful evaluations; default 5 min */
  readonly minReadyWindowMs?: number;
  readonly metrics?: DaemonMetrics;
  /** starts the delivery phase's and each channel's time limit, as for `check` (injectable for tests) */
  readonly startTimer?: StartTimer;
  /** starts the schedules' cron tasks; default node-cron's (injectable so tests fire the ticks) */
  readonly startCron?: StartCron;
}

const DEFAULT_GRACE_MS = 25_000;
/** after cancelling, how long to wait for the evaluation to wind down before leaving anyway */
const CANCEL_WAIT_MS = 5_000;
const DEFAULT_MIN_READY_WINDOW_MS = 5 * 60_000;
/** /readyz allows this many of the most frequent schedule's longest gaps without a success */
const READY_WINDOW_INTERVALS = 3;
/** the status page's chart: days of spend */
const CHART_DAYS = 30;

export class Daemon {
  readonly metrics: DaemonMetrics;
  private generation: Generation | undefined;
  private retired: Generation[] = [];
  private inFlight: Generation | undefined;
  private scheduler: Scheduler | undefined;
  private http: HttpServer | undefined;
  private watcher: ConfigWatcher | undefined;
  private readonly abort = new AbortController();
  private stopping: Promise<void> | undefined;
  private reloading: Promise<void> = Promise.resolve();
  private langfuseRequests = 0;
  private lastSuccessAt: Date | null = null;
  private lastFailure: string | null = null;
  /** what the last evaluation's state says is blind or broken (a degraded notice was sent) */
  private degraded: string[] = [];
  /** the request budget's deferrals since the last evaluation it admitted: the first one's time, and the latest */
  private deferred: { since: Date; kind: Refusal; retryAt: Date } | null = null;
  /** for the status page: each alert's latest evaluation by this process */
  private readonly outcomes = new Map<string, AlertOutcome>();
  /** one cron task per digest, firing its sends */
  private digestTasks: CronTask[] = [];
  /** digests are sent one after the other, each for the scheduled time it was queued with */
  private digestQueue: Promise<void> = Promise.resolve();
  /** for the status page: per alert, per series (seriesStateKey), what its latest firing notification said fired it */
  private readonly explained = new Map<string, ReadonlyMap<string, Explained>>();
  /** `costExporter: true`: its counters' start and kept hours outlive reloads; both go when a reload turns it off */
  private costExport: { exporter: CostExporter; metrics: CostMetrics } | undefined;

  constructor(private readonly options: DaemonOptions) {
    this.metrics = options.metrics ?? new DaemonMetrics();
  }

  /** The current generation's logger; undefined before start() loaded a configuration. */
  get log(): Logger | undefined {
    return this.generation?.log;
  }

  get port(): number | undefined {
    return this.http?.port;
  }

  /**
   * Loads the configuration (a ConfigError propagates: the daemon doesn't start on an invalid
   * file), listens, and runs the first evaluation of every alert.
   */
  async start(): Promise<void> {
    const generation = await this.options.load((event) => this.onLangfuseRequest(event));
    try {
      await this.options.store.ensureWritable();
    } catch (error) {
      await generation.close();
      throw error;
    }
    this.generation = generation;
    const scheduler = new Scheduler({
      run: (alerts, now) => this.evaluate(alerts, now),
      log: generation.log,
      clock: this.options.clock,
      ...(this.options.startCron === undefined ? {} : { startCron: this.options.startCron }),
    });
    this.scheduler = scheduler;
    scheduler.setSchedule(scheduleOf(generation.config), generation.config.timezone);
    try {
      this.http = await startHttpServer({
        port: this.options.port,
        ...(this.options.host === undefined ? {} : { host: this.options.host }),
        handlers: {
          readiness: () => this.readiness(),
          metrics: async () => ({ contentType: this.metrics.contentType, body: await this.metrics.text() }),
          ...((this.options.ui ?? true) && { page: () => this.statusPage() }),
        },
      });
    } catch (error) {
      scheduler.stop();
      await generation.close();
      throw error;
    }
    if (this.options.watch ?? true) {
      try {
        this.watcher = await watchConfigFile({
          file: this.options.configFile,
          onChange: () => void this.reload('file changed'),
          onError: (error) => this.generation?.log.warn({ err: error.message }, `watching the configuration: ${error.message}`),
        });
      } catch (error) {
        generation.log.warn({ err: (error as Error).message }, `${(error as Error).message}; reload with SIGHUP instead`);
      }
    }
    scheduler.start();
    this.scheduleDigests(generation);
    await this.catchUpDigests(generation);
    generation.log.info(
      {
        port: this.http.port,
        alerts: generation.config.alerts.length,
        digests: generation.config.digests.map((digest) => digest.name),
        ...describeSchedules(scheduler.nextRuns()),
        timezone: generation.config.timezone,
        stateDir: this.options.store.dir,
      },
      `spend-alerts run: ${generation.config.alerts.length} alert(s), ${(this.options.ui ?? true) ? 'the status page at /, ' : ''}/healthz /readyz /metrics on port ${this.http.port}`,
    );
  }

  /**
   * Reads alerts.yaml again. A valid file replaces the running configuration for the next
   * evaluation (the one in flight finishes with the old one); an invalid one is logged line by line
   * as `validate` prints it and changes nothing. Reloads run one at a time.
   */
  reload(trigger: string): Promise<void> {
    this.reloading = this.reloading
      .then(() => this.reloadNow(trigger))
      .catch((error: unknown) => {
        const message = error instanceof Error ? error.message : String(error);
        this.generation?.log.error({ event: 'reload', trigger, err: message }, `configuration reload (${trigger}) failed: ${message}`);
      });
    return this.reloading;
  }

  private async reloadNow(trigger: string): Promise<void> {
    const current = this.generation;
    if (current === undefined || this.stopping !== undefined) return;
    let next: Generation;
    try {
      next = await this.options.load((event) => this.onLangfuseRequest(event));
    } catch (error) {
      this.metrics.reload(false);
      if (error instanceof ConfigError) {
        for (const issue of error.issues) current.log.error({ event: 'reload', trigger, path: issue.path }, formatIssue(issue));
        current.log.error(
          { event: 'reload', trigger, problems: error.issues.length },
          `configuration reload (${trigger}) refused: ${error.issues.length} problem(s); the previous configuration keeps running`,
        );
      } else {
        const message = error instanceof Error ? error.message : String(error);
        current.log.error({ event: 'reload', trigger, err: message }, `configuration reload (${trigger}) failed: ${message}; the previous configuration keeps running`);
      }
      return;
    }
    if (this.stopping !== undefined) {
      await next.close();
      return;
    }
    this.generation = next;
    this.metrics.reload(true);
    const names = new Set(next.config.alerts.map((alert) => alert.name));
    this.metrics.retainAlerts(names);
    for (const name of this.outcomes.keys()) if (!names.has(name)) this.outcomes.delete(name);
    for (const name of this.explained.keys()) if (!names.has(name)) this.explained.delete(name);
    if (next.costExport === undefined && this.costExport !== undefined) {
      this.costExport.metrics.remove();
      this.costExport = undefined;
    }
    this.scheduler?.setSchedule(scheduleOf(next.config), next.config.timezone);
    this.scheduleDigests(next);
    if (this.inFlight === current) this.retired.push(current);
    else await current.close();
    next.log.info(
      { event: 'reload', trigger, alerts: next.config.alerts.length, channels: next.channels.size },
      `configuration reloaded (${trigger}): ${next.config.alerts.length} alert(s), ${next.channels.size} channel(s)`,
    );
  }

  /**
   * Ready while the last success is recent for the pace in force: the schedule's, or the slower one
   * the request budget stretched it to. Evaluations deferred by the budget's pace or limit are
   * that pace, not a failure: the allowed age reaches the usual window past the time the budget
   * allows the next one. A 429 pause stretches nothing (Langfuse is refusing us), and after the
   * window real staleness is 503 as before; either way the line says since when evaluations wait.
   * Its reason quotes errors, so it passes the redactor (the endpoint has no auth).
   */
  readiness(): Readiness {
    const readiness = this.assessReadiness();
    return this.generation === undefined ? readiness : { ...readiness, reason: this.generation.redact(readiness.reason) };
  }

  private assessReadiness(): Readiness {
    if (this.generation === undefined) return { ready: false, reason: 'no configuration loaded' };
    if (this.stopping !== undefined) return { ready: false, reason: 'shutting down' };
    const failure = this.lastFailure === null ? '' : `; last failure: ${this.lastFailure}`;
    const deferred = this.deferred;
    const deferral =
      deferred === null
        ? ''
        : `; evaluations deferred by the request budget since ${deferred.since.toISOString()} (next possible at ${deferred.retryAt.toISOString()})`;
    if (this.degraded.length > 0) return { ready: false, reason: `degraded: ${this.degraded.join('; ')}` };
    if (this.lastSuccessAt === null) {
      return { ready: false, reason: `no successful evaluation yet${deferral}${failure}` };
    }
    const windowMs = this.readyWindowMs();
    // the budget's next possible evaluation, counted from the last success
    const stretchedMs = deferred !== null && deferred.kind !== 'rate-limited' ? deferred.retryAt.getTime() - this.lastSuccessAt.getTime() : 0;
    const allowedMs = windowMs + Math.max(0, stretchedMs);
    const age = this.options.clock().getTime() - this.lastSuccessAt.getTime();
    if (age > allowedMs) {
      return {
        ready: false,
        reason: `last successful evaluation ${Math.round(age / 1000)} s ago, more than the ${Math.round(allowedMs / 1000)} s allowed${deferral}${failure}`,
      };
    }
    return { ready: true, reason: `ok: last successful evaluation at ${this.lastSuccessAt.toISOString()}${deferral}` };
  }

  /**
   * Stops scheduling, lets the evaluation in flight finish (cancelling it after the grace period),
   * then closes the HTTP server and the channels. A second call cancels at once.
   */
  stop(reason: string): Promise<void> {
    if (this.stopping !== undefined) {
      this.generation?.log.warn({ reason }, `${reason} again: cancelling the evaluation in flight`);
      this.abort.abort(new Error(`stopped (${reason})`));
      return this.stopping;
    }
    this.stopping = this.shutdown(reason);
    return this.stopping;
  }

  private async shutdown(reason: string): Promise<void> {
    const log = this.generation?.log;
    this.watcher?.close();
    const scheduler = this.scheduler;
    scheduler?.stop();
    this.stopDigests();
    if (scheduler?.busy) {
      const graceMs = this.options.shutdownGraceMs ?? DEFAULT_GRACE_MS;
      log?.info({ reason, graceMs }, `${reason}: stopping after the evaluation in flight (at most ${Math.round(graceMs / 1000)} s)`);
      const finished = await settlesWithin(scheduler.idle(), graceMs);
      if (!finished) {
        log?.warn({ reason }, `the evaluation in flight did not finish within ${Math.round(graceMs / 1000)} s: cancelling it`);
        this.abort.abort(new Error(`stopped (${reason})`));
        await settlesWithin(scheduler.idle(), CANCEL_WAIT_MS);
      }
    } else {
      log?.info({ reason }, `${reason}: stopping`);
    }
    await this.reloading;
    if (!(await settlesWithin(this.digestQueue, this.options.shutdownGraceMs ?? DEFAULT_GRACE_MS))) {
      log?.warn({ reason }, 'the digest in flight did not finish in time: cancelling it');
      this.abort.abort(new Error(`stopped (${reason})`));
      await settlesWithin(this.digestQueue, CANCEL_WAIT_MS);
    }
    await this.http?.close();
    await Promise.all([...this.retired, ...(this.generation ? [this.generation] : [])].map((g) => g.close()));
    this.retired = [];
    log?.info({}, 'stopped');
  }

  /** One batch through the engine's tick, then metrics and readiness. Never rejects. */
  private async evaluate(names: readonly string[], now: Date): Promise<void> {
    const generation = this.generation;
    if (generation === undefined) return;
    const wanted = new Set(names);
    const alerts = generation.config.alerts.filter((alert) => wanted.has(alert.name));
    if (alerts.length === 0) return;
    const { log } = generation;
    this.inFlight = generation;
    const started = this.options.clock();
    try {
      const report = await tick(
        {
          config: generation.config,
          alerts,
          source: generation.source,
          channels: generation.channels,
          store: this.options.store,
          admission: {
            admit: async (admitted, at) => {
              const admission = await generation.admit(admitted, at);
              this.metrics.budget(generation.budget(at));
              return admission;
            },
            scheduled: true,
          },
          langfuseUrl: () => generation.langfuseUrl(this.options.store),
          langfuseRequests: () => this.langfuseRequests,
          log,
          redact: generation.redact,
          signal: this.abort.signal,
          policy: generation.policy,
          clock: this.options.clock,
          ...(this.options.startTimer === undefined ? {} : { startTimer: this.options.startTimer }),
        },
        now,
      );
      if (report.kind === 'deferred') {
        const { kind, retryAt } = report.admission;
        this.metrics.deferred(kind);
        this.deferred = { since: this.deferred?.since ?? now, kind, retryAt };
        return;
      }
      this.deferred = null;
      this.metrics.evaluation(report, report.ms / 1000, report.finishedAt);
      this.metrics.budget(generation.budget(report.finishedAt));
      this.recordOutcome(report, report.finishedAt);
      this.rememberForPage(report, now);
      await this.exportCost(generation, now);
    } catch (error) {
      const finished = this.options.clock();
      const ms = finished.getTime() - started.getTime();
      const message = error instanceof Error ? error.message : String(error);
      this.metrics.evaluationCrashed(ms / 1000);
      this.lastFailure = message;
      log.error({ alerts: alerts.map((a) => a.name), err: message, ms }, `evaluation failed: ${message}`);
    } finally {
      this.inFlight = undefined;
      await this.closeRetired();
    }
  }

  /**
   * The cost exporter's request of an evaluation the budget admitted (its admission counted it).
   * A failure is logged and changes nothing: the counters keep their values, the gauges theirs.
   */
  private async exportCost(generation: Generation, now: Date): Promise<void> {
    const langfuse = generation.costExport;
    if (langfuse === undefined) return;
    this.costExport ??= { exporter: new CostExporter(), metrics: new CostMetrics(this.metrics.registry) };
    const { exporter, metrics } = this.costExport;
    const { log } = generation;
    try {
      const step = await exporter.evaluate(langfuse, now, this.abort.signal, (problem) => log.warn({ event: 'cost-export' }, problem));
      if ('skipped' in step) {
        log.info({ event: 'cost-export' }, `cost exporter: no request (${step.skipped})`);
        return;
      }
      metrics.update(step);
      if (step.windows === null) {
        log.info(
          { event: 'cost-export', readUntil: new Date(step.kept.until).toISOString() },
          `cost exporter: catching up on closed hours (read up to ${new Date(step.kept.until).toISOString()}); the window gauges wait until it reaches now`,
        );
      }
    } catch (error) {
      const message = generation.redact(error instanceof Error ? error.message : String(error));
      log.warn({ event: 'cost-export', err: message }, `cost exporter: Langfuse could not be read (${message}); the metrics keep their values`);
    } finally {
      this.metrics.budget(generation.budget(this.options.clock()));
    }
  }

  /** Resolves when no digest is being sent or queued (tests wait for it). */
  digestsIdle(): Promise<void> {
    return this.digestQueue;
  }

  /** A cron task per digest of `generation`, replacing those of the previous one. */
  private scheduleDigests(generation: Generation): void {
    this.stopDigests();
    const startCron = this.options.startCron ?? nodeCron;
    const { config, log } = generation;
    this.digestTasks = config.digests.map((digest) => startCron(digest.schedule, config.timezone, (moment) => this.queueDigest(digest.name, moment, false), log));
    for (const task of this.digestTasks) task.start();
  }

  private stopDigests(): void {
    for (const task of this.digestTasks) task.destroy();
    this.digestTasks = [];
  }

  /**
   * After downtime, the latest scheduled time missed since a digest's last one is sent, once,
   * marked late; the times before it are not. A digest never sent has missed nothing.
   */
  private async catchUpDigests(generation: Generation): Promise<void> {
    const { digests } = await this.options.store.load();
    const now = this.options.clock();
    generation.config.digests.forEach((digest, index) => {
      const lastSent = digests[digest.name];
      if (lastSent === undefined) return;
      const missed = latestRun(this.digestTasks[index]!, now, new Date(lastSent));
      if (missed !== null) this.queueDigest(digest.name, missed, true);
    });
  }

  private queueDigest(name: string, scheduledFor: Date, late: boolean): void {
    this.digestQueue = this.digestQueue.then(() => this.runDigest(name, scheduledFor, late));
  }

  /** One digest for one scheduled time with the current configuration. Never rejects. */
  private async runDigest(name: string, scheduledFor: Date, late: boolean): Promise<void> {
    const generation = this.generation;
    const digest = generation?.config.digests.find((d) => d.name === name);
    if (generation === undefined || digest === undefined || this.stopping !== undefined) return;
    const { log } = generation;
    try {
      const outcome = await sendDigest(
        {
          config: generation.config,
          langfuse: generation.report,
          channels: generation.channels,
          store: this.options.store,
          langfuseUrl: () => generation.langfuseUrl(this.options.store),
          log,
          redact: generation.redact,
          policy: generation.policy,
          clock: this.options.clock,
          signal: this.abort.signal,
          ...(this.options.startTimer === undefined ? {} : { startTimer: this.options.startTimer }),
        },
        digest,
        { scheduledFor, late, record: true },
      );
      if (outcome.kind === 'sent') {
        log.info(
          { event: 'digest', digest: name, scheduledFor: scheduledFor.toISOString(), late, delivered: outcome.delivered, failed: outcome.failed.map((f) => f.channel) },
          `digest ${name} for ${scheduledFor.toISOString()}${late ? ' (late)' : ''}: sent to ${outcome.delivered.length} channel(s), ${outcome.failed.length} failed`,
        );
      }
    } catch (error) {
      const message = generation.redact(error instanceof Error ? error.message : String(error));
      log.error({ event: 'digest', digest: name, scheduledFor: scheduledFor.toISOString(), err: message }, `digest ${name} for ${scheduledFor.toISOString()} not sent: ${message}`);
    }
  }

  /**
   * The status page from what this process holds: the configuration, the alerts' latest
   * evaluations, the state as stored, and the history cache's hours. It sends no Langfuse request.
   */
  private async statusPage(): Promise<string> {
    const generation = this.generation;
    if (generation === undefined) throw new Error('no configuration loaded');
    const { config } = generation;
    const now = this.options.clock();
    const state = await this.options.store.load();
    return renderStatusPage({
      now,
      timezone: config.timezone,
      alerts: config.alerts,
      outcomes: this.outcomes,
      channels: [...generation.channels].map(([name, channel]) => ({ name, type: channel.type })),
      state,
      explained: new Map([...this.explained.values()].flatMap((bySeries) => [...bySeries])),
      daily: dailySpend(await generation.projectSpend(), now, config.timezone, CHART_DAYS),
      readiness: this.readiness().reason,
      redact: generation.redact,
    });
  }

  /** What the status page shows of an evaluation: each alert's series or failure, and the contributors of series that fired. */
  private rememberForPage(report: CheckReport, now: Date): void {
    const at = now.toISOString();
    for (const { alert, series } of report.evaluations) {
      this.outcomes.set(alert.name, { at, series });
      // contributors come with a series' firing notification only; they stand while it keeps firing
      const before = this.explained.get(alert.name);
      const kept = new Map<string, Explained>();
      for (const s of series) {
        const key = seriesStateKey(s.alert, s.seriesKey);
        const earlier = before?.get(key);
        if (s.contributors !== undefined) kept.set(key, { contributors: s.contributors, contributorsMissing: s.contributorsMissing ?? [] });
        else if (s.breach !== null && earlier !== undefined) kept.set(key, earlier);
      }
      this.explained.set(alert.name, kept);
    }
    for (const failure of report.alertFailures) this.outcomes.set(failure.alert, { at, error: failure.error });
  }

  private recordOutcome(report: CheckReport, finished: Date): void {
    const { langfuse, channels } = report.state;
    this.degraded = [
      ...(langfuse.noticeSent ? [`Langfuse failing since ${langfuse.since}: ${langfuse.lastError}`] : []),
      ...Object.entries(channels)
        .filter(([, health]) => health.noticeSent)
        .map(([name, health]) => `channel ${name} failing since ${health.since}: ${health.lastError}`),
    ];
    const errors = [
      ...report.alertFailures.map((f) => `${f.alert}: ${f.error}`),
      ...report.deliveryFailures.map((f) => `${f.channel}: ${f.error}`),
    ];
    if (errors.length === 0) {
      this.lastSuccessAt = finished;
      this.lastFailure = null;
    } else {
      this.lastFailure = errors.join('; ');
    }
  }

  private async closeRetired(): Promise<void> {
    const retired = this.retired;
    this.retired = [];
    await Promise.all(retired.map((g) => g.close()));
  }

  private onLangfuseRequest(event: RequestEvent): void {
    this.langfuseRequests += 1;
    this.metrics.langfuseRequest(event);
  }

  private readyWindowMs(): number {
    const quiet = this.scheduler?.longestQuietMs() ?? 0;
    return Math.max(READY_WINDOW_INTERVALS * quiet, this.options.minReadyWindowMs ?? DEFAULT_MIN_READY_WINDOW_MS);
  }
}

function scheduleOf(config: Config): Array<{ name: string; schedule: string }> {
  return config.alerts.map((alert) => ({ name: alert.name, schedule: alert.schedule ?? config.schedule }));
}

async function settlesWithin(promise: Promise<void>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), ms);
  });
  try {
    return await Promise.race([promise.then(() => true), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** Alert names and schedules the start-up line lists at most: with thousands of alerts it stays one short line. */
export const NAMED_AT_START = 20;

/**
 * The schedules for the start-up line: each with its next run, how many alerts it runs and their
 * first names, at most NAMED_AT_START schedules and NAMED_AT_START names in all, and how many
 * schedules were left out.
 */
export function describeSchedules(runs: ReturnType<Scheduler['nextRuns']>): {
  schedules: Array<{ schedule: string; next: string | null; alertCount: number; alerts: readonly string[] }>;
  otherSchedules?: number;
} {
  let namesLeft = NAMED_AT_START;
  const schedules = runs.slice(0, NAMED_AT_START).map((run) => {
    const alerts = run.alerts.slice(0, namesLeft);
    namesLeft -= alerts.length;
    return { schedule: run.schedule, next: run.next?.toISOString() ?? null, alertCount: run.alerts.length, alerts };
  });
  return runs.length > schedules.length ? { schedules, otherSchedules: runs.length - schedules.length } : { schedules };
}
