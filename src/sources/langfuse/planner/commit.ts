// Committing the cache: the closed hours an evaluation fetched become cacheable, each cut where
// later evaluations will cut it, and whatever no configured alert needs any more is pruned. It
// changes the cache in memory; writing it out is the cache's own business.
import { cacheEntryKey, type Evaluation } from './evaluation.js';
import { floorTo, HOUR, MINUTE } from './time.js';
import { FetchedView } from './views.js';

export function commitToCache(evaluation: Evaluation): void {
  // Langfuse moved to another API version under us: the next evaluation starts that version's cache.
  if (evaluation.switchedTo !== null) return;
  const { cache } = evaluation;
  for (const set of evaluation.sets.values()) {
    // Hours fetched in minute buckets are cut at the usual offsets and wherever this evaluation cut them.
    const offsets = new Map<number, Set<number>>();
    for (const window of set.windows) {
      for (const span of window.spans) {
        for (const at of [span.from, span.to]) {
          const hour = floorTo(at, HOUR);
          if (at === hour || at % MINUTE !== 0 || set.fetched.get(hour)?.granularity !== 'minute') continue;
          offsets.set(hour, (offsets.get(hour) ?? new Set()).add(at - hour));
        }
      }
    }
    for (const [hour, fetched] of set.fetched) {
      if (hour + HOUR > evaluation.closedBefore || fetched.end !== HOUR) continue;
      for (const dim of fetched.dims) {
        if (!set.keepFrom.has(dim)) continue;
        const key = cacheEntryKey(evaluation.version, dim, set.key);
        const old = cache.get(key, hour);
        // Minute buckets can be cut anywhere an earlier record was; hour buckets add nothing to a record.
        if (fetched.granularity === 'hour' && old) continue;
        const cuts = fetched.granularity === 'hour' ? [0] : sortedUnion([0, ...evaluation.cuts], offsets.get(hour) ?? [], old?.cuts ?? []);
        cache.put(key, hour, new FetchedView(fetched, dim).toRecord(cuts));
      }
    }
  }
  cache.prune(keepFrom(evaluation));
}

/** Per cache entry, the first hour any configured alert (or this evaluation) still needs. */
function keepFrom(evaluation: Evaluation): Map<string, number> {
  const keep = new Map(evaluation.retainFrom);
  for (const set of evaluation.sets.values()) {
    for (const [dim, hour] of set.keepFrom) {
      const key = cacheEntryKey(evaluation.version, dim, set.key);
      keep.set(key, Math.min(keep.get(key) ?? hour, hour));
    }
  }
  return keep;
}

function sortedUnion(...lists: ReadonlyArray<Iterable<number>>): number[] {
  return [...new Set(lists.flatMap((list) => [...list]))].sort((a, b) => a - b);
}
