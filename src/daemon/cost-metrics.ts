// The cost exporter's metrics on the daemon's registry (`costExporter: true`): the project's cost
// and tokens by model and operation (trace name) as counters that grow by each hour once it closed,
// and the current day's, week's and month's cost by model as gauges. Label values are bounded
// (src/core/cost-export.ts BoundedLabel), the model label shared by every metric, so a project
// with thousands of models or trace names can't explode /metrics.
import { Counter, Gauge, type Registry } from 'prom-client';
import { BoundedLabel, COST_WINDOWS, type CostRow, type ExportStep } from '../core/cost-export.js';
import { cleanUsd } from '../core/money.js';

const COST_TOTAL = 'llm_cost_dollars_total';
const TOKENS_TOTAL = 'llm_tokens_used_total';
const WINDOW_COST = 'spend_alerts_window_cost_usd';

export class CostMetrics {
  private readonly models = new BoundedLabel();
  private readonly operations = new BoundedLabel();
  private readonly cost: Counter<'model' | 'operation'>;
  private readonly tokens: Counter<'model' | 'operation' | 'token_type'>;
  private readonly windowCost: Gauge<'window' | 'model'>;
  /**
   * Each cost pair's total, kept here and written to the counter whole and rounded: a counter's own
   * sum of float costs would carry noise (0.6279075000000001) into every scrape.
   */
  private readonly costTotals = new Map<string, { readonly labels: Record<'model' | 'operation', string>; total: number }>();

  constructor(private readonly registry: Registry) {
    const registers = [registry];
    this.cost = new Counter({
      name: COST_TOTAL,
      help: 'USD spent in the Langfuse project, by model and operation (trace name); each hour is added once it ended more than lagMargin ago.',
      labelNames: ['model', 'operation'],
      registers,
    });
    this.tokens = new Counter({
      name: TOKENS_TOTAL,
      help: 'Tokens used in the Langfuse project, by model, operation (trace name) and token_type (input, output); added like llm_cost_dollars_total.',
      labelNames: ['model', 'operation', 'token_type'],
      registers,
    });
    this.windowCost = new Gauge({
      name: WINDOW_COST,
      help: 'USD spent in the current day, week or month (window, in `timezone`) up to the last evaluation, by model.',
      labelNames: ['window', 'model'],
      registers,
    });
  }

  /**
   * Adds the hours that closed and sets the gauges (left as they were while the exporter is
   * catching up on a cold start). A pair is exported at 0 while its first hour is open, so rate() sees that hour added.
   */
  update(step: ExportStep): void {
    const add = (row: CostRow, share: number): void => {
      const labels = { model: this.models.of(row.model), operation: this.operations.of(row.operation) };
      const key = JSON.stringify([labels.model, labels.operation]);
      const pair = this.costTotals.get(key) ?? { labels, total: 0 };
      pair.total += share * row.cost;
      this.costTotals.set(key, pair);
      this.tokens.inc({ ...labels, token_type: 'input' }, share * row.inputTokens);
      this.tokens.inc({ ...labels, token_type: 'output' }, share * row.outputTokens);
    };
    for (const row of step.open) add(row, 0);
    for (const row of step.counted) add(row, 1);
    this.cost.reset();
    for (const { labels, total } of this.costTotals.values()) this.cost.inc(labels, cleanUsd(total));
    if (step.windows === null) return;
    this.windowCost.reset();
    for (const unit of COST_WINDOWS) {
      const byLabel = new Map<string, number>();
      for (const [model, cost] of step.windows.get(unit) ?? []) {
        const label = this.models.of(model);
        byLabel.set(label, (byLabel.get(label) ?? 0) + cost);
      }
      for (const [model, cost] of byLabel) this.windowCost.set({ window: unit, model }, cleanUsd(cost));
    }
  }

  /** Takes the metrics off the registry (the exporter was turned off by a reload). */
  remove(): void {
    for (const name of [COST_TOTAL, TOKENS_TOTAL, WINDOW_COST]) this.registry.removeSingleMetric(name);
  }
}
