// Decides, from this evaluation and what state remembers, which notifications to send: once per
// series, period and dedup level (a severity, or a budget step: `warning@80`); escalation notifies
// again; rolling windows resolve. Pure.
import type { AlertConfig, Severity } from '../alert.js';
import { ruleKind, ruleOf } from '../rules/index.js';
import { alertShape } from '../query.js';
import type { SeriesEvaluation } from '../series.js';
import { seriesStateKey, type DedupLevel, type SeriesState } from '../ledger.js';
import { currentWindow, parseWindow, periodStart } from '../time/windows.js';
import { cleanUsd } from '../money.js';
import { traceUrlOf, type Notification, type NotificationStatus } from '../notification.js';
import type { PlannedNotification } from './types.js';

export type { PlannedNotification } from './types.js';

export interface PlanInput {
  /**
   * the alerts evaluated now, each with all of its series; `final` marks the final check of a
   * calendar period that has closed (evaluated at its end, once late data is in)
   */
  readonly evaluated: ReadonlyArray<{ alert: AlertConfig; series: readonly SeriesEvaluation[]; final?: boolean }>;
  readonly series: Readonly<Record<string, SeriesState>>;
  readonly now: Date;
  readonly timezone: string;
  readonly langfuseUrl: string;
}

export interface Plan {
  readonly notifications: readonly PlannedNotification[];
  /** the whole series map after this evaluation */
  readonly series: Readonly<Record<string, SeriesState>>;
}

const RANK: Record<Severity, number> = { warning: 1, critical: 2 };

/** `warning@80` → warning, step 80; `critical` → critical, no step */
export function parseLevel(level: DedupLevel): { severity: Severity; step: number | null } {
  const at = level.indexOf('@');
  return at === -1 ? { severity: level as Severity, step: null } : { severity: level.slice(0, at) as Severity, step: Number(level.slice(at + 1)) };
}

/** What a breach is notified as: its severity, or its step for budget steps. */
function levelOf(evaluation: SeriesEvaluation): DedupLevel | null {
  if (evaluation.step) return `${evaluation.step.severity}@${evaluation.step.percent}`;
  return evaluation.breach;
}

/**
 * Whether `sent` makes `level` redundant. Steps: any higher (or the same) step already sent covers
 * it. Severities: critical covers warning, so a series never steps down within a period; a
 * severity and a step (an alert edited between the two forms) compare by severity.
 */
function covers(sent: DedupLevel, level: DedupLevel): boolean {
  const a = parseLevel(sent);
  const b = parseLevel(level);
  if (a.step !== null && b.step !== null) return a.step >= b.step;
  return RANK[a.severity] >= RANK[b.severity];
}

function alreadyCovered(notified: readonly DedupLevel[], level: DedupLevel): boolean {
  return notified.some((sent) => covers(sent, level));
}

/** The most severe level notified: by severity, then by step. */
function highest(levels: readonly DedupLevel[]): DedupLevel {
  const order = (level: DedupLevel): [number, number] => {
    const { severity, step } = parseLevel(level);
    return [RANK[severity], step ?? 0];
  };
  return levels.reduce<DedupLevel>((top, level) => {
    const [a, b] = [order(level), order(top)];
    return a[0] > b[0] || (a[0] === b[0] && a[1] > b[1]) ? level : top;
  }, 'warning');
}

