// The metrics query engine: Langfuse's validation (same order, same messages) and then the query its
// QueryBuilder would send to ClickHouse, evaluated in memory with ClickHouse's semantics.
import {
  AGGREGATIONS,
  DEFAULT_V2_ROW_LIMIT,
  PAIR_MEASURES,
  VIEW_DECLARATIONS,
  own,
  type Aggregation,
  type ApiVersion,
  type DimensionType,
  type MeasureType,
  type ViewDecl,
} from './contract.js';
import { parseMetricsQuery, type MetricsFilter, type MetricsQuery } from './schema.js';
import type { ObservationStore } from './store.js';
import { bucketLabel, bucketStart, nextBucket, pickGranularity, type Bucketing } from './time.js';
import { VIEW_IMPLS, type DimValue, type Measure, type Row, type ViewImpl } from './views.js';

export interface QueryAnswer {
  readonly status: number;
  readonly body: unknown;
}

export interface QueryOptions {
  /** send 64-bit integers as strings, like ClickHouse before 25.8 */
  readonly stringIntegers: boolean;
}

class AnswerError extends Error {
  constructor(readonly answer: QueryAnswer) {
    super(JSON.stringify(answer.body));
  }
}

const invalidRequest = (message: string): AnswerError =>
  new AnswerError({ status: 400, body: { message, error: 'InvalidRequestError' } });

// What Langfuse answers but this fake does not compute: said plainly instead of a wrong number.
const notImplemented = (what: string): AnswerError =>
  new AnswerError({
    status: 501,
    body: { message: `fake-langfuse does not implement ${what}`, error: 'NotImplementedError' },
  });

export function answerMetricsQuery(
  version: ApiVersion,
  rawQuery: string | string[] | undefined,
  store: ObservationStore,
  options: QueryOptions,
): QueryAnswer {
  const parsed = parseMetricsQuery(version, rawQuery);
  if (!parsed.ok) {
    return parsed.invalidJson
      ? { status: 400, body: { message: 'Invalid JSON in query parameter', error: 'InvalidRequestError' } }
      : { status: 400, body: { message: 'Invalid request data', error: parsed.issues } };
  }
  try {
    if (version === 'v2') checkHighCardinality(parsed.query);
    const plan = compile(version, parsed.query);
    return { status: 200, body: { data: execute(plan, store, options) } };
  } catch (error) {
    if (error instanceof AnswerError) return error.answer;
    throw error;
  }
}

// validateQuery.ts: v2 groups by high-cardinality fields only as an explicit top-N.
function checkHighCardinality(query: MetricsQuery): void {
  const view = VIEW_DECLARATIONS.v2[query.view] as ViewDecl;
  const fields = query.dimensions.filter((d) => own(view.dimensions, d.field)?.highCardinality).map((d) => d.field);
  if (fields.length === 0) return;
  const named = `High cardinality dimension(s) '${fields.join(', ')}'`;
  if (query.timeDimension) {
    throw invalidRequest(
      `${named} cannot be used with timeDimension. Time series queries with high cardinality dimensions produce unbounded result sets.`,
    );
  }
  const descending = (query.orderBy ?? []).filter((o) => o.direction === 'desc');
  if (query.config?.row_limit === undefined || descending.length === 0) {
    throw invalidRequest(`${named} require both 'config.row_limit' and 'orderBy' with direction 'desc' on a measure field.`);
  }
  const measures = query.metrics.map((m) => m.measure);
  const invalid = descending
    .map((o) => o.field)
    .filter((field) => !measures.some((m) => field === m || field.endsWith(`_${m}`)));
  if (invalid.length > 0) {
    throw invalidRequest(
      `${named} require 'orderBy' with direction 'desc' on a measure field. ` +
        `'${invalid.join(', ')}' ${invalid.length === 1 ? 'is' : 'are'} not a measure in this query.`,
    );
  }
}

interface PlannedMetric {
  readonly key: string;
  readonly aggregation: Aggregation;
  readonly measure: Measure | 'pair';
  readonly integer: boolean;
}

type Predicate = (row: Row) => boolean;

