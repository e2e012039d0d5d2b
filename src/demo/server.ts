// The Langfuse-compatible server `spend-alerts demo` queries: the projects endpoint and the Metrics
// API (v2 and the legacy v1) for the query shapes this worker sends — spend, token and count sums
// over observations, in one range or minute/hour buckets, grouped by the groupBy fields or as a
// top-N, filtered by the alert filters and metadata. Anything else is refused with a 400 that says
// so, never answered with a made-up number. Held to recordings of a real Langfuse v4.16 together
// with the full test fake (tools/fake-langfuse) in test/contract/langfuse-recorded.test.ts.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { isRecord } from '../core/record.js';

/**
 * One observation with the fields of its trace copied onto it, as Langfuse v4 stores it. Every
 * observation of a trace carries the same trace fields; the first one given counts.
 */
export interface DemoObservation {
  readonly id: string;
  readonly traceId: string;
  /** GENERATION | SPAN | EVENT | … */
  readonly type: string;
  /** ISO 8601 */
  readonly startTime: string;
  readonly name?: string | null;
  /** ISO 8601; the trace's own timestamp, by default its earliest observation's startTime */
  readonly traceTimestamp?: string;
  readonly traceName: string | null;
  readonly userId: string | null;
  readonly sessionId: string | null;
  readonly environment: string;
  readonly tags: readonly string[];
  readonly release: string | null;
  readonly traceMetadata: Readonly<Record<string, string>>;
  /** what v1's metadata filter sees (v2 filters on the trace's metadata) */
  readonly observationMetadata?: Readonly<Record<string, string>>;
  readonly providedModelName: string | null;
  /** USD; null where Langfuse found no price (spans, unknown models) */
  readonly inputCost: number | null;
  readonly outputCost: number | null;
  readonly totalCost: number | null;
  readonly inputTokens?: number;
  readonly outputTokens?: number;
  /** defaults to inputTokens + outputTokens */
  readonly totalTokens?: number;
}

export interface DemoLangfuseOptions {
  readonly observations: readonly DemoObservation[];
  readonly publicKey: string;
  readonly secretKey: string;
  readonly project: { readonly id: string; readonly name: string; readonly organization: { readonly id: string; readonly name: string } };
}

export interface DemoLangfuse {
  readonly url: string;
  /** requests answered so far */
  readonly requests: number;
  close(): Promise<void>;
}

type Version = 'v1' | 'v2';
type Value = string | number | null | readonly string[];

interface Trace {
  readonly id: string;
  readonly time: number;
  readonly first: DemoObservation;
}

/** `observation` null: the zero-cost root row v2 holds for every trace, timed at the trace */
interface Row {
  readonly time: number;
  readonly observation: DemoObservation | null;
  readonly trace: Trace;
}

interface Data {
  readonly observations: ReadonlyArray<{ readonly time: number; readonly observation: DemoObservation; readonly trace: Trace }>;
  readonly traces: readonly Trace[];
}

/** a query this server won't answer: a 400, as Langfuse answers an invalid one */
class Refusal extends Error {}

const refuse = (message: string): Refusal => new Refusal(message);
const unsupported = (what: string): Refusal => refuse(`the demo server does not support ${what}`);

const nullIfEmpty = (value: string | null | undefined): string | null => (value ? value : null);
const tokens = (o: DemoObservation): number | null =>
  o.totalTokens ?? (o.inputTokens === undefined && o.outputTokens === undefined ? null : (o.inputTokens ?? 0) + (o.outputTokens ?? 0));

// v2 reads one denormalised table: every row carries its trace's fields. v1 joins the traces table.
const traceFields = (version: Version, row: Row): DemoObservation =>
  version === 'v2' ? (row.observation ?? row.trace.first) : row.trace.first;

type Reader = (row: Row) => Value;

const DIMENSIONS: Readonly<Record<Version, Readonly<Record<string, Reader>>>> = {
  v2: {
    traceId: (r) => r.trace.id,
    providedModelName: (r) => nullIfEmpty(r.observation?.providedModelName),
    traceName: (r) => nullIfEmpty(traceFields('v2', r).traceName),
    userId: (r) => nullIfEmpty(traceFields('v2', r).userId),
    sessionId: (r) => nullIfEmpty(traceFields('v2', r).sessionId),
    environment: (r) => nullIfEmpty(traceFields('v2', r).environment),
    release: (r) => nullIfEmpty(traceFields('v2', r).release),
    tags: (r) => [...traceFields('v2', r).tags].sort(),
  },
  v1: {
    traceId: (r) => r.trace.id,
    providedModelName: (r) => nullIfEmpty(r.observation?.providedModelName),
    traceName: (r) => nullIfEmpty(r.trace.first.traceName),
    userId: (r) => nullIfEmpty(r.trace.first.userId),
    sessionId: (r) => nullIfEmpty(r.trace.first.sessionId),
    environment: (r) => r.observation?.environment ?? null,
    traceRelease: (r) => nullIfEmpty(r.trace.first.release),
    tags: (r) => [...r.trace.first.tags].sort(),
  },
};

