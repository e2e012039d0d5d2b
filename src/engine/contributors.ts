// Top contributors of the series that fire in this evaluation (PRODUCT.md, "Why it fired"). The
// shared dimensions came with the alerts' own requests (requests.ts); what only a firing series
// needs is read here, in at most two rounds: its top users (or, for a series that is one user,
// that user's breakdown), then one hourly series per listed user. Nothing is read when nothing fires. A dimension that can't be read in time (the
// request budget, a failed request) goes out missing, saying why: the notification is not held up.
import type { GroupByField } from '../core/alert.js';
import type { EvaluatedAlert, PlannedNotification } from '../core/decide/index.js';
import {
  contributorsOf,
  explainOf,
  seriesFilters,
  seriesSlice,
  sharedDimensions,
  topUsersQuery,
  userSeriesQueries,
  usersBaselines,
  type UsersBaselines,
  type ExplainRanges,
  type SeriesBreakdown,
} from '../core/explain.js';
import { seriesKey } from '../core/evaluate.js';
import { seriesStateKey } from '../core/ledger.js';
import type { MissingContributors } from '../core/notification.js';
import { alertReads, WaitingForHistory, type SpendQuery, type SpendReading, type SpendResult, type SpendSource } from '../core/query.js';
import type { SeriesEvaluation } from '../core/series.js';

/** What the evaluation read for one alert's contributors (requests.ts). */
export interface AlertExplain {
  readonly ranges: ExplainRanges;
  /** the answers of explainQueries over the current window */
  readonly current: readonly SpendResult[];
  /** the same over each baseline range */
  readonly baselines: ReadonlyArray<readonly SpendResult[]>;
}

/** The series (seriesStateKey) a firing notification of an explained kind goes out for. */
export function firingSeries(planned: readonly PlannedNotification[]): Set<string> {
  const keys = new Set<string>();
  for (const { notification: n } of planned) {
    if (n.status !== 'firing' || n.kind === 'system') continue;
    const [by, value] = Object.entries(n.group)[0] ?? [];
    keys.add(seriesStateKey(n.alert, seriesKey(by as SeriesEvaluation['groupBy'], value ?? null)));
  }
  return keys;
}

/** Whether some series breaches with contributors to list: otherwise there is nothing to decide twice. */
export function mayExplain(evaluations: readonly EvaluatedAlert[]): boolean {
  return evaluations.some((e) => explainOf(e.alert).length > 0 && e.series.some((s) => s.breach !== null));
}

/** A read waiting for its answer; `answer` is set once the round has run. */
interface Pending {
  readonly queries: readonly SpendQuery[];
  answers?: readonly SpendResult[];
}

interface Target {
  readonly evaluated: EvaluatedAlert;
  readonly explain: AlertExplain;
  readonly series: SeriesEvaluation;
  readonly topUsers?: Pending;
  usersBaseline?: Pending & { readonly plan: UsersBaselines };
  /** groupBy userId: the user's own breakdown by every explain dimension */
  readonly userSeries?: Pending;
}

/**
 * The evaluations with contributors on every series in `firing` (their other series as they were).
 * `describe` turns a failed read into words safe to send (secrets redacted).
 */
export async function explainFiring(
  source: SpendSource,
  evaluations: readonly EvaluatedAlert[],
  explains: ReadonlyMap<EvaluatedAlert, AlertExplain>,
  firing: ReadonlySet<string>,
  langfuseUrl: string,
  describe: (error: unknown) => string,
  at: Date,
  signal?: AbortSignal,
): Promise<EvaluatedAlert[]> {
  const targets: Target[] = [];
  for (const evaluated of evaluations) {
    const explain = explains.get(evaluated);
    const { alert } = evaluated;
    if (!explain || explainOf(alert).length === 0) continue;
    const fired = evaluated.series.filter((s) => firing.has(seriesStateKey(alert.name, s.seriesKey)));
    if (fired.length === 0) continue;
    for (const series of fired) {
      const filters = seriesFilters(alert, series);
      const target: Target = {
        evaluated,
        explain,
        series,
        ...(filters && alert.groupBy === 'userId' && { userSeries: { queries: userSeriesQueries(filters, explainOf(alert), explain.ranges) } }),
        ...(filters && alert.groupBy !== 'userId' && explainOf(alert).includes('userId') && { topUsers: { queries: [topUsersQuery(filters, explain.ranges)] } }),
      };
      targets.push(target);
    }
  }
  if (targets.length === 0) return [...evaluations];

  await readRound(source, targets.flatMap((t) => [t.topUsers, t.userSeries].filter((p): p is Pending => p !== undefined)), at, signal);
  for (const target of targets) {
    const users = target.topUsers && topUsersOf(target.topUsers);
    const filters = seriesFilters(target.evaluated.alert, target.series);
    if (users && filters) {
      const plan = usersBaselines(filters, users.filter((u): u is string => u !== null), target.explain.ranges);
      target.usersBaseline = { queries: plan.queries, plan };
    }
  }
  await readRound(source, targets.flatMap((t) => (t.usersBaseline ? [t.usersBaseline] : [])), at, signal);

  const explained = new Map<SeriesEvaluation, SeriesEvaluation>();
  for (const target of targets) {
    const { breakdowns, missing } = breakdownsOf(target, describe);
    const contributors = contributorsOf(target.evaluated.alert, target.series, breakdowns, langfuseUrl);
    explained.set(target.series, { ...target.series, contributors, ...(missing.length > 0 && { contributorsMissing: missing }) });
  }
  return evaluations.map((e) => (e.series.some((s) => explained.has(s)) ? { ...e, series: e.series.map((s) => explained.get(s) ?? s) } : e));
}

