// The saved state (the ledger, core/ledger.ts) as one key of a Storage: read before an evaluation,
// changed by read-modify-write updates that the storage serialises against every other process.
// A damaged value is moved aside so the worker can go on; one of an unknown version is refused.
import { join } from 'node:path';
import { emptyState, parseState, serializeState, StateCorruptError, type State } from '../core/ledger.js';
import { fileStorage } from './file.js';
import type { LockOptions } from './lock.js';
import { StoredValueError, type Codec, type Storage } from './storage.js';

export { StateDirError } from './storage.js';

export const STATE_FILE = 'state.json';

const stateCodec: Codec<State> = { parse: parseState, serialize: serializeState };
/** Reads any stored value as `true`, checking nothing: never written with. */
const presence: Codec<true> = { parse: () => true, serialize: () => 'true' };

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
  /** where the state is kept; default the file driver over `dir` */
  readonly storage?: Storage;
}

export class StateStore {
  readonly file: string;
  private readonly storage: Storage;

  constructor(
    readonly dir: string,
    private readonly options: StateStoreOptions = {},
  ) {
    this.file = join(dir, STATE_FILE);
    this.storage = options.storage ?? fileStorage(dir, options);
  }

  /** Creates the directory and proves it writable: a clear start-up error instead of a late one. */
  ensureWritable(): Promise<void> {
    return this.storage.probe();
  }

  /** Reads without the lock: for status, dry runs and the start of an evaluation. */
  async load(): Promise<State> {
    try {
      return (await this.storage.read(STATE_FILE, stateCodec)) ?? emptyState();
    } catch (error) {
      return this.recover(error);
    }
  }

  /** Applies `change` to the current content under the storage's lock and writes the result. */
  async update(change: (state: State) => State): Promise<State> {
    try {
      return await this.storage.update(STATE_FILE, stateCodec, (current) => change(current ?? emptyState()));
    } catch (error) {
      // damaged: moved aside (as load does), then the change is applied to an empty state
      await this.recover(error);
      return this.storage.update(STATE_FILE, stateCodec, (current) => change(current ?? emptyState()));
    }
  }

  /**
   * Like update, when a state exists; else changes nothing and returns null. Never creates the
   * directory or the file (test-notify where no worker keeps state).
   */
  async updateExisting(change: (state: State) => State): Promise<State | null> {
    // whether there is a value at all: a damaged one counts (update moves it aside)
    const exists = await this.storage.read(STATE_FILE, presence);
    return exists ? this.update(change) : null;
  }

  /** A damaged state is moved aside (left in place by a dry run) and reads as empty; other errors are thrown. */
  private async recover(error: unknown): Promise<State> {
    if (!(error instanceof StoredValueError) || !(error.cause instanceof StateCorruptError)) {
      throw error instanceof StoredValueError ? error.cause : error;
    }
    if (this.options.readOnly) return emptyState();
    const movedTo = await this.storage.moveAside(STATE_FILE);
    // null: another process moved it aside first, and reports it
    if (movedTo !== null) this.options.onRecovery?.({ movedTo, reason: error.cause.message });
    return emptyState();
  }
}
