// The file driver: one file per key in the state directory (`state.json`, `langfuse-cache.json`,
// `langfuse-budget.json`), each written atomically (atomic-write.ts). Every write, of any key,
// happens under the directory's lease lock (lock.ts): one lock discipline for everything the
// worker keeps, so a `check` next to a running daemon can't overwrite what the daemon recorded.
// Reads take no lock: a file is always whole.
import { randomUUID } from 'node:crypto';
import { mkdir, readFile, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic } from './atomic-write.js';
import { withStateLock, type LockOptions } from './lock.js';
import { StateDirError, StoredValueError, type Codec, type Storage } from './storage.js';

/** A key is a plain file name: nothing that could point outside the directory. */
const KEY = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

export function fileStorage(dir: string, options: LockOptions = {}): Storage {
  // One change at a time per driver, then one per directory under the lock: channels recording
  // their outcomes concurrently take turns instead of polling the lock against each other.
  let queue: Promise<unknown> = Promise.resolve();
  const inTurn = <T>(run: () => Promise<T>): Promise<T> => {
    const turn = queue.then(run);
    queue = turn.catch(() => {});
    return turn;
  };

  const fileOf = (key: string): string => {
    if (!KEY.test(key)) throw new TypeError(`not a storage key: ${JSON.stringify(key)}`);
    return join(dir, key);
  };

  async function read<T>(key: string, codec: Codec<T>): Promise<T | undefined> {
    const file = fileOf(key);
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw new StateDirError(`cannot read ${file}: ${reason(error)}`);
    }
    try {
      return codec.parse(text);
    } catch (error) {
      throw new StoredValueError(key, dir, error);
    }
  }

  async function put<T>(key: string, codec: Codec<T>, value: T): Promise<void> {
    const file = fileOf(key);
    const text = codec.serialize(value);
    try {
      await writeFileAtomic(file, text);
    } catch (error) {
      throw new StateDirError(`cannot write ${file}: ${reason(error)}`);
    }
  }

  async function ensureDir(): Promise<void> {
    try {
      await mkdir(dir, { recursive: true });
    } catch (error) {
      throw new StateDirError(`cannot create the state directory ${dir}: ${reason(error)}`);
    }
  }

  const locked = async <T>(run: () => Promise<T>): Promise<T> => {
    await ensureDir();
    return inTurn(() => withStateLock(dir, run, options));
  };

  return {
    location: dir,
    read,
    update: (key, codec, fn) =>
      locked(async () => {
        const next = await fn(await read(key, codec));
        await put(key, codec, next);
        return next;
      }),
    write: (key, codec, value) => locked(() => put(key, codec, value)),
    async moveAside(key) {
      const file = fileOf(key);
      const movedTo = `${file}.corrupt-${randomUUID().slice(0, 8)}`;
      try {
        await rename(file, movedTo);
        return movedTo;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
        throw new StateDirError(`cannot move the damaged ${file} aside: ${reason(error)}`);
      }
    },
    async probe() {
      const probe = join(dir, `.write-test-${randomUUID()}`);
      try {
        await mkdir(dir, { recursive: true });
        await writeFileAtomic(probe, '');
        await rm(probe, { force: true });
      } catch (error) {
        throw new StateDirError(`the state directory ${dir} is not writable: ${reason(error)}`);
      }
    },
  };
}

function reason(error: unknown): string {
  const code = (error as NodeJS.ErrnoException).code;
  return code ? `${code}` : (error as Error).message;
}
