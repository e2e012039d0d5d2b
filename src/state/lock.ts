// A lock on the state directory, held only while state is read, changed and written. It is a
// lease with an expiry time rather than a process id: in a container every restart is PID 1, and
// a lock left by a killed process must expire on its own instead of blocking the next start.
import { randomUUID } from 'node:crypto';
import { link, readFile, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

export const LOCK_FILE = 'state.lock';

export class StateLockError extends Error {
  override name = 'StateLockError';
}

export interface LockOptions {
  /** how long a holder may keep the lock before others may take it over */
  readonly leaseMs?: number;
  /** how long to wait for a lock held by someone else */
  readonly waitMs?: number;
  readonly pollMs?: number;
  /** wall clock for lease times (injectable for tests) */
  readonly clock?: () => number;
}

interface LockContent {
  readonly owner: string;
  readonly expiresAt: number;
}

export async function withStateLock<T>(dir: string, fn: () => Promise<T>, options: LockOptions = {}): Promise<T> {
  const file = join(dir, LOCK_FILE);
  const clock = options.clock ?? Date.now;
  const leaseMs = options.leaseMs ?? 30_000;
  const giveUpAt = clock() + (options.waitMs ?? 10_000);
  const owner = randomUUID();
  for (;;) {
    if (await tryCreate(file, { owner, expiresAt: clock() + leaseMs })) break;
    const holder = await readHolder(file);
    if (holder === null || holder.expiresAt < clock()) {
      // Expired or unreadable (a crash while writing it): take it over. Two takers racing here
      // both unlink, and only one of them wins the exclusive create that follows.
      await unlink(file).catch(() => {});
      continue;
    }
    if (clock() >= giveUpAt) {
      throw new StateLockError(
        `the state directory ${dir} is locked by another spend-alerts process (lease until ${new Date(holder.expiresAt).toISOString()})`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, options.pollMs ?? 25));
  }
  try {
    return await fn();
  } finally {
    const holder = await readHolder(file);
    if (holder?.owner === owner) await unlink(file).catch(() => {});
  }
}

/** The lock file appears with its content at once (link of a written temp file), never empty. */
async function tryCreate(file: string, content: LockContent): Promise<boolean> {
  const temp = `${file}.${content.owner}`;
  await writeFile(temp, JSON.stringify(content), { mode: 0o600 });
  try {
    await link(temp, file);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw error;
  } finally {
    await unlink(temp).catch(() => {});
  }
}

async function readHolder(file: string): Promise<LockContent | null> {
  try {
    const content = JSON.parse(await readFile(file, 'utf8')) as Partial<LockContent>;
    return typeof content.owner === 'string' && typeof content.expiresAt === 'number'
      ? { owner: content.owner, expiresAt: content.expiresAt }
      : null;
  } catch {
    return null;
  }
}