interface OrderKey {
  readonly field: string;
  readonly direction: 'asc' | 'desc';
}

interface Plan {
  readonly impl: ViewImpl;
  readonly dimensions: ReadonlyArray<{ readonly name: string; readonly explode: boolean }>;
  readonly pairDimension: string | null;
  /** null: no metrics asked for, Langfuse then answers `count` */
  readonly metrics: readonly PlannedMetric[] | null;
  readonly predicates: readonly Predicate[];
  readonly bucketing: Bucketing | null;
  readonly from: number;
  readonly to: number;
  readonly joinsTraces: boolean;
  readonly joinsObservations: boolean;
  readonly orderBy: readonly OrderKey[];
  readonly fill: boolean;
  readonly rowLimit: number | undefined;
}

const INTEGER_RESULT_AGGREGATIONS: ReadonlySet<Aggregation> = new Set(['sum', 'min', 'max']);

function compile(version: ApiVersion, query: MetricsQuery): Plan {
  const view = VIEW_DECLARATIONS[version][query.view] as ViewDecl;
  const impl = VIEW_IMPLS[version][query.view] as ViewImpl;

  const dimensionNames = query.dimensions.map((d) => {
    if (own(view.dimensions, d.field) === undefined) {
      throw invalidRequest(`Invalid dimension ${d.field}. Must be one of ${Object.keys(view.dimensions).join(',')}`);
    }
    return d.field;
  });

  const metrics = query.metrics.map((m) => {
    const type = own(view.measures, m.measure);
    if (type === undefined) {
      throw invalidRequest(`Invalid metric ${m.measure}. Must be one of ${Object.keys(view.measures).join(',')}`);
    }
    const valid = validAggregations(type);
    if (!valid.includes(m.aggregation)) {
      throw invalidRequest(
        `Aggregation "${m.aggregation}" is not valid for measure "${m.measure}" (type: ${type}). Valid aggregations: ${valid.join(', ')}`,
      );
    }
    return { ...m, type };
  });

  const granularity = query.timeDimension
    ? query.timeDimension.granularity === 'auto'
      ? pickGranularity(Date.parse(query.fromTimestamp), Date.parse(query.toTimestamp))
      : query.timeDimension.granularity
    : null;

  for (const m of metrics) {
    const pairDimension = own(PAIR_MEASURES, m.measure);
    if (pairDimension !== undefined && !dimensionNames.includes(pairDimension)) dimensionNames.push(pairDimension);
  }

  const predicates = compileFilters(query.filters, view, impl);

  const pairDimensions = dimensionNames.filter((name) => PAIR_DIMENSIONS.has(name));
  if (pairDimensions.length > 1) {
    throw invalidRequest(`Only one pairExpand dimension is supported per query. Found: ${pairDimensions.join(', ')}`);
  }

  const orderBy = processOrderBy(query.orderBy, dimensionNames, query.metrics, granularity !== null);

  const planned = metrics.map((m): PlannedMetric => {
    if (m.aggregation === 'histogram') throw notImplemented('the histogram aggregation');
    const measure = own(PAIR_MEASURES, m.measure) === undefined ? own(impl.measures, m.measure) : 'pair';
    if (measure === undefined) throw notImplemented(`the measure '${m.measure}'`);
    return {
      key: `${m.aggregation}_${m.measure}`,
      aggregation: m.aggregation,
      measure,
      integer:
        m.aggregation === 'count' ||
        m.aggregation === 'uniq' ||
        (m.type === 'integer' && INTEGER_RESULT_AGGREGATIONS.has(m.aggregation)),
    };
  });

  const filterColumns = query.filters.map((f) => resolveFilterDimension(f.column, view) ?? f.column);
  return {
    impl,
    dimensions: dimensionNames.map((name) => ({ name, explode: own(view.dimensions, name)?.type === 'arrayString' })),
    pairDimension: pairDimensions[0] ?? null,
    metrics: planned.length === 0 ? null : planned,
    predicates,
    bucketing: granularity,
    from: Date.parse(query.fromTimestamp),
    to: Date.parse(query.toTimestamp),
    joinsTraces: [...dimensionNames, ...filterColumns].some((name) => impl.traceDimensions.has(name)),
    joinsObservations: planned.some((m) => m.measure !== 'pair' && m.measure.joinsObservations === true),
    orderBy,
    fill: granularity !== null && (query.orderBy === null || query.orderBy.length === 0),
    rowLimit: query.config?.row_limit ?? (version === 'v2' ? DEFAULT_V2_ROW_LIMIT : undefined),
  };
}

