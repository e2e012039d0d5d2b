// The bundled sample spend of `spend-alerts demo`: two weeks of plausible LLM traffic ending at
// `now`, with a runaway agent in the last hours so that the example alerts have something to say.
import type { DemoObservation } from './server.js';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const SAMPLE_DAYS = 14;
const SPIKE_HOURS = 6;
/** the runaway trace: its generations, spread over its last minutes before `now` */
const LOOP_GENERATIONS = 40;
const LOOP_MINUTES = 90;

/** USD per token: [input, output], Langfuse's built-in prices */
const PRICES: Readonly<Record<string, readonly [number, number]>> = {
  'gpt-4o': [2.5e-6, 1e-5],
  'gpt-4o-mini': [1.5e-7, 6e-7],
  'claude-sonnet-4-5-20250929': [3e-6, 1.5e-5],
};

const TRACE_KINDS = [
  { name: 'chat', llm: 'chat-llm', weight: 45, metadata: { agent_type: 'assistant' }, spans: 0 },
  { name: 'rag_query', llm: 'rag_query-llm', weight: 30, metadata: { agent_type: 'retriever' }, spans: 1 },
  { name: 'summarize', llm: 'summarize-llm', weight: 17, metadata: { agent_type: 'writer' }, spans: 0 },
  { name: 'security_audit', llm: 'security_audit-llm', weight: 8, metadata: { agent_type: 'auditor' }, spans: 1 },
] as const;

const TEAM_TAGS = { a: ['team-a'], b: ['team-b'] } as const;

const MODELS = [
  { model: 'gpt-4o', weight: 45 },
  { model: 'gpt-4o-mini', weight: 15 },
  { model: 'claude-sonnet-4-5-20250929', weight: 40 },
] as const;

const USERS = Array.from({ length: 20 }, (_, i) => `user-${String(i + 1).padStart(2, '0')}`);
const HEAVY_USER = 'user-07';

// Relative traffic per UTC hour: quiet nights, busy working hours.
const HOUR_PROFILE = [2, 1, 1, 1, 1, 2, 4, 7, 10, 12, 12, 11, 10, 11, 12, 12, 11, 9, 7, 6, 5, 4, 3, 2];
const TRACES_PER_DAY = 250;

type Random = () => number;