async function readRound(source: SpendSource, reads: readonly Pending[], at: Date, signal: AbortSignal | undefined): Promise<void> {
  const queries = reads.flatMap((read) => read.queries);
  if (queries.length === 0) return;
  const results = await source.spendAll(queries, signal, at);
  let next = 0;
  for (const read of reads) read.answers = results.slice(next, (next += read.queries.length));
}

/** The users a top-N answer lists, most spend first (the null user too: it is listed, without a baseline). */
function topUsersOf(read: Pending): (string | null)[] | undefined {
  const answer = read.answers?.[0];
  if (answer?.status !== 'fulfilled') return undefined;
  return [...(answer.value.byGroup ?? [])].filter(([, spend]) => spend > 0).sort((a, b) => b[1] - a[1]).slice(0, 3).map(([user]) => user);
}

type Outcome = { ok: true; readings: SpendReading[] } | { ok: false; reason: unknown };

function outcome(results: readonly SpendResult[] | undefined): Outcome {
  if (results === undefined) return { ok: false, reason: new Error('not read') };
  const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) return { ok: false, reason: failed.reason };
  return { ok: true, readings: results.map((r) => (r as PromiseFulfilledResult<SpendReading>).value) };
}

function breakdownsOf(target: Target, describe: (error: unknown) => string): { breakdowns: Map<GroupByField, SeriesBreakdown>; missing: MissingContributors[] } {
  const { evaluated, explain, series } = target;
  const { alert } = evaluated;
  const breakdowns = new Map<GroupByField, SeriesBreakdown>();
  const missing: MissingContributors[] = [];
  const miss = (dimension: GroupByField, reason: unknown): void => {
    missing.push({ dimension, reason: reasonOf(reason, describe) });
  };

  // shared dimensions: per range, per dimension one answer per read
  const shared = sharedDimensions(alert);
  const reads = alertReads(alert).length;
  const current = outcome(explain.current);
  const baselines = outcome(explain.baselines.flat());
  const perRange = explain.ranges.baselines.length;
  shared.forEach((dimension, d) => {
    if (!current.ok) return miss(dimension, current.reason);
    if (!baselines.ok) return miss(dimension, baselines.reason);
    const slice = (readings: readonly SpendReading[], rangeIndex: number, perRangeCount: number): Map<string | null, number> =>
      seriesSlice(alert, series, readings.slice(rangeIndex * perRangeCount + d * reads, rangeIndex * perRangeCount + (d + 1) * reads));
    const queriesPerRange = shared.length * reads;
    breakdowns.set(dimension, {
      current: slice(current.readings, 0, queriesPerRange),
      baselines: baselines.readings.length === 0 ? [] : Array.from({ length: perRange }, (_, r) => slice(baselines.readings, r, queriesPerRange)),
    });
  });

  if (alert.groupBy === 'userId' && !target.userSeries) {
    for (const dimension of explainOf(alert)) miss(dimension, new NullGroup());
  } else if (target.userSeries) {
    // groupBy userId: per dimension, the current window then each baseline range
    const answers = outcome(target.userSeries.answers);
    explainOf(alert).forEach((dimension, d) => {
      if (!answers.ok) return miss(dimension, answers.reason);
      const [now, ...before] = answers.readings.slice(d * (perRange + 1), (d + 1) * (perRange + 1)).map((r) => new Map(r.byGroup ?? []));
      breakdowns.set(dimension, { current: now!, baselines: before });
    });
  } else if (explainOf(alert).includes('userId')) {
    const top = outcome(target.topUsers?.answers);
    if (!target.topUsers) miss('userId', new NullGroup());
    else if (!top.ok) miss('userId', top.reason);
    else {
      const users = topUsersOf(target.topUsers) ?? [];
      const listed = new Map([...(top.readings[0]!.byGroup ?? [])].filter(([user]) => users.includes(user)));
      const baseline = target.usersBaseline!;
      const before = outcome(baseline.queries.length > 0 ? baseline.answers : []);
      if (!before.ok) miss('userId', before.reason);
      else breakdowns.set('userId', { current: listed, baselines: baseline.plan.read(before.readings), noBaseline: new Set([null]) });
    }
  }
  return { breakdowns, missing: missing.sort((a, b) => explainOf(alert).indexOf(a.dimension) - explainOf(alert).indexOf(b.dimension)) };
}

/** The series is the group Langfuse reports as null: no filter selects it, so its users can't be ranked. */
class NullGroup extends Error {
  constructor() {
    super('the series is the group Langfuse reports as null, which no filter can select');
  }
}

function reasonOf(error: unknown, describe: (error: unknown) => string): string {
  if (error instanceof WaitingForHistory) return 'the Langfuse request budget admits no more requests in this evaluation';
  if (error instanceof NullGroup) return error.message;
  return `Langfuse could not be read: ${describe(error)}`;
}
