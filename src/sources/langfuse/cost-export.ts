// The cost exporter's reading (src/core/cost-export.ts does the arithmetic): ONE metrics request
// per evaluation, the project's cost, input and output tokens per UTC hour by model × trace name
// from a given hour to now, and the kept closed hours in the state directory
// (cost-export-cache.json), so that a restart doesn't read the month again.
// Like the planner's time series, the answer is in time order without empty buckets; v2 returns
// at most 1,000 rows and keeps the oldest, so a full answer is cut before its last hour (which may
// be incomplete) and the rest is read by the next evaluation.
import { join } from 'node:path';
import type { CostReading, CostRow, KeptHours } from '../../core/cost-export.js';
import { StoredValueError, type Codec, type Storage } from '../../storage/storage.js';
import { LangfuseError, type LangfuseClient, type MetricsApiVersion, type MetricsQuery } from './client.js';
import { COST_COLUMN, dimensionFor, groupValue, parseCost, parseTokens, TOKEN_MEASURES } from './spend-source.js';
import { ROW_LIMIT } from './planner/fetch.js';

export const COST_EXPORT_FILE = 'cost-export-cache.json';
const COST_EXPORT_VERSION = 1;

export function costExportQuery(from: number, to: number, version: MetricsApiVersion): MetricsQuery {
  return {
    view: 'observations',
    metrics: [{ measure: 'totalCost', aggregation: 'sum' }, ...TOKEN_MEASURES],
    dimensions: [{ field: dimensionFor('model', version) }, { field: dimensionFor('traceName', version) }],
    filters: [],
    fromTimestamp: new Date(from).toISOString(),
    // Langfuse includes both ends; the stretch excludes its end.
    toTimestamp: new Date(to - 1).toISOString(),
    timeDimension: { granularity: 'hour' },
    // ordering by time turns off Langfuse's filling of empty buckets: only hours with rows come back
    orderBy: [{ field: 'time_dimension', direction: 'asc' }],
    config: { row_limit: ROW_LIMIT },
  };
}

/** One request for [from, now): every hour's rows, or, when the answer hit the row limit, those of the whole hours before its last. */
export async function readCostRows(client: Pick<LangfuseClient, 'metrics'>, from: number, now: Date, signal?: AbortSignal): Promise<CostReading> {
  const { rows, version } = await client.metrics((v) => costExportQuery(from, now.getTime(), v), signal);
  const model = dimensionFor('model', version);
  const operation = dimensionFor('traceName', version);
  const read: CostRow[] = rows.map((row) => ({
    hour: hourOf(row['time_dimension']),
    model: groupValue(row, model),
    operation: groupValue(row, operation),
    cost: parseCost(row[COST_COLUMN]),
    inputTokens: parseTokens(row['sum_inputTokens']),
    outputTokens: parseTokens(row['sum_outputTokens']),
  }));
  // rows without cost or tokens (trace roots, spans) would only add series stuck at 0
  const used = (row: CostRow): boolean => row.cost !== 0 || row.inputTokens !== 0 || row.outputTokens !== 0;
  if (read.length < ROW_LIMIT) return { from, to: now.getTime(), rows: read.filter(used) };
  const last = read[read.length - 1]!.hour;
  if (last === from) throw new LangfuseError(`more than ${ROW_LIMIT} model × trace name pairs in one hour: too many to export`, 'rejected');
  return { from, to: last, rows: read.filter((row) => row.hour < last && used(row)) };
}

function hourOf(value: unknown): number {
  const ms = typeof value === 'string' ? Date.parse(value) : NaN;
  if (Number.isNaN(ms)) throw new LangfuseError('Langfuse sent a time bucket that is not a date', 'bad-response');
  return ms;
}

interface KeptJson {
  version: number;
  /** the Langfuse project the numbers came from (langfuseIdentity) */
  source: string;
  from: number;
  until: number;
  /** hour (ms) → [model, cost] pairs */
  hours: Record<string, Array<[string | null, number]>>;
}

/** Kept hours of another project, version or shape are no use: the codec refuses them like damaged ones. */
function keptCodec(source: string): Codec<KeptHours> {
  return {
    parse(text) {
      const data = JSON.parse(text) as KeptJson;
      if (data?.version !== COST_EXPORT_VERSION || data.source !== source) throw new TypeError('another version or project');
      if (!Number.isFinite(data.from) || !Number.isFinite(data.until) || typeof data.hours !== 'object') throw new TypeError('damaged');
      const hours = new Map<number, ReadonlyMap<string | null, number>>();
      for (const [hour, pairs] of Object.entries(data.hours)) {
        if (!Array.isArray(pairs) || !pairs.every((pair) => Array.isArray(pair) && Number.isFinite(pair[1]))) throw new TypeError('damaged');
        hours.set(Number(hour), new Map(pairs));
      }
      return { from: data.from, until: data.until, hours };
    },
    serialize(kept) {
      const hours: KeptJson['hours'] = {};
      for (const [hour, byModel] of [...kept.hours].sort(([a], [b]) => a - b)) hours[String(hour)] = [...byModel];
      const data: KeptJson = { version: COST_EXPORT_VERSION, source, from: kept.from, until: kept.until, hours };
      return JSON.stringify(data) + '\n';
    },
  };
}

/** Where the exporter's closed hours are kept: one project's (`source`) in `storage`. */
export interface KeptHoursStore {
  /** the kept hours; null when there are none or they can't be used (then `problem` says why) */
  load(): Promise<{ kept: KeptHours | null; problem: string | null }>;
  save(kept: KeptHours): Promise<void>;
}

export function keptHoursStore(storage: Storage, source: string): KeptHoursStore {
  const codec = keptCodec(source);
  return {
    async load() {
      try {
        return { kept: (await storage.read(COST_EXPORT_FILE, codec)) ?? null, problem: null };
      } catch (error) {
        if (!(error instanceof StoredValueError)) throw error;
        return { kept: null, problem: `${join(storage.location, COST_EXPORT_FILE)} not used (another version or Langfuse project, or damaged): it is rebuilt` };
      }
    },
    save: (kept) => storage.write(COST_EXPORT_FILE, codec, kept),
  };
}