// mulberry32: small, fast and the same on every platform.
export function seededRandom(seed: number): Random {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

function weighted<T extends { weight: number }>(random: Random, options: readonly T[]): T {
  const total = options.reduce((sum, o) => sum + o.weight, 0);
  let roll = random() * total;
  for (const option of options) {
    roll -= option.weight;
    if (roll < 0) return option;
  }
  return options[options.length - 1] as T;
}

const logUniform = (random: Random, min: number, max: number): number =>
  Math.round(Math.exp(Math.log(min) + random() * (Math.log(max) - Math.log(min))));

interface TraceFields {
  readonly traceId: string;
  readonly traceTimestamp: string;
  readonly traceName: string;
  readonly userId: string;
  readonly sessionId: string;
  readonly environment: string;
  readonly tags: readonly string[];
  readonly release: string;
  readonly traceMetadata: Readonly<Record<string, string>>;
}

// One literal with every field in one order: V8 keeps the thousands of objects on one fast shape.
function observation(
  trace: TraceFields,
  id: string,
  name: string,
  startTime: string,
  usage: { model: string; input: number; output: number } | null,
): DemoObservation {
  const [inputPrice, outputPrice] = (usage && PRICES[usage.model]) ?? [0, 0];
  const inputCost = usage ? usage.input * inputPrice : null;
  const outputCost = usage ? usage.output * outputPrice : null;
  return {
    id,
    traceId: trace.traceId,
    type: usage ? 'GENERATION' : 'SPAN',
    name,
    startTime,
    traceTimestamp: trace.traceTimestamp,
    traceName: trace.traceName,
    userId: trace.userId,
    sessionId: trace.sessionId,
    environment: trace.environment,
    tags: trace.tags,
    release: trace.release,
    traceMetadata: trace.traceMetadata,
    providedModelName: usage ? usage.model : null,
    inputTokens: usage?.input,
    outputTokens: usage?.output,
    inputCost,
    outputCost,
    totalCost: inputCost === null || outputCost === null ? null : inputCost + outputCost,
  };
}

interface TraceSpec {
  time: number;
  kind: (typeof TRACE_KINDS)[number];
  userId: string;
  environment: string;
  tags: readonly string[];
  traffic: Traffic;
  generations: number;
}

interface Traffic {
  model(random: Random): string;
  /** log-uniform ranges */
  readonly input: readonly [number, number];
  readonly output: readonly [number, number];
}

const NORMAL_TRAFFIC: Traffic = {
  model: (random) => weighted(random, MODELS).model,
  input: [8_000, 120_000],
  output: [800, 8_000],
};

const RUNAWAY_TRAFFIC: Traffic = {
  model: (random) => (random() < 0.9 ? 'claude-sonnet-4-5-20250929' : 'gpt-4o-mini'),
  input: [40_000, 90_000],
  output: [2_000, 6_000],
};

export function sampleObservations(now: Date): DemoObservation[] {
  const end = now.getTime();
  const start = end - SAMPLE_DAYS * DAY;
  const random = seededRandom(20_261_125);
  const observations: DemoObservation[] = [];
  let traceCount = 0;
  const sessions = new Map<string, string>();
  const session = (userId: string, day: number): string => {
    const key = `${userId}/${day}`;
    let id = sessions.get(key);
    if (id === undefined) {
      id = `sess-${userId}-${day}`;
      sessions.set(key, id);
    }
    return id;
  };

  const addTrace = (spec: TraceSpec): void => {
    traceCount += 1;
    const trace: TraceFields = {
      traceId: `tr-${String(traceCount).padStart(5, '0')}`,
      traceTimestamp: new Date(spec.time).toISOString(),
      traceName: spec.kind.name,
      userId: spec.userId,
      sessionId: session(spec.userId, Math.floor((spec.time - start) / DAY)),
      environment: spec.environment,
      tags: spec.tags,
      release: spec.time < end - 5 * DAY ? '1.4.0' : '1.5.0',
      traceMetadata: spec.kind.metadata,
    };
    let offset = 0;
    const step = (): string => {
      offset += 200 + Math.floor(random() * 4000);
      return new Date(Math.min(spec.time + offset, end)).toISOString();
    };
    for (let s = 0; s < spec.kind.spans; s++) {
      observations.push(observation(trace, `${trace.traceId}-span-${s}`, 'retrieve-docs', step(), null));
    }
    for (let g = 0; g < spec.generations; g++) {
      const usage = {
        model: spec.traffic.model(random),
        input: logUniform(random, ...spec.traffic.input),
        output: logUniform(random, ...spec.traffic.output),
      };
      observations.push(observation(trace, `${trace.traceId}-gen-${g}`, spec.kind.llm, step(), usage));
    }
  };

  const dayFactors = Array.from({ length: SAMPLE_DAYS + 1 }, () => 0.8 + random() * 0.4);
  for (let hourStart = Math.floor(start / HOUR) * HOUR; hourStart < end; hourStart += HOUR) {
    const dayIndex = Math.floor((hourStart - start) / DAY);
    const expected =
      (TRACES_PER_DAY * (dayFactors[dayIndex] ?? 1) * (HOUR_PROFILE[new Date(hourStart).getUTCHours()] ?? 1)) /
      HOUR_PROFILE.reduce((a, b) => a + b, 0);
    const count = Math.floor(expected + random());
    for (let i = 0; i < count; i++) {
      const time = hourStart + Math.floor(random() * HOUR);
      const kind = weighted(random, TRACE_KINDS);
      const userId = random() < 0.25 ? HEAVY_USER : (USERS[Math.floor(random() * USERS.length)] as string);
      const environment = random() < 0.2 ? 'staging' : 'production';
      const tags = random() < 0.55 ? TEAM_TAGS.a : TEAM_TAGS.b;
      const generations = 1 + Math.floor(random() * 3);
      // drawn before skipping, so that every trace's draws stay the same wherever the window cuts
      if (time < start || time >= end) continue;
      addTrace({
        time,
        kind,
        userId,
        environment,
        tags,
        generations,
        traffic: NORMAL_TRAFFIC,
      });
    }
  }

  // The runaway agent: an auditor looping on Claude with huge contexts, kept inside today (UTC) so
  // that the day's budget breaks too, however early in the day the demo runs.
  const spikeStart = Math.max(end - SPIKE_HOURS * HOUR, Math.floor(end / DAY) * DAY);
  const spikeTraces = 110;
  const auditor = TRACE_KINDS[3];
  for (let i = 0; i < spikeTraces; i++) {
    addTrace({
      time: spikeStart + Math.floor(((i + random()) / spikeTraces) * 0.95 * (end - spikeStart)),
      kind: auditor,
      userId: HEAVY_USER,
      environment: 'production',
      tags: TEAM_TAGS.b,
      generations: 4,
      traffic: RUNAWAY_TRAFFIC,
    });
  }

  // One runaway trace: a single audit agent looping on Claude with ever-growing context, ~$15
  // in one trace, far above any other (under $2). Kept inside today (UTC) and before `now`, so
  // the demo's perTrace alert names it at any time of day. No random draws: the rest of the
  // sample stays as it was.
  const loopStart = Math.max(end - LOOP_MINUTES * 60_000, Math.floor(end / DAY) * DAY);
  traceCount += 1;
  const loop: TraceFields = {
    traceId: `tr-${String(traceCount).padStart(5, '0')}-loop`,
    traceTimestamp: new Date(loopStart).toISOString(),
    traceName: auditor.name,
    userId: HEAVY_USER,
    sessionId: session(HEAVY_USER, Math.floor((loopStart - start) / DAY)),
    environment: 'production',
    tags: TEAM_TAGS.b,
    release: '1.5.0',
    traceMetadata: auditor.metadata,
  };
  for (let g = 0; g < LOOP_GENERATIONS; g++) {
    const time = loopStart + Math.floor(((g + 0.5) / LOOP_GENERATIONS) * 0.9 * (end - loopStart));
    const usage = { model: 'claude-sonnet-4-5-20250929', input: 80_000 + 1_000 * g, output: 5_000 };
    observations.push(observation(loop, `${loop.traceId}-gen-${g}`, auditor.llm, new Date(time).toISOString(), usage));
  }

  return observations;
}
