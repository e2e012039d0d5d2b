// Builds fake-Langfuse observations tersely: one priced generation per call, in its own trace.
import type { FakeObservation } from '../../tools/fake-langfuse/server.js';

let counter = 0;

export interface SpendFields {
  model?: string | null;
  environment?: string;
  traceName?: string;
  userId?: string | null;
  tags?: string[];
  metadata?: Record<string, string>;
  release?: string | null;
}

export function spend(at: Date | string, usd: number, fields: SpendFields = {}): FakeObservation {
  counter += 1;
  const id = String(counter).padStart(6, '0');
  return {
    id: `gen-${id}`,
    traceId: `tr-${id}`,
    type: 'GENERATION',
    startTime: new Date(at).toISOString(),
    traceName: fields.traceName ?? 'chat',
    userId: fields.userId === undefined ? 'user-1' : fields.userId,
    sessionId: null,
    environment: fields.environment ?? 'production',
    tags: fields.tags ?? [],
    release: fields.release ?? null,
    traceMetadata: fields.metadata ?? {},
    providedModelName: fields.model === undefined ? 'gpt-4o' : fields.model,
    inputCost: usd / 2,
    outputCost: usd / 2,
    totalCost: usd,
  };
}

/** `usd` spread evenly over `count` generations between from (inclusive) and to (exclusive). */
export function spendSpread(from: Date | string, to: Date | string, usd: number, count: number, fields: SpendFields = {}): FakeObservation[] {
  const start = new Date(from).getTime();
  const step = (new Date(to).getTime() - start) / count;
  return Array.from({ length: count }, (_, i) => spend(new Date(start + step * i), usd / count, fields));
}

/** One generation with every field spelled out (ids chosen by the test): the fake's own tests build their data from it. */
export function generation(id: string, startTime: string, fields: Partial<FakeObservation> = {}): FakeObservation {
  return {
    id,
    traceId: `tr-${id}`,
    type: 'GENERATION',
    startTime,
    traceName: 'chat',
    userId: 'user-1',
    sessionId: null,
    environment: 'production',
    tags: [],
    release: null,
    traceMetadata: {},
    providedModelName: 'gpt-4o',
    inputCost: 1,
    outputCost: 2,
    totalCost: 3,
    inputTokens: 100,
    outputTokens: 20,
    ...fields,
  };
}
