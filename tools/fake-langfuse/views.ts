// How each public view sees the stored observations: which rows it has, and what every dimension
// and (implemented) measure is for one row. Mirrors the SQL of Langfuse's view declarations: v2
// reads the denormalised events table, v1 the observations and traces tables joined on demand.
import { own, type ApiVersion } from './contract.js';
import type { FakeObservation, ObservationStore, StoredObservation, StoredTrace } from './store.js';

export type DimValue = string | number | boolean | null | readonly string[];

export interface Row {
  readonly time: number;
  /** null: a v2 trace root row, or a v1 trace */
  readonly observation: FakeObservation | null;
  readonly trace: StoredTrace;
  /** v1 traces view, when a measure joins observations: the trace's observations in the window */
  readonly windowObservations?: readonly StoredObservation[];
}

export interface Measure {
  value(row: Row): number | string | null;
  /** sum over no non-null values: null for a Nullable ClickHouse column, else 0 */
  readonly nullable: boolean;
  /** v1 traces view: computed over the trace's observations (an INNER JOIN, window-restricted) */
  readonly joinsObservations?: true;
}

export interface RowScope {
  readonly from: number;
  readonly to: number;
  /** v1: a trace field is used, so Langfuse joins traces and keeps only traces inside the window */
  readonly joinsTraces: boolean;
  readonly joinsObservations: boolean;
}

export interface ViewImpl {
  rows(store: ObservationStore, scope: RowScope): Row[];
  dimension(name: string): ((row: Row) => DimValue) | undefined;
  readonly measures: Readonly<Record<string, Measure>>;
  /** the key → value pairs a `pairExpand` dimension (costType, usageType) explodes a row into */
  pairs(name: string): ((row: Row) => Array<[string, number]>) | undefined;
  metadata(row: Row): Readonly<Record<string, string>>;
  /** v1 observations: dimensions that come from the joined traces table */
  readonly traceDimensions: ReadonlySet<string>;
}

const nullIfEmpty = (value: string | null | undefined): string | null => (value ? value : null);
const sortedTags = (o: FakeObservation): readonly string[] => [...o.tags].sort();
const month = (ms: number): string => new Date(ms).toISOString().slice(0, 7);
const constant =
  <T extends DimValue>(value: T) =>
  (): T =>
    value;

const totalTokens = (o: FakeObservation): number | null =>
  o.totalTokens ??
  (o.inputTokens === undefined && o.outputTokens === undefined ? null : (o.inputTokens ?? 0) + (o.outputTokens ?? 0));

const costPairs = (o: FakeObservation | null): Array<[string, number]> => {
  if (!o) return [];
  const pairs: Array<[string, number | null]> = [
    ['input', o.inputCost],
    ['output', o.outputCost],
    ['total', o.totalCost],
  ];
  return pairs.filter((p): p is [string, number] => p[1] !== null);
};

const usagePairs = (o: FakeObservation | null): Array<[string, number]> => {
  if (!o) return [];
  const pairs: Array<[string, number | null | undefined]> = [
    ['input', o.inputTokens],
    ['output', o.outputTokens],
    ['total', totalTokens(o)],
  ];
  return pairs.filter((p): p is [string, number] => p[1] !== null && p[1] !== undefined);
};

const inWindow = (time: number, scope: RowScope): boolean => time >= scope.from && time <= scope.to;

const source = (row: Row): FakeObservation => row.observation ?? row.trace.first;
const lost = (row: Row): boolean => source(row).v2LostTraceFields === true;
const v2TraceField =
  (pick: (o: FakeObservation) => string | null) =>
  (row: Row): string | null =>
    lost(row) ? null : nullIfEmpty(pick(source(row)));

const v2TraceName = v2TraceField((o) => o.traceName);
const v2UserId = v2TraceField((o) => o.userId);
const v2SessionId = v2TraceField((o) => o.sessionId);
const v2Release = v2TraceField((o) => o.release);