const PAIR_DIMENSIONS: ReadonlySet<string> = new Set(Object.values(PAIR_MEASURES));

function validAggregations(type: MeasureType): readonly Aggregation[] {
  return type === 'string' ? ['count', 'uniq'] : AGGREGATIONS;
}

type FilterType = MetricsFilter['type'];

function compatibleFilterTypes(type: DimensionType): readonly FilterType[] {
  switch (type) {
    case 'string':
      return ['string', 'stringOptions'];
    case 'string[]':
    case 'arrayString':
      return ['arrayOptions'];
    case 'boolean':
      return ['boolean'];
    case 'number':
      return ['number'];
  }
}

const formatTypes = (types: readonly string[]): string =>
  types.length === 1
    ? `'${types[0]}'`
    : types.map((t) => `'${t}'`).join(types.length === 2 ? ' or ' : ', ');

// A filter column names a dimension, or (Langfuse's fallback for stale UI state) any `…Name` the `name` one.
function resolveFilterDimension(column: string, view: ViewDecl): string | undefined {
  if (own(view.dimensions, column)) return column;
  if (column.endsWith('Name') && own(view.dimensions, 'name')) return 'name';
  return undefined;
}

function compileFilters(filters: readonly MetricsFilter[], view: ViewDecl, impl: ViewImpl): Predicate[] {
  for (const filter of filters) {
    const dimension = resolveFilterDimension(filter.column, view);
    if (dimension !== undefined) {
      const type = own(view.dimensions, dimension)?.type ?? 'string';
      const compatible = compatibleFilterTypes(type);
      if (filter.type !== 'null' && !compatible.includes(filter.type)) {
        throw invalidRequest(
          `Invalid filter for field '${filter.column}': Filter type '${filter.type}' is not supported for dimension type '${type}'. ` +
            `Expected ${formatTypes(compatible)}.`,
        );
      }
    } else if (filter.column === view.timeColumn) {
      if (filter.type !== 'null' && filter.type !== 'datetime') {
        throw invalidRequest(
          `Invalid filter for field '${filter.column}': Filter type '${filter.type}' is not supported for time dimension '${view.timeColumn}'. ` +
            `Expected 'datetime'.`,
        );
      }
    } else if (filter.column === 'metadata' && filter.type !== 'stringObject') {
      throw invalidRequest(
        `Invalid filter for field 'metadata': Metadata filters require type 'stringObject' with a 'key' property, not '${filter.type}'. ` +
          `Example: {"column": "metadata", "type": "stringObject", "key": "environment", "operator": "=", "value": "production"}`,
      );
    }
  }
  return filters.map((filter) => {
    const dimension = resolveFilterDimension(filter.column, view);
    if (dimension !== undefined) {
      const read = impl.dimension(dimension);
      if (read === undefined) throw notImplemented(`filters on '${filter.column}'`);
      return dimensionPredicate(filter, read);
    }
    if (filter.column === view.timeColumn) return timePredicate(filter);
    if (filter.column === 'metadata' && filter.type === 'stringObject') {
      return (row) => matchString(filter.operator, own(impl.metadata(row), filter.key) ?? '', filter.value);
    }
    throw invalidRequest(
      `Invalid filter column ${filter.column}. Must be one of ${Object.keys(view.dimensions).join(',')} or ${view.timeColumn}`,
    );
  });
}

function matchString(operator: string, value: string, wanted: string): boolean {
  switch (operator) {
    case '=':
      return value === wanted;
    case 'contains':
      return value.includes(wanted);
    case 'does not contain':
      return !value.includes(wanted);
    case 'starts with':
      return value.startsWith(wanted);
    case 'ends with':
      return value.endsWith(wanted);
    default:
      return false;
  }
}

