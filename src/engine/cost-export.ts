// The cost exporter's evaluation step (`costExporter: true`, the daemon only): one Langfuse request
// through the shared client and request budget, then the core's arithmetic. It lives as long as
// the process: the counters start at the first evaluation (hours closed before it are not added),
// and what the kept hours hold survives reloads and, through the state directory, restarts.
import { closedUntil, exportStep, readFrom, type ExportStep, type KeptHours } from '../core/cost-export.js';
import type { LangfuseClient } from '../sources/langfuse/client.js';
import type { KeptHoursStore } from '../sources/langfuse/cost-export.js';
import { readCostRows } from '../sources/langfuse/cost-export.js';
import { readBudgeted } from './budgeted.js';
import type { RequestQuota } from '../sources/langfuse/planner/index.js';

/** What one configuration generation reads the exporter's data with. */
export interface CostExportLangfuse {
  readonly client: Pick<LangfuseClient, 'metrics'>;
  /** the shared request budget: the request is recorded there, a 429 pauses it */
  readonly quota: RequestQuota;
  readonly store: KeptHoursStore;
  readonly timezone: string;
  readonly lagMarginMs: number;
}

/** Why an evaluation exported nothing new: the budget's pause (no request sent). */
export type CostExportSkipped = { readonly skipped: string };

export class CostExporter {
  /** undefined until loaded from the store */
  private kept: KeptHours | null | undefined;
  /**
   * Closed hours from here on are added to the counters: set by the first evaluation, then moved
   * past every hour counted, so hours read again (the zone changed by a reload) never count twice.
   */
  private countFrom: number | null = null;

  /**
   * Sends the evaluation's one request (none while Langfuse asked to wait) and takes the answer
   * in. A failed request changes nothing, so the next evaluation reads from the same hour.
   */
  async evaluate(langfuse: CostExportLangfuse, now: Date, signal?: AbortSignal, onProblem: (message: string) => void = () => {}): Promise<ExportStep | CostExportSkipped> {
    const paused = await langfuse.quota.pausedUntil(now);
    if (paused !== null) return { skipped: `Langfuse asked to wait until ${paused.toISOString()}` };
    if (this.kept === undefined) {
      const { kept, problem } = await langfuse.store.load();
      if (problem !== null) onProblem(problem);
      this.kept = kept;
    }
    this.countFrom ??= closedUntil(now, langfuse.lagMarginMs);
    const from = readFrom(this.kept, now, langfuse.timezone);
    const reading = await readBudgeted(langfuse.client, langfuse.quota, now, (client) => readCostRows(client, from, now, signal));
    const step = exportStep(this.kept, reading, this.countFrom, now, langfuse.lagMarginMs, langfuse.timezone);
    this.countFrom = Math.max(this.countFrom, step.kept.until);
    const changed = this.kept?.until !== step.kept.until || this.kept.from !== step.kept.from;
    this.kept = step.kept;
    if (changed) {
      // the hours read are counted all the same: only a restart would read them again
      await langfuse.store.save(step.kept).catch((error: unknown) => onProblem(`the cost exporter's closed hours could not be kept: ${error instanceof Error ? error.message : String(error)}`));
    }
    return step;
  }
}