/** v1 takes these from the joined traces table, which keeps only traces inside the window */
const V1_TRACE_FIELDS: ReadonlySet<string> = new Set(['traceName', 'userId', 'sessionId', 'traceRelease', 'tags']);
/** v2 groups by these only as a top-N */
const V2_HIGH_CARDINALITY: ReadonlySet<string> = new Set(['traceId', 'userId', 'sessionId']);
/** the dimensions this server groups by; tags only filter */
const GROUPABLE: ReadonlySet<string> = new Set(['traceId', 'providedModelName', 'traceName', 'userId', 'sessionId', 'environment', 'release', 'traceRelease']);

interface Measure {
  value(row: Row): number | null;
  /** a sum over no values: null (a Nullable column) rather than 0 */
  readonly nullable: boolean;
}

const cost =
  (pick: (o: DemoObservation) => number | null) =>
  (row: Row): number =>
    row.observation ? (pick(row.observation) ?? 0) : 0;
const tokenSum =
  (pick: (o: DemoObservation) => number | null | undefined) =>
  (row: Row): number =>
    row.observation ? (pick(row.observation) ?? 0) : 0;

const SUMMED: Readonly<Record<Version, Readonly<Record<string, Measure>>>> = {
  v2: {
    totalCost: { value: cost((o) => o.totalCost), nullable: true },
    inputCost: { value: cost((o) => o.inputCost), nullable: false },
    outputCost: { value: cost((o) => o.outputCost), nullable: false },
    totalTokens: { value: tokenSum(tokens), nullable: false },
    inputTokens: { value: tokenSum((o) => o.inputTokens), nullable: false },
    outputTokens: { value: tokenSum((o) => o.outputTokens), nullable: false },
  },
  v1: {
    // v1 keeps a span's missing price as NULL, which sum() skips
    totalCost: { value: (r) => r.observation?.totalCost ?? null, nullable: true },
    inputCost: { value: cost((o) => o.inputCost), nullable: false },
    outputCost: { value: cost((o) => o.outputCost), nullable: false },
    totalTokens: { value: tokenSum(tokens), nullable: false },
    inputTokens: { value: tokenSum((o) => o.inputTokens), nullable: false },
    outputTokens: { value: tokenSum((o) => o.outputTokens), nullable: false },
  },
};

interface Metric {
  readonly key: string;
  /** null: the row count */
  readonly measure: Measure | null;
}

const BUCKET_MS = { minute: 60_000, hour: 3_600_000 } as const;
type Granularity = keyof typeof BUCKET_MS;

interface Query {
  readonly dimensions: ReadonlyArray<{ readonly name: string; readonly read: Reader }>;
  readonly metrics: readonly Metric[];
  readonly predicates: ReadonlyArray<(row: Row) => boolean>;
  readonly joinsTraces: boolean;
  readonly from: number;
  readonly to: number;
  readonly granularity: Granularity | null;
  readonly orderBy: ReadonlyArray<{ readonly field: string; readonly direction: 'asc' | 'desc' }>;
  /** no orderBy with a time dimension: Langfuse fills the empty buckets (ClickHouse WITH FILL) */
  readonly fill: boolean;
  readonly rowLimit: number | undefined;
}

const arrayOf = (value: unknown, what: string): unknown[] => {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) throw refuse(`${what} must be an array`);
  return value;
};
const strings = (value: unknown): value is string[] => Array.isArray(value) && value.every((v) => typeof v === 'string');

// Langfuse wants a full date-time with an offset: a date alone or a local time is refused
const ISO_INSTANT = /^\d{4}-\d\d-\d\dT\d\d:\d\d(:\d\d(\.\d+)?)?(Z|[+-]\d\d:\d\d)$/;
const instant = (value: unknown): number => (typeof value === 'string' && ISO_INSTANT.test(value) ? Date.parse(value) : NaN);

