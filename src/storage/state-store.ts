// The state file on disk: one small JSON document written atomically (temp file, fsync, rename,
// fsync of the directory) so a crash leaves either the old or the new state, never half of one.
// Every change is a read-modify-write under the directory lock, so a `check` next to a running
// daemon can't overwrite what the daemon recorded.
import { randomUUID } from 'node:crypto';
import { access, mkdir, readFile, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic } from './atomic-write.js';
import { withStateLock, type LockOptions } from './lock.js';
import { emptyState, parseState, StateCorruptError, type State } from '../core/ledger.js';

export const STATE_FILE = 'state.json';

export class StateDirError extends Error {
  override name = 'StateDirError';
}

/** A damaged state file that was moved aside so the worker could go on. */
export interface StateRecovery {
  readonly movedTo: string;
  readonly reason: string;
}

export interface StateStoreOptions extends LockOptions {
  /** told when a damaged file was moved aside */
  readonly onRecovery?: (recovery: StateRecovery) => void;
  /** a dry run: a damaged file is read as empty but left where it is */
  readonly readOnly?: boolean;
}

export class StateStore {
  readonly file: string;
  private updates: Promise<unknown> = Promise.resolve();

  constructor(
    readonly dir: string,
    private readonly options: StateStoreOptions = {},
  ) {
    this.file = join(dir, STATE_FILE);
  }

  /** Creates the directory and proves it writable: a clear start-up error instead of a late one. */
  async ensureWritable(): Promise<void> {
    const probe = join(this.dir, `.write-test-${randomUUID()}`);
    try {
      await mkdir(this.dir, { recursive: true });
      await writeFileAtomic(probe, '');
      await rm(probe, { force: true });
    } catch (error) {
      throw new StateDirError(`the state directory ${this.dir} is not writable: ${reason(error)}`);
    }
  }

  /** Reads without the lock: for status, dry runs and the start of an evaluation. */
  async load(): Promise<State> {
    let text: string;
    try {
      text = await readFile(this.file, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return emptyState();
      throw new StateDirError(`cannot read ${this.file}: ${reason(error)}`);
    }
    try {
      return parseState(text);
    } catch (error) {
      if (!(error instanceof StateCorruptError)) throw error;
      return this.moveAside(error.message);
    }
  }

  /** Applies `change` to the current file content under the lock and writes the result. */
  async update(change: (state: State) => State): Promise<State> {
    await this.ensureDir();
    return this.locked(change);
  }

  /**
   * Like update, when a state file exists; else changes nothing and returns null. Never creates
   * the directory or the file (test-notify where no worker keeps state).
   */
  async updateExisting(change: (state: State) => State): Promise<State | null> {
    try {
      await access(this.file);
    } catch {
      return null;
    }
    return this.locked(change);
  }

  /**
   * One change at a time per store, then one per directory under the lock: channels delivering
   * concurrently record their outcomes in turn instead of polling the lock against each other.
   */
  private locked(change: (state: State) => State): Promise<State> {
    const run = this.updates.then(() =>
      withStateLock(
        this.dir,
        async () => {
          const next = change(await this.load());
          await this.write(next);
          return next;
        },
        this.options,
      ),
    );
    this.updates = run.catch(() => {});
    return run;
  }

  private async moveAside(why: string): Promise<State> {
    if (this.options.readOnly) return emptyState();
    const movedTo = `${this.file}.corrupt-${randomUUID().slice(0, 8)}`;
    try {
      await rename(this.file, movedTo);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') {
        throw new StateDirError(`cannot move the damaged ${this.file} aside: ${reason(error)}`);
      }
    }
    this.options.onRecovery?.({ movedTo, reason: why });
    return emptyState();
  }

  private async ensureDir(): Promise<void> {
    try {
      await mkdir(this.dir, { recursive: true });
    } catch (error) {
      throw new StateDirError(`cannot create the state directory ${this.dir}: ${reason(error)}`);
    }
  }

  private async write(state: State): Promise<void> {
    try {
      await writeFileAtomic(this.file, JSON.stringify(state, null, 2) + '\n');
    } catch (error) {
      throw new StateDirError(`cannot write ${this.file}: ${reason(error)}`);
    }
  }
}

function reason(error: unknown): string {
  const code = (error as NodeJS.ErrnoException).code;
  return code ? `${code}` : (error as Error).message;
}
