// The history cache: closed hours of spend, per filter set and dimension, kept in the state
// directory (the storage key langfuse-cache.json) so that an evaluation fetches only what is still
// open. A closed hour (older than `langfuse.lagMargin`) never changes, so it is fetched once. It is
// a cache: anything unreadable, of another version or of another Langfuse project is dropped and
// rebuilt, and it is written whole (last writer wins) rather than merged.
import { join } from 'node:path';
import { memoryStorage } from '../../../storage/memory.js';
import { StateDirError, StoredValueError, type Codec, type Storage } from '../../../storage/storage.js';
import type { HourSlices } from '../../../core/daily-spend.js';
import { totalOf, type GroupKey, type Groups } from './groups.js';

export const CACHE_FILE = 'langfuse-cache.json';
export const CACHE_VERSION = 1;

/**
 * One closed hour of one (filter set, dimension), cut into slices: slice i covers [cuts[i],
 * cuts[i + 1]) ms into the hour (the last one up to its end). The total (dimension '') needs only a
 * number per slice; a groupBy field, the spend per group value (an empty map: no rows).
 */
export type HourRecord = HourTotals | HourGroups;

interface HourCuts {
  /** Langfuse's observation count for the hour: 0 when it had no rows; bounds a minute-level fetch */
  readonly count: number;
  /** sorted, starting at 0 */
  readonly cuts: readonly number[];
}

export interface HourTotals extends HourCuts {
  readonly totals: readonly number[];
}

export interface HourGroups extends HourCuts {
  readonly slices: readonly Groups[];
}

type HourJson = { n: number; c: number[]; t?: number[]; s?: Array<Array<[GroupKey, number]>> };

interface CacheJson {
  version: number;
  /** the Langfuse project the numbers came from: base URL and public key */
  source: string;
  entries: Record<string, Record<string, HourJson>>;
}

export type CacheLoadProblem = { readonly kind: 'unreadable' | 'version' | 'source'; readonly message: string };

type Entries = Map<string, Map<number, HourRecord>>;

/** Why a stored cache can't be used: the storage reports it as a StoredValueError with this cause. */
class CacheRefused extends Error {
  constructor(readonly kind: CacheLoadProblem['kind'], message: string) {
    super(message);
  }
}

/** The cache of one Langfuse project (`source`): the file of another is refused like a damaged one. */
function cacheCodec(source: string, file: string): Codec<Entries> {
  return {
    parse(text) {
      let data: CacheJson;
      try {
        data = JSON.parse(text) as CacheJson;
      } catch {
        throw new CacheRefused('unreadable', `${file} is not valid JSON`);
      }
      if (data?.version !== CACHE_VERSION) throw new CacheRefused('version', `${file} has version ${String(data?.version)}, not ${CACHE_VERSION}`);
      if (data.source !== source) throw new CacheRefused('source', `${file} holds another Langfuse project's spend`);
      const entries: Entries = new Map();
      try {
        for (const [key, hours] of Object.entries(data.entries)) {
          const records = new Map<number, HourRecord>();
          for (const [hour, json] of Object.entries(hours)) records.set(Number(hour), fromJson(json));
          entries.set(key, records);
        }
      } catch {
        throw new CacheRefused('unreadable', `${file} is damaged`);
      }
      return entries;
    },
    serialize(entries) {
      const json: CacheJson['entries'] = {};
      for (const [key, records] of entries) {
        const hours: Record<string, HourJson> = {};
        for (const [hour, record] of [...records].sort(([a], [b]) => a - b)) hours[String(hour)] = toJson(record);
        json[key] = hours;
      }
      const data: CacheJson = { version: CACHE_VERSION, source, entries: json };
      return JSON.stringify(data) + '\n';
    },
  };
}

export class HistoryCache {
  private dirty = false;
  private written = 0;

  private constructor(
    private readonly storage: Storage,
    private readonly codec: Codec<Entries>,
    /** where it is kept, for messages */
    readonly file: string,
    private readonly entries: Entries,
  ) {}