function parseQuery(version: Version, raw: string | null): Query {
  if (raw === null) throw refuse('the query parameter is missing');
  let query: unknown;
  try {
    query = JSON.parse(raw);
  } catch {
    throw refuse('Invalid JSON in query parameter');
  }
  if (!isRecord(query)) throw refuse('the query must be an object');
  if (query['view'] !== 'observations') throw unsupported(`the view ${JSON.stringify(query['view'])}`);

  const readers = DIMENSIONS[version];
  const dimensions = arrayOf(query['dimensions'], 'dimensions').map((d) => {
    const name = isRecord(d) ? d['field'] : undefined;
    const read = typeof name === 'string' && GROUPABLE.has(name) ? readers[name] : undefined;
    if (typeof name !== 'string' || read === undefined) throw unsupported(`the ${version} dimension ${JSON.stringify(name)}`);
    return { name, read };
  });

  const metrics = arrayOf(query['metrics'], 'metrics').map((m): Metric => {
    const measure = isRecord(m) ? m['measure'] : undefined;
    const aggregation = isRecord(m) ? m['aggregation'] : undefined;
    if (measure === 'count' && aggregation === 'count') return { key: 'count_count', measure: null };
    const summed = typeof measure === 'string' && aggregation === 'sum' && Object.hasOwn(SUMMED[version], measure) ? SUMMED[version][measure] : undefined;
    if (summed === undefined) throw unsupported(`the metric ${JSON.stringify(aggregation)} of ${JSON.stringify(measure)}`);
    return { key: `sum_${measure}`, measure: summed };
  });
  if (metrics.length === 0) throw unsupported('a query without metrics');

  const filterColumns: string[] = [];
  const predicates = arrayOf(query['filters'], 'filters').map((f) => {
    if (!isRecord(f) || typeof f['column'] !== 'string') throw refuse('a filter needs a column');
    filterColumns.push(f['column']);
    return predicate(version, f);
  });

  const from = instant(query['fromTimestamp']);
  const to = instant(query['toTimestamp']);
  if (Number.isNaN(from) || Number.isNaN(to)) throw refuse('fromTimestamp and toTimestamp must be ISO 8601 date-times with an offset');
  if (from >= to) throw refuse('fromTimestamp must be before toTimestamp');

  const timeDimension = query['timeDimension'];
  let granularity: Granularity | null = null;
  if (isRecord(timeDimension)) {
    const wanted = timeDimension['granularity'];
    if (wanted !== 'minute' && wanted !== 'hour') throw unsupported(`the granularity ${JSON.stringify(wanted)}`);
    granularity = wanted;
  } else if (timeDimension !== undefined && timeDimension !== null) {
    throw refuse('timeDimension must be an object');
  }

  const orderBy = arrayOf(query['orderBy'], 'orderBy').map((o): Query['orderBy'][number] => {
    const field = isRecord(o) ? o['field'] : undefined;
    const direction = isRecord(o) ? o['direction'] : undefined;
    const known =
      (field === 'time_dimension' && granularity !== null) ||
      dimensions.some((d) => d.name === field) ||
      metrics.some((m) => m.key === field);
    if (typeof field !== 'string' || !known || (direction !== 'asc' && direction !== 'desc')) {
      throw refuse(`Invalid orderBy field: ${String(field)}. Must be one of the dimension or metric fields.`);
    }
    return { field, direction };
  });

  const config = query['config'];
  const rowLimit = isRecord(config) && config['row_limit'] !== undefined ? config['row_limit'] : undefined;
  if (rowLimit !== undefined && (typeof rowLimit !== 'number' || !Number.isInteger(rowLimit) || rowLimit < 1 || rowLimit > 1000)) {
    throw refuse('config.row_limit must be an integer from 1 to 1000');
  }

  if (version === 'v2') {
    const highCardinality = dimensions.filter((d) => V2_HIGH_CARDINALITY.has(d.name)).map((d) => d.name);
    if (highCardinality.length > 0 && (granularity !== null || rowLimit === undefined || !orderBy.some((o) => o.direction === 'desc' && metrics.some((m) => m.key === o.field)))) {
      throw refuse(`High cardinality dimension(s) '${highCardinality.join(', ')}' are only grouped as a top-N: config.row_limit and a descending orderBy on a metric, no timeDimension.`);
    }
  }

  return {
    dimensions,
    metrics,
    predicates,
    joinsTraces: version === 'v1' && [...dimensions.map((d) => d.name), ...filterColumns].some((name) => V1_TRACE_FIELDS.has(name)),
    from,
    to,
    granularity,
    orderBy: orderBy.length > 0 ? orderBy : [granularity !== null ? { field: 'time_dimension', direction: 'asc' } : { field: metrics[0]!.key, direction: 'desc' }],
    fill: granularity !== null && orderBy.length === 0,
    rowLimit: rowLimit ?? (version === 'v2' ? 100 : undefined),
  };
}

