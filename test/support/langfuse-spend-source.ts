// One request per query: exact and simple, the reference the planner's answers are held to
// (test/sources/langfuse/planner/equivalence.test.ts) and the benchmark's baseline. Production
// reads through the planner.
import { groupField, type SpendQuery, type SpendReading, type SpendResult, type SpendSource } from '../../src/core/query.js';
import type { LangfuseClient } from '../../src/sources/langfuse/client.js';
import { costQuery, readingFromRows } from '../../src/sources/langfuse/spend-source.js';
import { mapLimit } from '../../src/util/concurrency.js';

/** One request per query: exact and simple; the planner builds on it. */
export class LangfuseSpendSource implements SpendSource {
  constructor(
    private readonly client: LangfuseClient,
    private readonly concurrency = 4,
  ) {}

  spendAll(queries: readonly SpendQuery[], signal?: AbortSignal): Promise<SpendResult[]> {
    return mapLimit(queries, this.concurrency, (query) =>
      this.spend(query, signal).then(
        (value): SpendResult => ({ status: 'fulfilled', value }),
        (reason: unknown): SpendResult => ({ status: 'rejected', reason }),
      ),
    );
  }

  async spend(query: SpendQuery, signal?: AbortSignal): Promise<SpendReading> {
    // An empty window (a day at its very first instant) has no spend; Langfuse would refuse from > to.
    if (query.to.getTime() <= query.from.getTime()) return { total: 0, byGroup: groupField(query.shape) ? new Map() : null };
    const { rows, version } = await this.client.metrics((v) => costQuery(query, v), signal);
    return readingFromRows(rows, query.shape, version);
  }
}
