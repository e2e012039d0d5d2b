// The history cache as a storage key: saved and read back whole; one that can't be used (damaged,
// another version, another Langfuse project) is an empty cache and the problem is named.
import { expect, test } from 'vitest';
import { CACHE_FILE, HistoryCache, internCuts } from '../../src/sources/langfuse/planner/cache.js';
import { memoryStorage } from '../../src/storage/memory.js';
import type { Codec } from '../../src/storage/storage.js';

const text: Codec<string> = { parse: (value) => value, serialize: (value) => value };
const SOURCE = 'https://cloud.langfuse.com|pk-lf-1';
const HOUR = Date.parse('2026-06-10T10:00:00Z');

test('a saved cache reads back with its hours, for the same project', async () => {
  const storage = memoryStorage();
  const { cache } = await HistoryCache.load(storage, SOURCE);
  cache.put('total', HOUR, { count: 3, cuts: internCuts([0]), totals: [1.5] });
  cache.put('model', HOUR, { count: 2, cuts: internCuts([0, 1_800_000]), slices: [new Map([['gpt', 1]]), new Map()] });
  await cache.save();
  const { cache: again, problem } = await HistoryCache.load(storage, SOURCE);
  expect(problem).toBeNull();
  expect(again.get('total', HOUR)).toEqual({ count: 3, cuts: [0], totals: [1.5] });
  expect(again.get('model', HOUR)).toEqual({ count: 2, cuts: [0, 1_800_000], slices: [new Map([['gpt', 1]]), new Map()] });
  expect(again.maxGroups('model')).toBe(1);
});

test.each([
  ['unreadable', 'not json', 'memory/langfuse-cache.json is not valid JSON'],
  ['version', JSON.stringify({ version: 0, source: SOURCE, entries: {} }), 'memory/langfuse-cache.json has version 0, not 1'],
  ['source', JSON.stringify({ version: 1, source: 'https://other|pk', entries: {} }), "memory/langfuse-cache.json holds another Langfuse project's spend"],
  ['unreadable', JSON.stringify({ version: 1, source: SOURCE, entries: { total: { [HOUR]: { n: 1, c: [5], t: [1] } } } }), 'memory/langfuse-cache.json is damaged'],
])('a stored cache that is %s is dropped: an empty cache, the problem named', async (kind, stored, message) => {
  const storage = memoryStorage();
  await storage.write(CACHE_FILE, text, stored);
  const { cache, problem } = await HistoryCache.load(storage, SOURCE);
  expect(problem).toEqual({ kind, message });
  expect(cache.get('total', HOUR)).toBeUndefined();
});
