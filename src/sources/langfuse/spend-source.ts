// Translates the core's SpendQuery into Langfuse metrics queries, and rows back into numbers (the
// planner's building blocks; test/support/langfuse-spend-source.ts sends one request per query with them).
import type { AlertFilters, GroupByField } from '../../config/schema.js';
import { pairKey, type QueryShape, type RankedField, type SpendQuery, type SpendReading, type TokenUsage } from '../../core/query.js';
import { LangfuseError, type MetricsApiVersion, type MetricsQuery, type MetricsRow } from './client.js';

export const COST_COLUMN = 'sum_totalCost';
/** v2 silently keeps only 100 rows unless asked for more. */
const ROW_LIMIT = 1000;

export function dimensionFor(groupBy: RankedField, version: MetricsApiVersion): string {
  switch (groupBy) {
    case 'model':
      return 'providedModelName';
    case 'release':
      return version === 'v2' ? 'release' : 'traceRelease';
    default:
      return groupBy;
  }
}

const FILTER_COLUMNS = {
  environment: 'environment',
  traceName: 'traceName',
  model: 'providedModelName',
  userId: 'userId',
  release: 'release',
} as const satisfies Partial<Record<keyof AlertFilters, string>>;

export function langfuseFilters(filters: AlertFilters, version: MetricsApiVersion): Record<string, unknown>[] {
  const result: Record<string, unknown>[] = [];
  for (const [key, column] of Object.entries(FILTER_COLUMNS) as Array<[keyof typeof FILTER_COLUMNS, string]>) {
    const value = filters[key];
    if (value === undefined) continue;
    result.push({
      column: key === 'release' && version === 'v1' ? 'traceRelease' : column,
      type: 'stringOptions',
      operator: 'any of',
      value: typeof value === 'string' ? [value] : value,
    });
  }
  if (filters.tags) result.push({ column: 'tags', type: 'arrayOptions', operator: 'any of', value: filters.tags });
  for (const [key, value] of Object.entries(filters.metadata ?? {})) {
    result.push({ column: 'metadata', type: 'stringObject', key, operator: '=', value });
  }
  return result;
}

export function costQuery(query: SpendQuery, version: MetricsApiVersion): MetricsQuery {
  const base = {
    view: 'observations' as const,
    metrics: [{ measure: 'totalCost', aggregation: 'sum' }],
    filters: langfuseFilters(query.filters, version),
    fromTimestamp: query.from.toISOString(),
    // Langfuse includes both ends; our ranges exclude their end so adjacent windows never share a row.
    toTimestamp: new Date(query.to.getTime() - 1).toISOString(),
  };
  const { shape } = query;
  if (shape.kind === 'total') return { ...base, dimensions: [] };
  if (shape.kind === 'pairs') {
    // one row per combination of the two values
    return { ...base, dimensions: [{ field: dimensionFor(shape.within, version) }, { field: dimensionFor(shape.by, version) }], config: { row_limit: ROW_LIMIT } };
  }
  const dimensions = [{ field: dimensionFor(shape.by, version) }];
  if (shape.kind === 'topN') {
    // the labels (a trace's name and user) come along as dimensions: one row per ranked value
    for (const [, column] of labelColumns(shape, version)) dimensions.push({ field: column });
    const metrics = shape.tokens ? [...base.metrics, ...TOKEN_MEASURES] : base.metrics;
    // v2 only groups by high-cardinality fields as a top-N.
    return { ...base, metrics, dimensions, orderBy: [{ field: COST_COLUMN, direction: 'desc' }], config: { row_limit: shape.n } };
  }
  return { ...base, dimensions, config: { row_limit: ROW_LIMIT } };
}

/** Summed input and output tokens, beside the cost: the report's models and the unpriced rule ask for them. */
export const TOKEN_MEASURES = [
  { measure: 'inputTokens', aggregation: 'sum' },
  { measure: 'outputTokens', aggregation: 'sum' },
];

/** A token sum Langfuse answered; a missing or non-numeric one (no usage recorded) is 0. */
export function parseTokens(value: unknown): number {
  const number = Number(value ?? 0);
  return Number.isFinite(number) ? number : 0;
}

export function parseCost(value: unknown): number {
  if (value === null || value === undefined) return 0;
  const number = Number(value);
  if (!Number.isFinite(number)) throw new LangfuseError(`Langfuse sent a cost that is not a number`, 'bad-response');
  return number;
}

/** A top-N's label fields with the columns Langfuse answers them in. */
function labelColumns(shape: QueryShape, version: MetricsApiVersion): Array<readonly [GroupByField, string]> {
  return shape.kind === 'topN' ? (shape.labels ?? []).map((label) => [label, dimensionFor(label, version)] as const) : [];
}

/** A row's value in a dimension column: Langfuse's null (or a missing column) is the null group. */
export function groupValue(row: MetricsRow, column: string): string | null {
  const raw = row[column];
  return raw === null || raw === undefined ? null : String(raw);
}

/** How a shape's rows are keyed into groups, in `version`'s columns: by a field's value, or by a pair's `pairKey`. */
function groupKeyOf(shape: Exclude<QueryShape, { kind: 'total' }>, version: MetricsApiVersion): (row: MetricsRow) => string | null {
  if (shape.kind === 'pairs') {
    const within = dimensionFor(shape.within, version);
    const by = dimensionFor(shape.by, version);
    return (row) => pairKey(groupValue(row, within), groupValue(row, by));
  }
  const column = dimensionFor(shape.by, version);
  return (row) => groupValue(row, column);
}

/** The reading of the rows Langfuse answered `costQuery` with; a top-N's groups keep the first non-null value of each label. */
export function readingFromRows(rows: readonly MetricsRow[], shape: QueryShape, version: MetricsApiVersion): SpendReading {
  if (shape.kind === 'total') {
    return { total: rows.reduce((sum, row) => sum + parseCost(row[COST_COLUMN]), 0), byGroup: null };
  }
  const keyOf = groupKeyOf(shape, version);
  const labels = labelColumns(shape, version);
  const byGroup = new Map<string | null, number>();
  const labelled = new Map<string | null, Record<string, string | null>>();
  const tokens = new Map<string | null, TokenUsage>();
  const withTokens = shape.kind === 'topN' && shape.tokens === true;
  let total = 0;
  for (const row of rows) {
    const key = keyOf(row);
    const cost = parseCost(row[COST_COLUMN]);
    byGroup.set(key, (byGroup.get(key) ?? 0) + cost);
    total += cost;
    if (withTokens) {
      const before = tokens.get(key) ?? { input: 0, output: 0, total: 0 };
      const input = before.input + parseTokens(row['sum_inputTokens']);
      const output = before.output + parseTokens(row['sum_outputTokens']);
      tokens.set(key, { input, output, total: input + output });
    }
    if (labels.length === 0) continue;
    const values = labelled.get(key) ?? {};
    for (const [label, column] of labels) values[label] ??= groupValue(row, column);
    labelled.set(key, values);
  }
  return { total, byGroup, ...(labels.length === 0 ? {} : { labels: labelled }), ...(withTokens ? { tokens } : {}) };
}
