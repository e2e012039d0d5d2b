// The planner as the commands use it: a SpendSource that spends Langfuse requests sparingly,
// with its history cache in the state directory, and the request budget the scheduler asks.
// What it knows of the configuration comes in as PlannerSettings, built by the caller.
import type { RequestBudgetSetting } from '../../../config/schema.js';
import type { LangfuseClient } from '../client.js';
import type { Logger } from '../../../log/logger.js';
import { QUOTA_FILE, quotaLimits, RequestQuota } from '../quota.js';
import { HistoryCache } from './cache.js';
import { fileStorage } from '../../../storage/file.js';
import type { PlannerSettings } from './settings.js';
import { PlannedSpendSource, type EvaluationUsage } from './source.js';

export { PlannedSpendSource, type EvaluationUsage } from './source.js';
export { coldStartCost, type ColdStartCost } from './simulate.js';
export type { PlannerSettings } from './settings.js';
export { quotaLimits, burstAllowance, describeQuota, PLAN_LIMITS, RequestQuota, type Admission, type QuotaLimits, type QuotaSnapshot, type Refusal } from '../quota.js';
export { CACHE_FILE } from './cache.js';
export { plannedCost, scheduleStretch, type PlannedCost, type Stretch } from './estimate.js';

export interface SpendSourceOptions {
  readonly client: LangfuseClient;
  readonly stateDir: string;
  /** the Langfuse project (langfuseIdentity): the history cache holds one project's spend */
  readonly project: string;
  readonly settings: PlannerSettings;
  readonly log: Logger;
  /** `check --dry-run`: the cache is read but never written (the budget still counts its requests) */
  readonly readOnly: boolean;
  /** told every request sent and every 429 met, and asked whether Langfuse said to wait (see openRequestQuota) */
  readonly budget?: RequestQuota;
  /**
   * A command whose whole cost the budget admitted beforehand (backtest): its evaluations aren't cut
   * to the budget's burst, so its history comes in at once rather than over several runs.
   */
  readonly admittedInWhole?: boolean;
}

export function createSpendSource(options: SpendSourceOptions): PlannedSpendSource {
  const { client, stateDir, project, settings, log, readOnly, budget, admittedInWhole } = options;
  return new PlannedSpendSource({
    client,
    settings,
    log,
    readOnly,
    loadCache: async () => {
      const { cache, problem } = await HistoryCache.load(fileStorage(stateDir), project);
      if (problem?.kind === 'source') log.info({ file: cache.file }, 'the Langfuse project changed: its history cache starts afresh');
      else if (problem) log.warn({ file: cache.file }, `Langfuse history cache not used (${problem.message}); it is rebuilt`);
      return cache;
    },
    ...(budget && {
      onUsage: (usage: EvaluationUsage) => recordUsage(budget, usage, log),
      allowance: (now: Date) => (admittedInWhole ? Infinity : budget.burst(now)),
      headroom: (now: Date) => budget.headroom(now),
      pausedUntil: (now: Date) => budget.pausedUntil(now),
    }),
  });
}

/**
 * The budget `langfuse.requestBudget` configures, with what earlier runs spent (state directory).
 * Every command records its requests there, a dry run too: it costs what a check costs.
 */
export function openRequestQuota(options: { stateDir: string; requestBudget: RequestBudgetSetting | undefined; log: Logger }): Promise<RequestQuota> {
  return RequestQuota.open({
    storage: fileStorage(options.stateDir),
    limits: quotaLimits(options.requestBudget),
    onRepair: (message) => options.log.warn({ file: QUOTA_FILE }, message),
  });
}

async function recordUsage(budget: RequestQuota, usage: EvaluationUsage, log: Logger): Promise<void> {
  try {
    await budget.record(usage.requests, usage.at);
    if (usage.rateLimited) await budget.rateLimited(usage.rateLimited.retryAfterSeconds, usage.at);
  } catch (error) {
    // Counting is best effort: Langfuse's own 429 stays the backstop.
    log.warn({ err: (error as Error).message }, `could not record Langfuse request usage: ${(error as Error).message}`);
  }
}