function predicate(version: Version, filter: Record<string, unknown>): (row: Row) => boolean {
  const { column, type, operator, value } = filter;
  if (column === 'metadata' && type === 'stringObject' && operator === '=' && typeof filter['key'] === 'string' && typeof value === 'string') {
    const key = filter['key'];
    // v1 sees only observation metadata; v2 the trace's
    const metadata = (row: Row): Readonly<Record<string, string>> =>
      version === 'v2' ? traceFields('v2', row).traceMetadata : (row.observation?.observationMetadata ?? {});
    return (row) => (Object.hasOwn(metadata(row), key) ? metadata(row)[key] : '') === value;
  }
  // names come from requests: `constructor` is not a dimension
  const read = typeof column === 'string' && Object.hasOwn(DIMENSIONS[version], column) ? DIMENSIONS[version][column] : undefined;
  if (read !== undefined && column === 'tags' && type === 'arrayOptions' && operator === 'any of' && strings(value)) {
    return (row) => value.some((tag) => (read(row) as readonly string[]).includes(tag));
  }
  if (read !== undefined && column !== 'tags' && type === 'stringOptions' && strings(value) && value.length > 0) {
    const text = (row: Row): string => {
      const v = read(row);
      return typeof v === 'string' ? v : '';
    };
    if (operator === 'any of') return (row) => value.includes(text(row));
    if (operator === 'none of') return (row) => text(row) !== '' && !value.includes(text(row));
  }
  throw unsupported(`the filter ${JSON.stringify(filter)}`);
}

type ResultRow = Record<string, Value>;

interface Group {
  readonly bucket: number | null;
  readonly values: readonly Value[];
  readonly rows: Row[];
}

function answer(version: Version, query: Query, data: Data): ResultRow[] {
  const inWindow = (time: number): boolean => time >= query.from && time <= query.to;
  const rows: Row[] = [];
  for (const { time, observation, trace } of data.observations) {
    if (inWindow(time) && !(query.joinsTraces && !inWindow(trace.time))) rows.push({ time, observation, trace });
  }
  if (version === 'v2') for (const trace of data.traces) if (inWindow(trace.time)) rows.push({ time: trace.time, observation: null, trace });

  const groups = new Map<string, Group>();
  for (const row of rows) {
    if (!query.predicates.every((p) => p(row))) continue;
    const bucket = query.granularity === null ? null : floor(row.time, query.granularity);
    const values = query.dimensions.map((d) => d.read(row));
    const key = JSON.stringify([bucket, values]);
    let group = groups.get(key);
    if (!group) groups.set(key, (group = { bucket, values, rows: [] }));
    group.rows.push(row);
  }
  if (groups.size === 0 && query.dimensions.length === 0 && query.granularity === null) groups.set('', { bucket: null, values: [], rows: [] });
  if (query.fill && query.granularity !== null) {
    const present = new Set([...groups.values()].map((g) => g.bucket));
    const step = BUCKET_MS[query.granularity];
    for (let b = floor(query.from, query.granularity); b < floor(query.to, query.granularity); b += step) {
      if (!present.has(b)) groups.set(String(b), { bucket: b, values: query.dimensions.map(() => null), rows: [] });
    }
  }

  const result = [...groups.values()].map((group) => ({ group, out: resultRow(query, group) }));
  // ClickHouse leaves ties in no particular order; here: bucket, then null groups first, then values ascending
  result.sort((a, b) => (a.group.bucket ?? 0) - (b.group.bucket ?? 0) || compareAll(a.group.values, b.group.values));
  result.sort((a, b) => {
    for (const { field, direction } of query.orderBy) {
      const x = field === 'time_dimension' ? a.group.bucket : (a.out[field] ?? null);
      const y = field === 'time_dimension' ? b.group.bucket : (b.out[field] ?? null);
      // NULLS LAST in both directions
      if (x === null || y === null) {
        if (x !== y) return x === null ? 1 : -1;
        continue;
      }
      const c = compare(x, y);
      if (c !== 0) return direction === 'asc' ? c : -c;
    }
    return 0;
  });
  return (query.rowLimit === undefined ? result : result.slice(0, query.rowLimit)).map((r) => r.out);
}

