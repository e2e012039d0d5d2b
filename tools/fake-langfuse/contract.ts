// The public metrics contract of Langfuse v4.16 (commit 62751446149b): the allow-lists of
// packages/shared/src/features/query/dataModel.ts as the public v1 and v2 metrics endpoints see them.
// Key order matters: Langfuse prints these lists in error messages.

export type ApiVersion = 'v1' | 'v2';

export type DimensionType = 'string' | 'string[]' | 'arrayString' | 'boolean' | 'number';
export type MeasureType = 'integer' | 'decimal' | 'number' | 'string';

export interface DimensionDecl {
  readonly type: DimensionType;
  readonly highCardinality?: true;
}

export interface ViewDecl {
  readonly timeColumn: string;
  readonly dimensions: Readonly<Record<string, DimensionDecl>>;
  readonly measures: Readonly<Record<string, MeasureType>>;
}

export const AGGREGATIONS = [
  'sum',
  'avg',
  'count',
  'max',
  'min',
  'p50',
  'p75',
  'p90',
  'p95',
  'p99',
  'histogram',
  'uniq',
] as const;
export type Aggregation = (typeof AGGREGATIONS)[number];

export const GRANULARITIES = ['auto', 'minute', 'hour', 'day', 'week', 'month'] as const;

export const FILTER_OPERATORS = {
  datetime: ['>', '<', '>=', '<='],
  string: ['=', 'contains', 'does not contain', 'starts with', 'ends with'],
  stringOptions: ['any of', 'none of'],
  categoryOptions: ['any of', 'none of'],
  arrayOptions: ['any of', 'none of', 'all of'],
  number: ['=', '>', '<', '>=', '<='],
  stringObject: ['=', 'contains', 'does not contain', 'starts with', 'ends with'],
  numberObject: ['=', '>', '<', '>=', '<='],
  booleanObject: ['=', '<>'],
  boolean: ['=', '<>'],
  null: ['is null', 'is not null'],
  positionInTrace: ['='],
} as const;

export const VIEWS: Readonly<Record<ApiVersion, readonly string[]>> = {
  v1: ['traces', 'observations', 'scores-numeric', 'scores-categorical', 'scores-boolean'],
  v2: ['observations', 'scores-numeric', 'scores-categorical', 'scores-boolean'],
};

const S: DimensionDecl = { type: 'string' };
const S_HC: DimensionDecl = { type: 'string', highCardinality: true };
const TAGS: DimensionDecl = { type: 'string[]' };
const ARR: DimensionDecl = { type: 'arrayString' };
const BOOL: DimensionDecl = { type: 'boolean' };
const NUM: DimensionDecl = { type: 'number' };

const scoreDimensionsV1 = {
  traceName: S, tags: TAGS, userId: S, sessionId: S, traceRelease: S, traceVersion: S,
  observationName: S, observationModelName: S, observationPromptName: S, observationPromptVersion: S,
  id: S, environment: S, name: S, evaluatorId: S_HC, source: S, dataType: S, traceId: S, configId: S,
  timestampMonth: S, timestampDay: S, observationId: S,
};

const scoreDimensionsV2 = {
  sessionId: S_HC, datasetRunId: S_HC, traceName: S, userId: S_HC, tags: TAGS, traceRelease: S,
  traceVersion: S, observationName: S, observationModelName: S, observationPromptName: S,
  observationPromptVersion: S, experimentName: S_HC, experimentId: S_HC, id: S_HC, environment: S,
  name: S, evaluatorId: S_HC, source: S, dataType: S, traceId: S_HC, configId: S, timestampMonth: S,
  timestampDay: S, observationId: S_HC,
};

