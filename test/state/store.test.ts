// The state file: versioned, written atomically under a lease lock; damaged files are moved aside.
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { LOCK_FILE, StateLockError, withStateLock } from '../../src/state/lock.js';
import { emptyState, pruneRemovedAlerts, StateVersionError } from '../../src/state/state.js';
import { StateDirError, StateStore, type StateRecovery } from '../../src/state/store.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'spend-alerts-state-'));
});
afterEach(async () => rm(dir, { recursive: true, force: true }));

test('a missing file is an empty state; an update reads back the same, leaving no temp or lock file', async () => {
  const store = new StateStore(join(dir, 'nested', 'state'));
  expect(await store.load()).toEqual(emptyState());
  const written = await store.update((state) => ({ ...state, projects: { 'https://lf|pk': 'p1' } }));
  expect(await store.load()).toEqual(written);
  expect(await readdir(join(dir, 'nested', 'state'))).toEqual(['state.json']);
  expect(JSON.parse(await readFile(store.file, 'utf8')).version).toBe(1);
});

test('a corrupt file is moved aside and reported, and the worker starts afresh', async () => {
  const recoveries: StateRecovery[] = [];
  const store = new StateStore(dir, { onRecovery: (r) => recoveries.push(r) });
  await writeFile(store.file, '{"version": 1, "series": ');
  expect(await store.load()).toEqual(emptyState());
  expect(recoveries).toHaveLength(1);
  expect(recoveries[0]!.reason).toContain('not valid JSON');
  expect(await readFile(recoveries[0]!.movedTo, 'utf8')).toBe('{"version": 1, "series": ');
  await store.update((s) => s);
  expect(await store.load()).toEqual(emptyState());
});

test('a file of another version is refused, not moved and not guessed at', async () => {
  const store = new StateStore(dir);
  await writeFile(store.file, JSON.stringify({ version: 99 }));
  await expect(store.load()).rejects.toThrow(StateVersionError);
  expect(await readdir(dir)).toEqual(['state.json']);
});

test('an unwritable state directory is a clear error', async () => {
  const blocked = join(dir, 'ro');
  await writeFile(blocked, 'a file, not a directory');
  await expect(new StateStore(join(blocked, 'state')).ensureWritable()).rejects.toThrow(StateDirError);
  await expect(new StateStore(join(blocked, 'state')).ensureWritable()).rejects.toThrow(/is not writable: (ENOTDIR|EEXIST)/);
});

describe('lock', () => {
  test('concurrent updates are serialised: none is lost', async () => {
    const stores = [new StateStore(dir), new StateStore(dir), new StateStore(dir)];
    await Promise.all(
      Array.from({ length: 30 }, (_, i) =>
        stores[i % 3]!.update((state) => ({ ...state, projects: { ...state.projects, [`k${i}`]: String(i) } })),
      ),
    );
    expect(Object.keys((await stores[0]!.load()).projects)).toHaveLength(30);
  });

  test('a live lease makes others wait a bounded time, then fail clearly', async () => {
    await writeFile(join(dir, LOCK_FILE), JSON.stringify({ owner: 'other', expiresAt: Date.now() + 60_000 }));
    await expect(withStateLock(dir, async () => 1, { waitMs: 100 })).rejects.toThrow(StateLockError);
    await expect(withStateLock(dir, async () => 1, { waitMs: 100 })).rejects.toThrow(/locked by another spend-alerts process/);
  });

  test('an expired lease (a killed holder) is taken over', async () => {
    await writeFile(join(dir, LOCK_FILE), JSON.stringify({ owner: 'dead', expiresAt: Date.now() - 1 }));
    expect(await withStateLock(dir, async () => 'ran', { waitMs: 100 })).toBe('ran');
    expect(await readdir(dir)).toEqual([]);
  });

  test('the lock is released when the change throws', async () => {
    await expect(withStateLock(dir, async () => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    expect(await readdir(dir)).toEqual([]);
  });
});

test('series of removed or renamed alerts are pruned', () => {
  const series = {
    'kept|': { alert: 'kept', seriesKey: '', group: {}, period: 'p', notified: [], open: false, lastValue: 1, updatedAt: 'x' },
    'gone|': { alert: 'gone', seriesKey: '', group: {}, period: 'p', notified: [], open: false, lastValue: 1, updatedAt: 'x' },
  };
  expect(Object.keys(pruneRemovedAlerts(series, new Set(['kept'])))).toEqual(['kept|']);
});


test('read-only (a dry run): a damaged file reads as empty and stays where it is', async () => {
  const store = new StateStore(dir, { readOnly: true, onRecovery: () => expect.unreachable('nothing is moved') });
  await writeFile(store.file, 'garbage');
  expect(await store.load()).toEqual(emptyState());
  expect(await readdir(dir)).toEqual(['state.json']);
});
