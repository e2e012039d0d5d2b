// Every storage driver passes the one conformance suite; below it, what only the file driver has.
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, test } from 'vitest';
import { fileStorage } from '../../src/storage/file.js';
import { LOCK_FILE, StateLockError } from '../../src/storage/lock.js';
import { memorySpace, memoryStorage } from '../../src/storage/memory.js';
import type { Codec } from '../../src/storage/storage.js';
import { storageConformance } from './conformance.js';

storageConformance({
  name: 'file',
  async setUp() {
    const dir = await mkdtemp(join(tmpdir(), 'spend-alerts-storage-'));
    // a state directory that doesn't exist yet: the first update creates it
    return { open: () => fileStorage(join(dir, 'state')), tearDown: () => rm(dir, { recursive: true, force: true }) };
  },
});

storageConformance({
  name: 'memory',
  async setUp() {
    const space = memorySpace();
    return { open: () => memoryStorage(space), tearDown: async () => {} };
  },
});

const text: Codec<string> = { parse: (value) => value, serialize: (value) => value };

test('file: a key is a file of the same name in the directory, and no lock or temp file is left', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'spend-alerts-storage-'));
  try {
    const storage = fileStorage(dir);
    await storage.update('langfuse-budget.json', text, () => 'spent\n');
    await storage.write('langfuse-cache.json', text, 'cached\n');
    expect((await readdir(dir)).sort()).toEqual(['langfuse-budget.json', 'langfuse-cache.json']);
    expect(await readFile(join(dir, 'langfuse-budget.json'), 'utf8')).toBe('spent\n');
    await expect(storage.read('../outside.json', text)).rejects.toThrow('not a storage key');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('file: writes of every key wait for the one directory lock, and fail clearly when it is held', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'spend-alerts-storage-'));
  try {
    await writeFile(join(dir, LOCK_FILE), JSON.stringify({ owner: 'daemon', expiresAt: Date.now() + 60_000 }));
    const storage = fileStorage(dir, { waitMs: 50 });
    await expect(storage.write('langfuse-cache.json', text, 'x')).rejects.toThrow(StateLockError);
    await expect(storage.update('langfuse-budget.json', text, () => 'x')).rejects.toThrow(StateLockError);
    expect(await readdir(dir)).toEqual([LOCK_FILE]);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