  /** A cache that is never saved: simulated evaluations fill it (see coldStartCost). */
  static inMemory(): HistoryCache {
    return new HistoryCache(memoryStorage(), cacheCodec('', CACHE_FILE), CACHE_FILE, new Map());
  }

  /** Reads the cache; a missing one is an empty cache, and so is one that can't be used (see `problem`). */
  static async load(storage: Storage, source: string): Promise<{ cache: HistoryCache; problem: CacheLoadProblem | null }> {
    const file = join(storage.location, CACHE_FILE);
    const codec = cacheCodec(source, file);
    const cache = (entries: Entries) => new HistoryCache(storage, codec, file, entries);
    try {
      return { cache: cache((await storage.read(CACHE_FILE, codec)) ?? new Map()), problem: null };
    } catch (error) {
      if (error instanceof StoredValueError && error.cause instanceof CacheRefused) {
        return { cache: cache(new Map()), problem: { kind: error.cause.kind, message: error.cause.message } };
      }
      if (error instanceof StateDirError) return { cache: cache(new Map()), problem: { kind: 'unreadable', message: error.message } };
      throw error;
    }
  }

  get(entry: string, hour: number): HourRecord | undefined {
    return this.entries.get(entry)?.get(hour);
  }

  /** The cached hours of the entry, each as its slices' spend (a groupBy field's slices summed over its groups). */
  hourSlices(entry: string): Map<number, HourSlices> {
    const hours = new Map<number, HourSlices>();
    for (const [hour, record] of this.entries.get(entry) ?? []) {
      hours.set(hour, { cuts: record.cuts, spend: 'totals' in record ? record.totals : record.slices.map(totalOf) });
    }
    return hours;
  }

  /** The largest number of groups any cached hour of the entry had: sizes requests before they are sent. */
  maxGroups(entry: string): number {
    let max = 0;
    for (const record of this.entries.get(entry)?.values() ?? []) {
      if ('totals' in record) return 1;
      for (const slice of record.slices) max = Math.max(max, slice.size);
    }
    return max;
  }

  /** Hour records put since it was loaded: whether an evaluation added anything. */
  get puts(): number {
    return this.written;
  }

  put(entry: string, hour: number, record: HourRecord): void {
    let records = this.entries.get(entry);
    if (!records) this.entries.set(entry, (records = new Map()));
    records.set(hour, record);
    this.dirty = true;
    this.written += 1;
  }

  /** Keeps only the entries named, each from its hour on: the longest lookback any alert needs. */
  prune(keepFrom: ReadonlyMap<string, number>): void {
    for (const [entry, records] of this.entries) {
      const from = keepFrom.get(entry);
      if (from === undefined) {
        this.entries.delete(entry);
        this.dirty = true;
        continue;
      }
      for (const hour of records.keys()) {
        if (hour < from) {
          records.delete(hour);
          this.dirty = true;
        }
      }
    }
  }

  /** Writes it (atomically, under the storage's lock) when anything changed since it was read or last written. */
  async save(): Promise<void> {
    if (!this.dirty) return;
    await this.storage.write(CACHE_FILE, this.codec, this.entries);
    this.dirty = false;
  }
}

function toJson(record: HourRecord): HourJson {
  const base = { n: record.count, c: [...record.cuts] };
  return 'totals' in record ? { ...base, t: [...record.totals] } : { ...base, s: record.slices.map((slice) => [...slice]) };
}

function fromJson(json: HourJson): HourRecord {
  const slices = json.t ?? json.s;
  if (!Number.isFinite(json.n) || !Array.isArray(json.c) || !Array.isArray(slices) || json.c.length !== slices.length || json.c[0] !== 0) {
    throw new TypeError('bad hour record');
  }
  const cuts = internCuts(json.c);
  return json.t ? { count: json.n, cuts, totals: json.t } : { count: json.n, cuts, slices: json.s!.map((slice) => new Map(slice)) };
}

const interned = new Map<string, readonly number[]>();

/** Nearly every hour is cut at the same offsets: one array for all of them. */
export function internCuts(cuts: readonly number[]): readonly number[] {
  const key = cuts.join();
  let shared = interned.get(key);
  if (!shared) interned.set(key, (shared = Object.freeze([...cuts])));
  return shared;
}