const v2Dimensions: Record<string, (row: Row) => DimValue> = {
  id: (r) => (r.observation ? r.observation.id : `t-${r.trace.id}`),
  traceId: (r) => r.trace.id,
  environment: (r) => nullIfEmpty(source(r).environment),
  parentObservationId: (r) => (r.observation ? `t-${r.trace.id}` : null),
  isRootObservation: (r) => r.observation === null,
  type: (r) => r.observation?.type ?? 'SPAN',
  name: (r) => (r.observation ? nullIfEmpty(r.observation.name) : v2TraceName(r)),
  level: constant('DEFAULT'),
  version: constant(null),
  userId: v2UserId,
  sessionId: v2SessionId,
  tags: (r) => (lost(r) ? [] : sortedTags(source(r))),
  release: v2Release,
  traceName: v2TraceName,
  traceRelease: v2Release,
  traceVersion: constant(null),
  providedModelName: (r) => nullIfEmpty(r.observation?.providedModelName),
  promptName: constant(null),
  promptVersion: constant(null),
  startTimeMonth: (r) => month(r.time),
  toolNames: constant([]),
  calledToolNames: constant([]),
  experimentName: constant(null),
  experimentDatasetId: constant(null),
  experimentId: constant(null),
};

const v2Observations: ViewImpl = {
  // Langfuse v4 writes every trace as a zero-cost root SPAN row of its own, timed at the trace.
  rows(store, scope) {
    const rows: Row[] = [];
    for (const entry of store.observations) {
      if (inWindow(entry.time, scope)) rows.push({ time: entry.time, observation: entry.observation, trace: entry.trace });
    }
    for (const trace of store.traces) {
      if (inWindow(trace.time, scope)) rows.push({ time: trace.time, observation: null, trace });
    }
    return rows;
  },
  dimension: (name) => own(v2Dimensions, name),
  measures: {
    count: { value: () => 1, nullable: false },
    traceId: { value: (r) => r.trace.id, nullable: true },
    uniqueUserIds: { value: v2UserId, nullable: true },
    uniqueSessionIds: { value: v2SessionId, nullable: true },
    inputTokens: { value: (r) => r.observation?.inputTokens ?? 0, nullable: false },
    outputTokens: { value: (r) => r.observation?.outputTokens ?? 0, nullable: false },
    totalTokens: { value: (r) => (r.observation ? (totalTokens(r.observation) ?? 0) : 0), nullable: false },
    inputCost: { value: (r) => r.observation?.inputCost ?? 0, nullable: false },
    outputCost: { value: (r) => r.observation?.outputCost ?? 0, nullable: false },
    totalCost: { value: (r) => r.observation?.totalCost ?? 0, nullable: true },
  },
  pairs: (name) =>
    name === 'costType' ? (r) => costPairs(r.observation) : name === 'usageType' ? (r) => usagePairs(r.observation) : undefined,
  metadata: (r) => (lost(r) ? {} : source(r).traceMetadata),
  traceDimensions: new Set(),
};

const TRACE_DIMENSIONS_V1 = new Set(['traceName', 'tags', 'userId', 'sessionId', 'traceRelease', 'traceVersion']);

const observationOf = (row: Row): FakeObservation => {
  if (!row.observation) throw new Error('fake-langfuse: v1 observations row without an observation');
  return row.observation;
};

const v1ObservationDimensions: Record<string, (row: Row) => DimValue> = {
  id: (r) => observationOf(r).id,
  traceId: (r) => r.trace.id,
  traceName: (r) => nullIfEmpty(r.trace.first.traceName),
  environment: (r) => observationOf(r).environment,
  parentObservationId: constant(null),
  type: (r) => observationOf(r).type,
  name: (r) => nullIfEmpty(observationOf(r).name),
  level: constant('DEFAULT'),
  version: constant(null),
  tags: (r) => sortedTags(r.trace.first),
  providedModelName: (r) => nullIfEmpty(observationOf(r).providedModelName),
  promptName: constant(null),
  promptVersion: constant(null),
  userId: (r) => nullIfEmpty(r.trace.first.userId),
  sessionId: (r) => nullIfEmpty(r.trace.first.sessionId),
  traceRelease: (r) => nullIfEmpty(r.trace.first.release),
  traceVersion: constant(null),
  startTimeMonth: (r) => month(r.time),
  toolNames: constant([]),
  calledToolNames: constant([]),
};