function compareNumbers(operator: string, value: number, wanted: number): boolean {
  switch (operator) {
    case '=':
      return value === wanted;
    case '>':
      return value > wanted;
    case '<':
      return value < wanted;
    case '>=':
      return value >= wanted;
    case '<=':
      return value <= wanted;
    default:
      return false;
  }
}

// Langfuse filters v2's nullIf(column, '') dimensions on the raw column: NULL and '' are one value.
function dimensionPredicate(filter: MetricsFilter, read: (row: Row) => DimValue): Predicate {
  const text = (row: Row): string => {
    const value = read(row);
    return typeof value === 'string' ? value : '';
  };
  const list = (row: Row): readonly string[] => {
    const value = read(row);
    return Array.isArray(value) ? value : [];
  };
  switch (filter.type) {
    case 'string':
      return (row) => {
        const value = text(row);
        return filter.operator === 'does not contain' && value === ''
          ? false
          : matchString(filter.operator, value, filter.value);
      };
    case 'stringOptions':
      return filter.operator === 'any of'
        ? (row) => filter.value.includes(text(row))
        : (row) => text(row) !== '' && !filter.value.includes(text(row));
    case 'arrayOptions':
      if (filter.operator === 'all of') return (row) => filter.value.every((v) => list(row).includes(v));
      if (filter.operator === 'any of') return (row) => filter.value.some((v) => list(row).includes(v));
      return (row) => !filter.value.some((v) => list(row).includes(v));
    case 'boolean':
      return (row) => (read(row) === filter.value) === (filter.operator === '=');
    case 'number':
      return (row) => {
        const value = read(row);
        return typeof value === 'number' && compareNumbers(filter.operator, value, filter.value);
      };
    case 'null':
      return (row) => (read(row) === null) === (filter.operator === 'is null');
    default:
      throw notImplemented(`'${filter.type}' filters on dimensions`);
  }
}

function timePredicate(filter: MetricsFilter): Predicate {
  if (filter.type === 'null') return () => filter.operator === 'is not null';
  if (filter.type !== 'datetime') throw notImplemented(`'${filter.type}' filters on the time column`);
  const wanted = filter.value.getTime();
  return (row) => compareNumbers(filter.operator, row.time, wanted);
}

const METRIC_FIELD = /^(sum|avg|count|max|min|p50|p75|p90|p95|p99|uniq)_(.+)$/;

function processOrderBy(
  orderBy: MetricsQuery['orderBy'],
  dimensions: readonly string[],
  metrics: MetricsQuery['metrics'],
  hasTime: boolean,
): OrderKey[] {
  if (orderBy === null || orderBy.length === 0) {
    if (hasTime) return [{ field: 'time_dimension', direction: 'asc' }];
    const first = metrics[0];
    if (first) return [{ field: `${first.aggregation}_${first.measure}`, direction: 'desc' }];
    const firstDimension = dimensions[0];
    return firstDimension === undefined ? [] : [{ field: firstDimension, direction: 'asc' }];
  }
  return orderBy.map((item) => {
    if (hasTime && item.field === 'time_dimension') return item;
    if (dimensions.includes(item.field)) return item;
    const match = METRIC_FIELD.exec(item.field);
    if (match && metrics.some((m) => m.aggregation === match[1] && m.measure === match[2])) return item;
    throw invalidRequest(`Invalid orderBy field: ${item.field}. Must be one of the dimension or metric fields.`);
  });
}

interface Cell {
  readonly row: Row;
  readonly pairValue: number | null;
}

interface Group {
  readonly bucket: number | null;
  readonly dimensions: DimValue[];
  readonly cells: Cell[];
}

type ResultRow = Record<string, DimValue>;

interface SortableRow {
  readonly bucket: number | null;
  readonly dimensions: readonly DimValue[];
  readonly out: ResultRow;
}