/** ISO without milliseconds: the period part of a notification id */
export function isoSeconds(date: Date | string): string {
  return new Date(date).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

export function notificationId(
  alert: string,
  seriesKey: string,
  period: string,
  level: DedupLevel,
  status: NotificationStatus,
): string {
  return [alert, seriesKey === '' ? '-' : seriesKey, isoSeconds(period), level, status].join('|');
}

export function planNotifications(input: PlanInput): Plan {
  const series: Record<string, SeriesState> = { ...input.series };
  const notifications: PlannedNotification[] = [];
  // The remembered series of each alert, found once: scanning them all per alert is quadratic
  // with thousands of alerts.
  const rememberedOf = new Map<string, string[]>();
  for (const [key, previous] of Object.entries(input.series)) {
    const keys = rememberedOf.get(previous.alert);
    if (keys) keys.push(key);
    else rememberedOf.set(previous.alert, [key]);
  }
  const nowIso = input.now.toISOString();

  const emit = (
    alert: AlertConfig,
    evaluation: SeriesEvaluation,
    period: string,
    level: DedupLevel,
    status: NotificationStatus,
  ): void => {
    const { severity, step } = parseLevel(level);
    // a step's threshold is its amount: the one crossed, or (resolved) the highest sent
    const stepAmount = step === null ? undefined : (evaluation.steps?.find((s) => s.percent === step)?.amount ?? evaluation.step?.amount);
    const message = status === 'firing' ? ruleKind(evaluation.kind).notificationMessage?.(evaluation) : undefined;
    notifications.push({
      channels: alert.channels,
      notification: {
        id: notificationId(alert.name, evaluation.seriesKey, period, level, status),
        status,
        severity,
        alert: alert.name,
        kind: evaluation.kind,
        group: groupOf(evaluation),
        window: evaluation.window,
        // what people and receivers read (webhook bodies, the outbox in the state): no float noise
        value: cleanUsd(evaluation.value),
        // a series read with its tokens (unpriced) fires on tokens without cost, not over a USD level
        threshold: evaluation.tokens
          ? null
          : cleanUsd(stepAmount ?? evaluation.projection?.threshold ?? evaluation.levels[severity] ?? lowestLevel(evaluation) ?? 0),
        baseline: evaluation.baseline === null ? null : cleanUsd(evaluation.baseline),
        factor: evaluation.factor,
        ...(step === null ? {} : { step }),
        ...(evaluation.projection === undefined
          ? {}
          : {
              forecast: cleanUsd(evaluation.projection.forecast),
              share: cleanUsd(evaluation.projection.share),
              crossesAt: evaluation.projection.crossesAt,
            }),
        evaluatedAt: nowIso,
        langfuseUrl: input.langfuseUrl,
        ...(evaluation.groupBy === 'traceId' && evaluation.groupValue !== null ? traceFields(evaluation, evaluation.groupValue, input.langfuseUrl) : {}),
        ...(evaluation.tokens ? { tokens: evaluation.tokens } : {}),
        ...(message === undefined ? {} : { message }),
        // why it fired: only a firing notification says (a resolved one has recovered)
        ...(status === 'firing' && evaluation.contributors ? { contributors: evaluation.contributors } : {}),
        ...(status === 'firing' && evaluation.contributorsMissing?.length ? { contributorsMissing: evaluation.contributorsMissing } : {}),
      },
    });
  };

  for (const { alert, series: evaluations, final } of input.evaluated) {
    if (ruleOf(alert).kind.lifecycle === 'once') {
      stepOnce(alert, evaluations, final ?? false, series, rememberedOf.get(alert.name) ?? [], input, emit);
      continue;
    }
    if (final) {
      for (const evaluation of evaluations) {
        const key = seriesStateKey(alert.name, evaluation.seriesKey);
        series[key] = stepFinal(alert, evaluation, series[key], input.now, emit);
      }
      continue;
    }
    const seen = new Set<string>();
    for (const evaluation of evaluations) {
      const key = seriesStateKey(alert.name, evaluation.seriesKey);
      seen.add(key);
      const previous = series[key];
      series[key] =
        evaluation.periodStart === null
          ? stepRolling(alert, evaluation, previous, input.now, emit)
          : stepCalendar(alert, evaluation, evaluation.periodStart, previous, input.now, emit);
    }
    for (const key of rememberedOf.get(alert.name) ?? []) {
      const previous = series[key];
      if (previous === undefined || seen.has(key)) continue;
      // A rolling series with no spend left in its window has recovered; a series that merely
      // fell out of a top-N tells us nothing, so it stays as it is.
      if (previous.open && alertShape(alert).kind !== 'topN') {
        series[key] = closeVanishedEpisode(alert, previous, input, emit);
      } else if (!previous.open && evaluations[0]?.periodStart && previous.period !== evaluations[0].periodStart.toISOString()) {
        delete series[key];
      }
    }
  }
  return { notifications, series };
}

/**
 * A rule whose series notify once and never resolve (perTrace): only series that breach, or were
 * notified, are kept. Calendar windows: once per period, forgotten when the period is over.
 * Rolling windows: once, kept while read, forgotten two window lengths after the last read —
 * by then the series has been out of the window for one window length.
 */
function stepOnce(
  alert: AlertConfig,
  evaluations: readonly SeriesEvaluation[],
  final: boolean,
  series: Record<string, SeriesState>,
  remembered: readonly string[],
  input: PlanInput,
  emit: Emit,
): void {
  const spec = parseWindow(alert.window);
  const seen = new Set<string>();
  for (const evaluation of evaluations) {
    const key = seriesStateKey(alert.name, evaluation.seriesKey);
    seen.add(key);
    const previous = series[key];
    if (previous === undefined && evaluation.breach === null) continue;
    if (final) series[key] = stepFinal(alert, evaluation, previous, input.now, emit);
    else if (evaluation.periodStart !== null) series[key] = stepCalendar(alert, evaluation, evaluation.periodStart, previous, input.now, emit);
    else if (previous) series[key] = { ...previous, lastValue: cleanUsd(evaluation.value), updatedAt: input.now.toISOString() };
    else {
      const episode = input.now.toISOString();
      emit(alert, evaluation, episode, evaluation.breach!, 'firing');
      series[key] = seriesState(alert, evaluation, episode, [evaluation.breach!], false, input.now);
    }
  }
  if (final) return;
  // calendar: kept through the period before this one, whose final check may still come
  const keepFrom =
    spec.kind === 'calendar'
      ? periodStart(spec, new Date(periodStart(spec, input.now, input.timezone).getTime() - 1), input.timezone).toISOString()
      : '';
  for (const key of remembered) {
    const previous = series[key];
    if (previous === undefined || seen.has(key)) continue;
    const forget =
      spec.kind === 'calendar'
        ? previous.period < keepFrom
        : input.now.getTime() - Date.parse(previous.updatedAt) >= 2 * spec.ms;
    if (forget) delete series[key];
  }
}

function traceFields(evaluation: SeriesEvaluation, id: string, langfuseUrl: string): Pick<Notification, 'trace' | 'traceUrl'> {
  const labels = evaluation.labels ?? {};
  return {
    trace: { id, name: labels['traceName'] ?? null, userId: labels['userId'] ?? null },
    traceUrl: traceUrlOf(langfuseUrl, id),
  };
}

type Emit = (
  alert: AlertConfig,
  evaluation: SeriesEvaluation,
  period: string,
  level: DedupLevel,
  status: NotificationStatus,
) => void;

function stepCalendar(
  alert: AlertConfig,
  evaluation: SeriesEvaluation,
  periodStart: Date,
  previous: SeriesState | undefined,
  now: Date,
  emit: Emit,
): SeriesState {
  const period = periodStart.toISOString();
  const samePeriod = previous?.period === period;
  let notified = samePeriod ? previous.notified : [];
  const level = levelOf(evaluation);
  if (level && !alreadyCovered(notified, level)) {
    emit(alert, evaluation, period, level, 'firing');
    notified = [...notified, level];
  }
  const before = samePeriod ? previous.previous : previous && { period: previous.period, notified: previous.notified };
  return { ...seriesState(alert, evaluation, period, notified, false, now), ...(before ? { previous: before } : {}) };
}

/**
 * The closed period, evaluated once more at its end: spend logged just before midnight that
 * reached Langfuse late still fires that day's budget, unless that severity was already sent.
 */
function stepFinal(
  alert: AlertConfig,
  evaluation: SeriesEvaluation,
  current: SeriesState | undefined,
  now: Date,
  emit: Emit,
): SeriesState {
  const period = evaluation.periodStart!.toISOString();
  const slot = current?.period === period ? 'current' : current?.previous?.period === period ? 'previous' : 'none';
  const notified = slot === 'current' ? current!.notified : slot === 'previous' ? current!.previous!.notified : [];
  const level = levelOf(evaluation);
  if (!level || alreadyCovered(notified, level)) {
    return current ?? seriesState(alert, evaluation, period, [], false, now);
  }
  emit(alert, evaluation, period, level, 'firing');
  const updated = [...notified, level];
  if (slot === 'current') return { ...current!, notified: updated };
  if (current && current.period > period) return { ...current, previous: { period, notified: updated } };
  return seriesState(alert, evaluation, period, updated, false, now);
}

function stepRolling(
  alert: AlertConfig,
  evaluation: SeriesEvaluation,
  previous: SeriesState | undefined,
  now: Date,
  emit: Emit,
): SeriesState {
  if (previous?.open) {
    if (evaluation.recovered) {
      if (alert.sendResolved) emit(alert, evaluation, previous.period, highest(previous.notified), 'resolved');
      return seriesState(alert, evaluation, previous.period, [], false, now);
    }
    const level = levelOf(evaluation);
    if (level && !alreadyCovered(previous.notified, level)) {
      emit(alert, evaluation, previous.period, level, 'firing');
      return seriesState(alert, evaluation, previous.period, [...previous.notified, level], true, now);
    }
    return seriesState(alert, evaluation, previous.period, previous.notified, true, now);
  }
  const level = levelOf(evaluation);
  if (level) {
    const episode = now.toISOString();
    emit(alert, evaluation, episode, level, 'firing');
    return seriesState(alert, evaluation, episode, [level], true, now);
  }
  return seriesState(alert, evaluation, previous?.period ?? now.toISOString(), [], false, now);
}

function closeVanishedEpisode(alert: AlertConfig, previous: SeriesState, input: PlanInput, emit: Emit): SeriesState {
  const [groupBy, groupValue] = Object.entries(previous.group)[0] ?? [];
  const range = currentWindow(parseWindow(alert.window), input.now, input.timezone);
  const rule = ruleOf(alert);
  const comparison = rule.kind.compare(rule.config, alert, input);
  const evaluation: SeriesEvaluation = {
    alert: alert.name,
    kind: rule.kind.key,
    ...(groupBy ? { groupBy: groupBy as SeriesEvaluation['groupBy'] } : {}),
    groupValue: groupValue ?? null,
    seriesKey: previous.seriesKey,
    value: 0,
    breach: null,
    levels: {},
    baseline: null,
    factor: comparison.factor,
    window: { type: alert.window, from: range.from.toISOString(), to: range.to.toISOString(), timezone: input.timezone },
    periodStart: null,
    recovered: true,
    // the resolved notification names the highest step sent, with that step's amount
    steps: comparison.levelsOf(() => []).steps,
  };
  return stepRolling(alert, evaluation, previous, input.now, emit);
}

function lowestLevel(evaluation: SeriesEvaluation): number | undefined {
  const levels = Object.values(evaluation.levels);
  return levels.length ? Math.min(...levels) : undefined;
}

function seriesState(
  alert: AlertConfig,
  evaluation: SeriesEvaluation,
  period: string,
  notified: readonly DedupLevel[],
  open: boolean,
  now: Date,
): SeriesState {
  return {
    alert: alert.name,
    seriesKey: evaluation.seriesKey,
    group: groupOf(evaluation),
    period,
    notified,
    open,
    lastValue: cleanUsd(evaluation.value),
    updatedAt: now.toISOString(),
  };
}

export function groupOf(evaluation: SeriesEvaluation): Record<string, string | null> {
  return evaluation.groupBy ? { [evaluation.groupBy]: evaluation.groupValue } : {};
}