const v1Observations: ViewImpl = {
  // Trace fields come from an INNER JOIN with the traces table, restricted to the same window.
  rows(store, scope) {
    const rows: Row[] = [];
    for (const entry of store.observations) {
      if (!inWindow(entry.time, scope)) continue;
      if (scope.joinsTraces && !inWindow(entry.trace.time, scope)) continue;
      rows.push({ time: entry.time, observation: entry.observation, trace: entry.trace });
    }
    return rows;
  },
  dimension: (name) => own(v1ObservationDimensions, name),
  measures: {
    count: { value: () => 1, nullable: false },
    inputTokens: { value: (r) => observationOf(r).inputTokens ?? 0, nullable: false },
    outputTokens: { value: (r) => observationOf(r).outputTokens ?? 0, nullable: false },
    totalTokens: { value: (r) => totalTokens(observationOf(r)) ?? 0, nullable: false },
    inputCost: { value: (r) => observationOf(r).inputCost ?? 0, nullable: false },
    outputCost: { value: (r) => observationOf(r).outputCost ?? 0, nullable: false },
    totalCost: { value: (r) => observationOf(r).totalCost, nullable: true },
  },
  pairs: () => undefined,
  metadata: (r) => observationOf(r).observationMetadata ?? {},
  traceDimensions: TRACE_DIMENSIONS_V1,
};

const v1TraceDimensions: Record<string, (row: Row) => DimValue> = {
  id: (r) => r.trace.id,
  name: (r) => nullIfEmpty(r.trace.first.traceName),
  tags: (r) => sortedTags(r.trace.first),
  userId: (r) => nullIfEmpty(r.trace.first.userId),
  sessionId: (r) => nullIfEmpty(r.trace.first.sessionId),
  release: (r) => nullIfEmpty(r.trace.first.release),
  version: constant(null),
  environment: (r) => r.trace.first.environment,
  timestampMonth: (r) => month(r.time),
};

const joined = (r: Row): readonly StoredObservation[] => r.windowObservations ?? [];

const v1Traces: ViewImpl = {
  // Observation measures INNER JOIN the observations inside the window: a trace without any drops out.
  rows(store, scope) {
    const rows: Row[] = [];
    for (const trace of store.traces) {
      if (!inWindow(trace.time, scope)) continue;
      if (!scope.joinsObservations) {
        rows.push({ time: trace.time, observation: null, trace });
        continue;
      }
      const windowObservations = trace.observations.filter((o) => inWindow(o.time, scope));
      if (windowObservations.length > 0) rows.push({ time: trace.time, observation: null, trace, windowObservations });
    }
    return rows;
  },
  dimension: (name) => own(v1TraceDimensions, name),
  measures: {
    count: { value: (r) => (r.windowObservations ? r.windowObservations.length : 1), nullable: false },
    observationsCount: { value: (r) => joined(r).length, nullable: false, joinsObservations: true },
    uniqueUserIds: { value: (r) => (r.trace.first.userId ? 1 : 0), nullable: false },
    uniqueSessionIds: { value: (r) => (r.trace.first.sessionId ? 1 : 0), nullable: false },
    totalTokens: {
      value: (r) => joined(r).reduce((sum, o) => sum + (totalTokens(o.observation) ?? 0), 0),
      nullable: false,
      joinsObservations: true,
    },
    totalCost: {
      value: (r) => {
        const costs = joined(r)
          .map((o) => o.observation.totalCost)
          .filter((c): c is number => c !== null);
        return costs.length === 0 ? null : costs.reduce((a, b) => a + b, 0);
      },
      nullable: true,
      joinsObservations: true,
    },
  },
  pairs: () => undefined,
  metadata: (r) => r.trace.first.traceMetadata,
  traceDimensions: new Set(),
};

// The fake holds no scores: score views answer, with no rows.
const scores: ViewImpl = {
  rows: () => [],
  dimension: () => constant(null),
  measures: { count: { value: () => 1, nullable: false }, value: { value: () => null, nullable: true } },
  pairs: () => undefined,
  metadata: () => ({}),
  traceDimensions: new Set(),
};

export const VIEW_IMPLS: Readonly<Record<ApiVersion, Readonly<Record<string, ViewImpl>>>> = {
  v1: {
    traces: v1Traces,
    observations: v1Observations,
    'scores-numeric': scores,
    'scores-categorical': scores,
    'scores-boolean': scores,
  },
  v2: {
    observations: v2Observations,
    'scores-numeric': scores,
    'scores-categorical': scores,
    'scores-boolean': scores,
  },
};