function execute(plan: Plan, store: ObservationStore, options: QueryOptions): ResultRow[] {
  const rows = plan.impl
    .rows(store, { from: plan.from, to: plan.to, joinsTraces: plan.joinsTraces, joinsObservations: plan.joinsObservations })
    .filter((row) => plan.predicates.every((p) => p(row)));

  const groups = new Map<string, Group>();
  for (const row of rows) {
    const bucket = plan.bucketing === null ? null : bucketStart(row.time, plan.bucketing);
    for (const { dimensions, pairValue } of expand(plan, row)) {
      const key = JSON.stringify([bucket, dimensions]);
      let group = groups.get(key);
      if (!group) {
        group = { bucket, dimensions, cells: [] };
        groups.set(key, group);
      }
      group.cells.push({ row, pairValue });
    }
  }
  if (groups.size === 0 && plan.dimensions.length === 0 && plan.bucketing === null) {
    groups.set('', { bucket: null, dimensions: [], cells: [] });
  }

  const result: SortableRow[] = [...groups.values()].map((g) => ({
    bucket: g.bucket,
    dimensions: g.dimensions,
    out: resultRow(plan, g.bucket, g.dimensions, aggregateMetrics(plan, g.cells)),
  }));
  if (plan.fill && plan.bucketing !== null) {
    const present = new Set(result.map((r) => r.bucket));
    const end = bucketStart(plan.to, plan.bucketing);
    for (let b = bucketStart(plan.from, plan.bucketing); b < end; b = nextBucket(b, plan.bucketing)) {
      if (present.has(b)) continue;
      const dimensions = plan.dimensions.map((): DimValue => null);
      result.push({ bucket: b, dimensions, out: resultRow(plan, b, dimensions, fillerMetrics(plan)) });
    }
  }

  result.sort(baseOrder);
  result.sort((a, b) => compareByOrder(plan.orderBy, a, b));
  const limited = plan.rowLimit === undefined ? result : result.slice(0, plan.rowLimit);
  return limited.map((r) => (options.stringIntegers ? stringifyIntegers(plan, r.out) : r.out));
}

function expand(plan: Plan, row: Row): Array<{ dimensions: DimValue[]; pairValue: number | null }> {
  let combos: Array<{ dimensions: DimValue[]; pairValue: number | null }> = [{ dimensions: [], pairValue: null }];
  for (const dimension of plan.dimensions) {
    if (dimension.name === plan.pairDimension) {
      const pairs = plan.impl.pairs(dimension.name)?.(row) ?? [];
      combos = combos.flatMap((c) =>
        pairs.map(([key, value]) => ({ dimensions: [...c.dimensions, key], pairValue: value })),
      );
      continue;
    }
    const read = plan.impl.dimension(dimension.name);
    if (read === undefined) throw new Error(`fake-langfuse: no implementation of the dimension ${dimension.name}`);
    const value = read(row);
    const values: readonly DimValue[] = dimension.explode ? (value as readonly string[]) : [value];
    combos = combos.flatMap((c) => values.map((v) => ({ dimensions: [...c.dimensions, v], pairValue: c.pairValue })));
  }
  return combos;
}

function aggregateMetrics(plan: Plan, cells: readonly Cell[]): DimValue[] {
  if (plan.metrics === null) return [cells.length];
  return plan.metrics.map((metric) => {
    const values = cells
      .map((c) => (metric.measure === 'pair' ? c.pairValue : metric.measure.value(c.row)))
      .filter((v): v is number | string => v !== null);
    const nullable = metric.measure === 'pair' || metric.measure.nullable;
    return aggregate(metric.aggregation, values, nullable);
  });
}

function aggregate(aggregation: Aggregation, values: ReadonlyArray<number | string>, nullable: boolean): DimValue {
  if (aggregation === 'count') return values.length;
  if (aggregation === 'uniq') return new Set(values).size;
  const numbers = values as readonly number[];
  if (numbers.length === 0) return aggregation === 'sum' && !nullable ? 0 : null;
  switch (aggregation) {
    case 'sum':
      return numbers.reduce((a, b) => a + b, 0);
    case 'avg':
      return numbers.reduce((a, b) => a + b, 0) / numbers.length;
    case 'max':
      return numbers.reduce((a, b) => Math.max(a, b));
    case 'min':
      return numbers.reduce((a, b) => Math.min(a, b));
    default: {
      const level = QUANTILE_LEVELS[aggregation];
      return level === undefined ? null : quantile(numbers, level);
    }
  }
}

