// Langfuse requests sent outside the planner (the report's own sections, the cost exporter) spend
// from the same request budget as the planner's: counted, recorded, and a 429 pauses it.
import { LangfuseError, type LangfuseClient } from '../sources/langfuse/client.js';
import type { RequestQuota } from '../sources/langfuse/planner/index.js';

/**
 * Runs `read` with a client that counts the requests it sends, and records them in `quota` at
 * `now` whatever happens; a 429 pauses the budget as long as Langfuse asked, as the planner does,
 * so later commands (and the daemon) wait too.
 */
export async function readBudgeted<T>(
  client: Pick<LangfuseClient, 'metrics'>,
  quota: RequestQuota,
  now: Date,
  read: (counted: Pick<LangfuseClient, 'metrics'>) => Promise<T>,
): Promise<T> {
  // each query built is one request sent (v2, or v1 after v2's 404)
  let requests = 0;
  const counted: Pick<LangfuseClient, 'metrics'> = {
    metrics: (build, signal) =>
      client.metrics((version) => {
        requests += 1;
        return build(version);
      }, signal),
  };
  try {
    return await read(counted);
  } catch (error) {
    if (error instanceof LangfuseError && error.kind === 'rate-limited') await quota.rateLimited(error.retryAfterSeconds, now);
    throw error;
  } finally {
    await quota.record(requests, now);
  }
}