const scoreViews = (base: Record<string, DimensionDecl>): Record<string, ViewDecl> => ({
  'scores-numeric': {
    timeColumn: 'timestamp',
    dimensions: { ...base, value: NUM },
    measures: { count: 'integer', value: 'number' },
  },
  'scores-categorical': {
    timeColumn: 'timestamp',
    dimensions: { ...base, stringValue: S },
    measures: { count: 'integer' },
  },
  'scores-boolean': {
    timeColumn: 'timestamp',
    dimensions: { ...base, booleanValue: BOOL },
    measures: { count: 'integer', value: 'number' },
  },
});

export const VIEW_DECLARATIONS: Readonly<Record<ApiVersion, Readonly<Record<string, ViewDecl>>>> = {
  v1: {
    traces: {
      timeColumn: 'timestamp',
      dimensions: {
        id: S, name: S, tags: TAGS, userId: S, sessionId: S, release: S, version: S, environment: S,
        timestampMonth: S,
      },
      measures: {
        count: 'integer', observationsCount: 'integer', scoresCount: 'integer', uniqueUserIds: 'integer',
        uniqueSessionIds: 'integer', latency: 'integer', totalTokens: 'integer', totalCost: 'decimal',
      },
    },
    observations: {
      timeColumn: 'start_time',
      dimensions: {
        id: S, traceId: S, traceName: S, environment: S, parentObservationId: S, type: S, name: S,
        level: S, version: S, tags: TAGS, providedModelName: S, promptName: S, promptVersion: S,
        userId: S, sessionId: S, traceRelease: S, traceVersion: S, startTimeMonth: S, toolNames: ARR,
        calledToolNames: ARR,
      },
      measures: {
        count: 'integer', latency: 'integer', streamingLatency: 'integer', inputTokens: 'integer',
        outputTokens: 'integer', totalTokens: 'integer', outputTokensPerSecond: 'decimal',
        tokensPerSecond: 'decimal', inputCost: 'decimal', outputCost: 'decimal', totalCost: 'decimal',
        timeToFirstToken: 'integer', countScores: 'integer', toolDefinitions: 'integer',
        toolCalls: 'integer',
      },
    },
    ...scoreViews(scoreDimensionsV1),
  },
  v2: {
    observations: {
      timeColumn: 'start_time',
      dimensions: {
        id: S_HC, traceId: S_HC, environment: S, parentObservationId: S_HC, isRootObservation: BOOL,
        type: S, name: S, level: S, version: S, userId: S_HC, sessionId: S_HC, tags: TAGS, release: S,
        traceName: S, traceRelease: S, traceVersion: S, providedModelName: S, promptName: S,
        promptVersion: S, startTimeMonth: S, toolNames: ARR, calledToolNames: ARR, costType: S,
        usageType: S, experimentName: S_HC, experimentDatasetId: S_HC, experimentId: S_HC,
      },
      measures: {
        count: 'integer', traceId: 'string', uniqueUserIds: 'string', uniqueSessionIds: 'string',
        latency: 'integer', streamingLatency: 'integer', inputTokens: 'integer', outputTokens: 'integer',
        totalTokens: 'integer', outputTokensPerSecond: 'decimal', tokensPerSecond: 'decimal',
        inputCost: 'decimal', outputCost: 'decimal', totalCost: 'decimal', timeToFirstToken: 'integer',
        countScores: 'integer', toolDefinitions: 'integer', toolCalls: 'integer', costByType: 'decimal',
        usageByType: 'integer',
      },
    },
    ...scoreViews(scoreDimensionsV2),
  },
};

// Measures that only exist as the value half of a `pairExpand` dimension: Langfuse adds the
// dimension to the query when it is missing.
export const PAIR_MEASURES: Readonly<Record<string, string>> = {
  costByType: 'costType',
  usageByType: 'usageType',
};

/** a record's own entry: names come from requests, and `constructor` is not a dimension */
export function own<T>(record: Readonly<Record<string, T>>, key: string): T | undefined {
  return Object.hasOwn(record, key) ? record[key] : undefined;
}

export const DEFAULT_V2_ROW_LIMIT = 100;
export const LANGFUSE_VERSION = '4.16.0';