const QUANTILE_LEVELS: Partial<Record<Aggregation, number>> = { p50: 0.5, p75: 0.75, p90: 0.9, p95: 0.95, p99: 0.99 };

// ClickHouse's quantile(): exact below 8192 values, linearly interpolated at level × (n − 1).
function quantile(values: readonly number[], level: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  const index = level * (sorted.length - 1);
  const left = Math.floor(index);
  const right = Math.min(left + 1, sorted.length - 1);
  const lower = sorted[left] as number;
  const upper = sorted[right] as number;
  return lower + (upper - lower) * (index - left);
}

// WITH FILL rows: ClickHouse's defaults, null except for the UInt64 counts.
function fillerMetrics(plan: Plan): DimValue[] {
  if (plan.metrics === null) return [0];
  return plan.metrics.map((m) => (m.aggregation === 'count' || m.aggregation === 'uniq' ? 0 : null));
}

function resultRow(plan: Plan, bucket: number | null, dimensions: readonly DimValue[], metrics: readonly DimValue[]): ResultRow {
  const out: ResultRow = {};
  plan.dimensions.forEach((d, i) => {
    out[d.name] = dimensions[i] ?? null;
  });
  if (plan.bucketing !== null && bucket !== null) out.time_dimension = bucketLabel(bucket, plan.bucketing);
  if (plan.metrics === null) out.count = metrics[0] ?? 0;
  else plan.metrics.forEach((m, i) => (out[m.key] = metrics[i] ?? null));
  return out;
}

function stringifyIntegers(plan: Plan, row: ResultRow): ResultRow {
  const out = { ...row };
  const keys = plan.metrics === null ? ['count'] : plan.metrics.filter((m) => m.integer).map((m) => m.key);
  for (const key of keys) {
    const value = out[key];
    if (typeof value === 'number') out[key] = String(value);
  }
  return out;
}

// ClickHouse leaves ties in no particular order; this one is deterministic: bucket, then null
// groups first, then values ascending.
function baseOrder(a: SortableRow, b: SortableRow): number {
  const byBucket = (a.bucket ?? 0) - (b.bucket ?? 0);
  if (byBucket !== 0) return byBucket;
  for (let i = 0; i < a.dimensions.length; i++) {
    const x = a.dimensions[i] ?? null;
    const y = b.dimensions[i] ?? null;
    if (x === null || y === null) {
      if (x !== y) return x === null ? -1 : 1;
      continue;
    }
    const c = compareValues(x, y);
    if (c !== 0) return c;
  }
  return 0;
}

// ORDER BY with ClickHouse's default NULLS LAST in both directions.
function compareByOrder(orderBy: readonly OrderKey[], a: SortableRow, b: SortableRow): number {
  for (const { field, direction } of orderBy) {
    const x = field === 'time_dimension' ? a.bucket : (a.out[field] ?? null);
    const y = field === 'time_dimension' ? b.bucket : (b.out[field] ?? null);
    if (x === null || y === null) {
      if (x !== y) return x === null ? 1 : -1;
      continue;
    }
    const c = compareValues(x, y);
    if (c !== 0) return direction === 'asc' ? c : -c;
  }
  return 0;
}

function compareValues(x: Exclude<DimValue, null>, y: Exclude<DimValue, null>): number {
  if (Array.isArray(x) && Array.isArray(y)) {
    for (let i = 0; i < Math.min(x.length, y.length); i++) {
      const c = compareValues(x[i] as string, y[i] as string);
      if (c !== 0) return c;
    }
    return x.length - y.length;
  }
  if (typeof x === 'number' && typeof y === 'number') return x - y;
  const [s, t] = [String(x), String(y)];
  return s < t ? -1 : s > t ? 1 : 0;
}
