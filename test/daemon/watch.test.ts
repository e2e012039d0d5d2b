// The config watcher over a real directory: the ways a file gets replaced in practice.
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, rename, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, expect, test } from 'vitest';
import { watchConfigFile, type ConfigWatcher } from '../../src/daemon/reload/watch.js';

let dir: string;
let watcher: ConfigWatcher | undefined;
let changes: number;
/** the file's content as each onChange saw it */
let seen: string[];
let waiters: Array<() => void>;
/** woken after each debounced look at the file, whatever it found */
let lookWaiters: Array<() => void>;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'spend-alerts-watch-'));
  changes = 0;
  seen = [];
  waiters = [];
  lookWaiters = [];
});

afterEach(async () => {
  watcher?.close();
  watcher = undefined;
  await rm(dir, { recursive: true, force: true });
});

async function watchFile(file: string): Promise<void> {
  watcher = await watchConfigFile({
    file,
    debounceMs: 50,
    onChange: () => {
      changes += 1;
      seen.push(existsSync(file) ? readFileSync(file, 'utf8') : '<missing>');
      for (const wake of waiters.splice(0)) wake();
    },
    onError: (error) => {
      throw error;
    },
    onChecked: () => {
      for (const wake of lookWaiters.splice(0)) wake();
    },
  });
}

function nextChange(): Promise<void> {
  return new Promise((resolve) => waiters.push(resolve));
}

function nextLook(): Promise<void> {
  return new Promise((resolve) => lookWaiters.push(resolve));
}

test('sees a file written in place', async () => {
  const file = join(dir, 'alerts.yaml');
  await writeFile(file, 'a: 1\n');
  await watchFile(file);
  const changed = nextChange();
  await writeFile(file, 'a: 2\n');
  await changed;
  expect(changes).toBe(1);
});

test('sees an editor replace the file (write a temporary file, rename it over)', async () => {
  const file = join(dir, 'alerts.yaml');
  await writeFile(file, 'a: 1\n');
  await watchFile(file);
  const changed = nextChange();
  await writeFile(join(dir, '.alerts.yaml.tmp'), 'a: 2\n');
  await rename(join(dir, '.alerts.yaml.tmp'), file);
  await changed;
  expect(changes).toBe(1);
});

test('sees a Kubernetes ConfigMap update: the ..data symlink swapped to a new directory', async () => {
  // the layout kubelet writes: alerts.yaml -> ..data/alerts.yaml, ..data -> ..<timestamp>
  await mkdir(join(dir, '..2026_11_25_01_00_00.1'));
  await writeFile(join(dir, '..2026_11_25_01_00_00.1', 'alerts.yaml'), 'a: 1\n');
  await symlink('..2026_11_25_01_00_00.1', join(dir, '..data'));
  await symlink('..data/alerts.yaml', join(dir, 'alerts.yaml'));
  await watchFile(join(dir, 'alerts.yaml'));

  const changed = nextChange();
  await mkdir(join(dir, '..2026_11_25_02_00_00.2'));
  await writeFile(join(dir, '..2026_11_25_02_00_00.2', 'alerts.yaml'), 'a: 2\n');
  await symlink('..2026_11_25_02_00_00.2', join(dir, '..data_tmp'));
  await rename(join(dir, '..data_tmp'), join(dir, '..data'));
  await rm(join(dir, '..2026_11_25_01_00_00.1'), { recursive: true });
  await changed;
  expect(changes).toBe(1);
});

test('ignores other files in the directory and rewrites with the same content', async () => {
  const file = join(dir, 'alerts.yaml');
  await writeFile(file, 'a: 1\n');
  await watchFile(file);
  // each write is judged on its own: the next one waits until the watcher has looked at the file
  let looked = nextLook();
  await writeFile(join(dir, 'notes.txt'), 'hello\n');
  await looked;
  looked = nextLook();
  await writeFile(file, 'a: 1\n');
  await looked;
  await writeFile(file, 'a: 3\n');
  while (!seen.includes('a: 3\n')) await nextChange();
  expect(seen).toEqual(['a: 3\n']);
});

test('reports a removed file as a change (the reload then says it is missing)', async () => {
  const file = join(dir, 'alerts.yaml');
  await writeFile(file, 'a: 1\n');
  await watchFile(file);
  const changed = nextChange();
  await rm(file);
  await changed;
  expect(seen).toEqual(['<missing>']);
});