function resultRow(query: Query, group: Group): ResultRow {
  const out: ResultRow = {};
  query.dimensions.forEach((d, i) => (out[d.name] = group.values[i] ?? null));
  if (group.bucket !== null) out['time_dimension'] = `${new Date(group.bucket).toISOString().slice(0, 19)}Z`;
  for (const metric of query.metrics) {
    if (metric.measure === null) {
      out[metric.key] = group.rows.length;
      continue;
    }
    const values = group.rows.map((row) => metric.measure!.value(row)).filter((v): v is number => v !== null);
    // a filled bucket has NULL sums, as has a Nullable column with no values; otherwise sum() of nothing is 0
    const empty = metric.measure.nullable || (query.fill && group.rows.length === 0) ? null : 0;
    out[metric.key] = values.length === 0 ? empty : values.reduce((a, b) => a + b, 0);
  }
  return out;
}

const floor = (ms: number, granularity: Granularity): number => Math.floor(ms / BUCKET_MS[granularity]) * BUCKET_MS[granularity];

function compareAll(a: readonly Value[], b: readonly Value[]): number {
  for (let i = 0; i < a.length; i++) {
    const x = a[i] ?? null;
    const y = b[i] ?? null;
    if (x === null || y === null) {
      if (x !== y) return x === null ? -1 : 1;
      continue;
    }
    const c = compare(x, y);
    if (c !== 0) return c;
  }
  return 0;
}

function compare(x: Exclude<Value, null>, y: Exclude<Value, null>): number {
  if (typeof x === 'number' && typeof y === 'number') return x - y;
  const [s, t] = [String(x), String(y)];
  return s < t ? -1 : s > t ? 1 : 0;
}

function index(observations: readonly DemoObservation[]): Data {
  const traces = new Map<string, { id: string; time: number; first: DemoObservation; explicit: boolean }>();
  const entries = observations.map((observation) => {
    const time = Date.parse(observation.startTime);
    if (Number.isNaN(time)) throw new TypeError(`demo observation ${observation.id}: startTime is not a date`);
    let trace = traces.get(observation.traceId);
    if (!trace) {
      const explicit = observation.traceTimestamp !== undefined;
      trace = { id: observation.traceId, time: explicit ? Date.parse(observation.traceTimestamp!) : time, first: observation, explicit };
      traces.set(observation.traceId, trace);
    } else if (!trace.explicit) {
      trace.time = Math.min(trace.time, time);
    }
    return { time, observation, trace };
  });
  return { observations: entries, traces: [...traces.values()] };
}

const METRICS_PATHS: Readonly<Record<string, Version>> = { '/api/public/v2/metrics': 'v2', '/api/public/metrics': 'v1' };

export async function startDemoLangfuse(options: DemoLangfuseOptions): Promise<DemoLangfuse> {
  const data = index(options.observations);
  const expected = `Basic ${Buffer.from(`${options.publicKey}:${options.secretKey}`).toString('base64')}`;
  const project = { ...options.project, metadata: {} };
  let requests = 0;

  const route = (req: IncomingMessage): { status: number; body: unknown } => {
    requests += 1;
    const url = new URL(req.url ?? '/', 'http://demo-langfuse');
    const path = url.pathname.length > 1 ? url.pathname.replace(/\/$/, '') : url.pathname;
    const version = Object.hasOwn(METRICS_PATHS, path) ? METRICS_PATHS[path] : undefined;
    if (path !== '/api/public/projects' && version === undefined) return { status: 404, body: { message: 'not found' } };
    if (req.method !== 'GET') return { status: 405, body: { message: 'Method not allowed', error: 'MethodNotAllowedError' } };
    if (req.headers.authorization !== expected) return { status: 401, body: { message: 'Invalid credentials' } };
    if (version === undefined) return { status: 200, body: { data: [project] } };
    try {
      return { status: 200, body: { data: answer(version, parseQuery(version, url.searchParams.get('query')), data) } };
    } catch (error) {
      if (error instanceof Refusal) return { status: 400, body: { message: error.message, error: 'InvalidRequestError' } };
      throw error;
    }
  };

  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    let reply: { status: number; body: unknown };
    try {
      reply = route(req);
    } catch (error) {
      reply = { status: 500, body: { message: 'Internal Server Error', error: String(error) } };
    }
    const body = JSON.stringify(reply.body);
    res.writeHead(reply.status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(body) });
    res.end(body);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    get requests() {
      return requests;
    },
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeAllConnections();
      }),
  };
}
