// A lock on the state directory, held only while state is read, changed and written. It is a
// lease with an expiry time rather than a process id: in a container every restart is PID 1, and
// a lock left by a killed process must expire on its own instead of blocking the next start.
import { randomUUID } from 'node:crypto';
import { link, readdir, readFile, stat, unlink, writeFile } from 'node:fs/promises';
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
  /** waits between polls (injectable for tests) */
  readonly sleep?: (ms: number) => Promise<void>;
}

interface LockContent {
  readonly owner: string;
  readonly expiresAt: number;
}

interface Holder extends LockContent {
  /** the lock file's modification time: when it was written */
  readonly writtenAt: number;
}

export async function withStateLock<T>(dir: string, fn: () => Promise<T>, options: LockOptions = {}): Promise<T> {
  const file = join(dir, LOCK_FILE);
  const clock = options.clock ?? Date.now;
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  const leaseMs = options.leaseMs ?? 30_000;
  const giveUpAt = clock() + (options.waitMs ?? 10_000);
  const owner = randomUUID();
  for (;;) {
    if (await tryCreate(file, { owner, expiresAt: clock() + leaseMs })) break;
    const holder = await readHolder(file);
    // released between our create and this read: try again, and never unlink what may be a new holder's
    if (holder === 'gone') continue;
    const expiresAt = holder === null ? null : leaseEnd(file, holder, clock(), leaseMs);
    if (expiresAt === null || expiresAt < clock()) {
      // Expired or unreadable (a crash while writing it): take it over. Two takers racing here
      // both unlink, and only one of them wins the exclusive create that follows.
      tooFarAhead.delete(file);
      await unlink(file).catch(() => {});
      continue;
    }
    if (clock() >= giveUpAt) {
      throw new StateLockError(
        `the state directory ${dir} is locked by another spend-alerts process (lease until ${new Date(expiresAt).toISOString()})`,
      );
    }
    await sleep(options.pollMs ?? 25);
  }
  try {
    await removeStaleTemps(dir, clock(), leaseMs);
    return await fn();
  } finally {
    const holder = await readHolder(file);
    if (holder !== null && holder !== 'gone' && holder.owner === owner) await unlink(file).catch(() => {});
  }
}

/** Per lock file, a lease found running further ahead than any lease is long, and when this process first saw it. */
const tooFarAhead = new Map<string, { readonly owner: string; readonly seenAt: number }>();

/**
 * When the holder's lease ends. A lease never runs further ahead than leaseMs from when it was
 * written; one that does was written by a clock that was ahead (and has since been set back) or
 * is a damaged file: it lasts at most leaseMs from when it was written (the file's time) or from
 * when this process first saw it, so it can't block the directory for good.
 */
function leaseEnd(file: string, holder: Holder, now: number, leaseMs: number): number {
  if (holder.expiresAt <= now + leaseMs) return holder.expiresAt;
  let seen = tooFarAhead.get(file);
  if (seen?.owner !== holder.owner) {
    seen = { owner: holder.owner, seenAt: now };
    tooFarAhead.set(file, seen);
  }
  return Math.min(holder.writtenAt, seen.seenAt) + leaseMs;
}

/**
 * Temp files `state.lock.<owner>` live only while their owner tries to take the lock; one older
 * than a lease was left by a process killed right then.
 */
async function removeStaleTemps(dir: string, now: number, leaseMs: number): Promise<void> {
  const names = await readdir(dir).catch(() => [] as string[]);
  for (const name of names.filter((n) => n.startsWith(`${LOCK_FILE}.`))) {
    const path = join(dir, name);
    const info = await stat(path).catch(() => null);
    if (info !== null && now - info.mtimeMs > leaseMs) await unlink(path).catch(() => {});
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

/** The lock's holder; null when the file can't be read as one (damaged), 'gone' when there is none. */
async function readHolder(file: string): Promise<Holder | null | 'gone'> {
  let text: string;
  let writtenAt: number;
  try {
    [text, writtenAt] = await Promise.all([readFile(file, 'utf8'), stat(file).then((info) => info.mtimeMs)]);
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'gone' : null;
  }
  try {
    const content = JSON.parse(text) as Partial<LockContent>;
    return typeof content.owner === 'string' && typeof content.expiresAt === 'number'
      ? { owner: content.owner, expiresAt: content.expiresAt, writtenAt }
      : null;
  } catch {
    return null;
  }
}
