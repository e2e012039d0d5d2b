// The recorded Langfuse data set (test/fixtures/langfuse) as fake observations, priced the way the
// real server priced them, so sums over it match the recorded answers.
import { readFileSync } from 'node:fs';
import type { FakeObservation } from '../../tools/fake-langfuse/server.js';

interface FlatObservation {
  wave: string;
  traceId: string;
  traceName: string;
  userId: string;
  sessionId: string;
  environment: string;
  tags: string[];
  release: string;
  agent_type: string;
  traceTimestamp: string;
  type: string;
  id: string;
  model: string | null;
  startTime: string;
  usageDetails: { input: number; output: number } | null;
  costDetails: { input: number; output: number; total: number } | null;
}

interface Dataset {
  builtin_prices_per_token: Record<string, [number, number]>;
  custom_model_prices_per_token: Record<string, [number, number]>;
  waves: Array<{ name: string }>;
  observations_flat: FlatObservation[];
}

export interface RecordedCase {
  name: string;
  method: string;
  path: string;
  query: unknown;
  params: Record<string, string> | null;
  rawQueryString: string | null;
  /** "public:secret" for Basic auth, a raw Authorization header, or null for none */
  auth: string | null;
  /** the JSON body sent (POST), or null */
  requestBody?: unknown;
  status: number;
  headers: Record<string, string>;
  body: unknown;
}

export interface Recording {
  recordedAt: string;
  now: string;
  cases: RecordedCase[];
}

const fixture = (name: string): unknown =>
  JSON.parse(readFileSync(new URL(`../fixtures/langfuse/${name}`, import.meta.url), 'utf8'));

export const RECORDED_PUBLIC_KEY = 'pk-lf-local';
export const RECORDED_SECRET_KEY = 'sk-lf-local';
export const RECORDED_PROJECT = { id: 'spend-proj', name: 'spend', organization: { id: 'spend-org', name: 'Spend Org' } };

export function loadRecording(): Recording {
  return fixture('cases.json') as Recording;
}

const DAY_MS = 86_400_000;

export function loadDatasetObservations(): FakeObservation[] {
  const dataset = fixture('dataset.json') as Dataset;
  // Traces more than 7 days old at recording time reached Langfuse's v2 tables through a backfill
  // that lost their trace fields (see FakeObservation.v2LostTraceFields).
  const backfilledBefore = Date.parse(loadRecording().now) - 7 * DAY_MS;
  // Custom model prices apply only to generations ingested after the model was created, which
  // happened right after the first wave.
  const firstWave = dataset.waves[0]?.name;
  return dataset.observations_flat.map((o): FakeObservation => {
    const price =
      o.model === null
        ? undefined
        : (dataset.builtin_prices_per_token[o.model] ??
          (o.wave === firstWave ? undefined : dataset.custom_model_prices_per_token[o.model]));
    const usage = o.usageDetails;
    let costs: { input: number; output: number; total: number } | null = o.costDetails;
    if (costs === null && usage !== null && price !== undefined) {
      const input = usage.input * price[0];
      const output = usage.output * price[1];
      costs = { input, output, total: input + output };
    }
    return {
      id: o.id,
      traceId: o.traceId,
      type: o.type,
      startTime: o.startTime,
      traceTimestamp: o.traceTimestamp,
      traceName: o.traceName,
      userId: o.userId,
      sessionId: o.sessionId,
      environment: o.environment,
      tags: o.tags,
      release: o.release,
      traceMetadata: { agent_type: o.agent_type },
      providedModelName: o.model,
      inputCost: costs?.input ?? null,
      outputCost: costs?.output ?? null,
      totalCost: costs?.total ?? null,
      ...(usage === null ? {} : { inputTokens: usage.input, outputTokens: usage.output }),
      v2LostTraceFields: Date.parse(o.traceTimestamp) < backfilledBefore,
    };
  });
}
