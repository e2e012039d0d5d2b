import type { DemoObservation } from '../../src/demo/server.js';

/** One observation as the fake serves it: the demo server's, plus an artefact of real Langfuse data. */
export interface FakeObservation extends DemoObservation {
  /**
   * The v2 backfill artefact: Langfuse copied traces that were more than 7 days old into its v2
   * tables without their trace fields, so v2 sees traceName, userId, sessionId and release as null
   * and tags as [] for this observation (and its trace's root row). v1 is unaffected.
   */
  readonly v2LostTraceFields?: boolean;
}

export interface StoredObservation {
  readonly observation: FakeObservation;
  readonly time: number;
  readonly trace: StoredTrace;
}

export class StoredTrace {
  readonly observations: StoredObservation[] = [];
  private readonly explicitTime: number | undefined;
  private earliestStart = Number.POSITIVE_INFINITY;

  /** `first` is the observation whose copy of the trace fields counts */
  constructor(readonly first: FakeObservation) {
    this.explicitTime =
      first.traceTimestamp === undefined
        ? undefined
        : parseTime(first.traceTimestamp, `observation ${first.id} traceTimestamp`);
  }

  get id(): string {
    return this.first.traceId;
  }

  get time(): number {
    return this.explicitTime ?? this.earliestStart;
  }

  add(entry: StoredObservation): void {
    this.observations.push(entry);
    this.earliestStart = Math.min(this.earliestStart, entry.time);
  }
}

export class ObservationStore {
  private entries: StoredObservation[] = [];
  private readonly traceIndex = new Map<string, StoredTrace>();

  constructor(observations: readonly FakeObservation[]) {
    this.add(observations);
  }

  get observations(): readonly StoredObservation[] {
    return this.entries;
  }

  get traces(): Iterable<StoredTrace> {
    return this.traceIndex.values();
  }

  replace(observations: readonly FakeObservation[]): void {
    this.entries = [];
    this.traceIndex.clear();
    this.add(observations);
  }

  add(observations: readonly FakeObservation[]): void {
    for (const observation of observations) {
      const time = parseTime(observation.startTime, `observation ${observation.id} startTime`);
      let trace = this.traceIndex.get(observation.traceId);
      if (!trace) {
        trace = new StoredTrace(observation);
        this.traceIndex.set(observation.traceId, trace);
      }
      const entry: StoredObservation = { observation, time, trace };
      trace.add(entry);
      this.entries.push(entry);
    }
  }
}

function parseTime(iso: string, what: string): number {
  const ms = Date.parse(iso);
  if (Number.isNaN(ms)) throw new TypeError(`fake-langfuse: ${what} is not a date: ${iso}`);
  return ms;
}
