// The state file: versioned, written atomically under a lease lock; damaged files are moved aside.
import { mkdtemp, readdir, readFile, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { LOCK_FILE, StateLockError, withStateLock } from '../../src/storage/lock.js';
import { emptyState, pruneRemovedAlerts, STATE_VERSION, StateVersionError } from '../../src/core/ledger.js';
import { StateDirError, StateStore, type StateRecovery } from '../../src/storage/state-store.js';

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
  expect(JSON.parse(await readFile(store.file, 'utf8')).version).toBe(STATE_VERSION);
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

  /** A clock that only moves when the lock waits between polls. */
  function fakeTime(start = Date.now()) {
    let now = start;
    return { clock: () => now, sleep: async (ms: number) => void (now += ms), elapsed: () => now - start };
  }

  test('a check (default options) waits 10 s for a live lease, then fails naming it', async () => {
    const time = fakeTime();
    await writeFile(join(dir, LOCK_FILE), JSON.stringify({ owner: 'daemon', expiresAt: time.clock() + 25_000 }));
    const store = new StateStore(dir, { clock: time.clock, sleep: time.sleep });
    await expect(store.update((s) => s)).rejects.toThrow(
      `the state directory ${dir} is locked by another spend-alerts process (lease until ${new Date(time.clock() + 25_000 - time.elapsed()).toISOString()})`,
    );
    expect(time.elapsed()).toBeGreaterThanOrEqual(10_000);
    expect(time.elapsed()).toBeLessThan(10_100);
  });

  test('a lease ending within the wait is waited for, then taken', async () => {
    const time = fakeTime();
    await writeFile(join(dir, LOCK_FILE), JSON.stringify({ owner: 'daemon', expiresAt: time.clock() + 4_000 }));
    expect(await withStateLock(dir, async () => time.elapsed(), { clock: time.clock, sleep: time.sleep })).toBeGreaterThan(4_000);
  });

  test('a lease further ahead than a lease is long (clock skew) lasts at most a lease from when it was first seen', async () => {
    const time = fakeTime();
    await writeFile(join(dir, LOCK_FILE), JSON.stringify({ owner: 'skewed', expiresAt: time.clock() + 3_600_000 }));
    const options = { clock: time.clock, sleep: time.sleep, leaseMs: 30_000, pollMs: 250 };
    // a daemon's updates come and go: the first waits in vain, a later one takes it over
    await expect(withStateLock(dir, async () => 1, options)).rejects.toThrow(StateLockError);
    await expect(withStateLock(dir, async () => 1, options)).rejects.toThrow(StateLockError);
    expect(await withStateLock(dir, async () => time.elapsed(), { ...options, waitMs: 15_000 })).toBeGreaterThanOrEqual(29_000);
    expect(time.elapsed()).toBeLessThanOrEqual(30_250);
  });

  test('a damaged lock file running far ahead, written a lease ago, is taken over at once', async () => {
    const lock = join(dir, LOCK_FILE);
    await writeFile(lock, JSON.stringify({ owner: 'bad', expiresAt: Date.parse('3000-01-01T00:00:00Z') }));
    const written = new Date(Date.now() - 60_000);
    await utimes(lock, written, written);
    expect(await withStateLock(dir, async () => 'ran', { waitMs: 0 })).toBe('ran');
  });

  test('temp files of a process killed while taking the lock are removed once older than a lease', async () => {
    const stale = join(dir, `${LOCK_FILE}.0b5f-dead`);
    const fresh = join(dir, `${LOCK_FILE}.0b5f-live`);
    await writeFile(stale, '{}');
    await writeFile(fresh, '{}');
    const old = new Date(Date.now() - 31_000);
    await utimes(stale, old, old);
    await new StateStore(dir).update((s) => s);
    expect((await readdir(dir)).sort()).toEqual(['state.json', `${LOCK_FILE}.0b5f-live`].sort());
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

test('updateExisting changes a state that exists and creates none where there is none', async () => {
  const missing = new StateStore(join(dir, 'none'));
  expect(await missing.updateExisting((s) => ({ ...s, projects: { k: 'p' } }))).toBeNull();
  expect(await readdir(dir)).toEqual([]);
  const store = new StateStore(dir);
  await store.update((s) => s);
  expect((await store.updateExisting((s) => ({ ...s, projects: { k: 'p' } })))?.projects).toEqual({ k: 'p' });
  expect((await store.load()).projects).toEqual({ k: 'p' });
});
