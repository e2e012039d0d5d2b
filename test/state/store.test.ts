// The state file: versioned, written atomically, and a file from another version is refused.
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, expect, test } from 'vitest';
import { emptyState, pruneRemovedAlerts, StateFormatError } from '../../src/state/state.js';
import { StateStore } from '../../src/state/store.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'spend-alerts-state-'));
});
afterEach(async () => rm(dir, { recursive: true, force: true }));

test('a missing file is an empty state; a saved state reads back the same, leaving no temp file', async () => {
  const store = new StateStore(join(dir, 'nested', 'state'));
  expect(await store.load()).toEqual(emptyState());
  const state = { ...emptyState(), projects: { 'https://lf|pk': 'p1' } };
  await store.save(state);
  expect(await store.load()).toEqual(state);
  expect(await readdir(join(dir, 'nested', 'state'))).toEqual(['state.json']);
  expect(JSON.parse(await readFile(store.file, 'utf8')).version).toBe(1);
});

test('a file of another version or not JSON is refused, not guessed at', async () => {
  const store = new StateStore(dir);
  await writeFile(store.file, JSON.stringify({ version: 99 }));
  await expect(store.load()).rejects.toThrow(StateFormatError);
  await writeFile(store.file, '{"version": 1, "series": ');
  await expect(store.load()).rejects.toThrow('not valid JSON');
});

test('series of removed or renamed alerts are pruned', () => {
  const series = {
    'kept|': { alert: 'kept', seriesKey: '', group: {}, period: 'p', notified: [], open: false, lastValue: 1, updatedAt: 'x' },
    'gone|': { alert: 'gone', seriesKey: '', group: {}, period: 'p', notified: [], open: false, lastValue: 1, updatedAt: 'x' },
  };
  expect(Object.keys(pruneRemovedAlerts(series, new Set(['kept'])))).toEqual(['kept|']);
});
