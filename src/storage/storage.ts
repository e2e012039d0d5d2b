// Where the worker keeps what must outlive a process: a few named values (keys), each read whole
// and changed whole. Today one file per key in the state directory (file.ts), or memory for tests
// (memory.ts).
//
// The interface is shaped so that a shared driver can be added later without touching the callers:
// - `update` is the only read-modify-write, and it is over ONE key. The driver owns the locking:
//   the file driver takes the state directory's lease lock; a Postgres driver would run the read,
//   `fn` and the write in one transaction with `SELECT … FOR UPDATE` on the key's row; a Redis
//   driver would WATCH the key and write with MULTI/EXEC (retrying `fn` when the key changed), or
//   run a Lua script. `fn` may therefore run more than once and must not have side effects beyond
//   computing the next value; it must not call the same storage (a driver may hold a lock).
// - `write` replaces a value without reading it (a cache written whole): an upsert, or SET.
// - Values are text produced and checked by a codec, so every read is validated and a driver
//   stores opaque strings (a text column, a Redis string, a file).

/** Turns a key's value into text and back. `parse` throws on text that isn't a valid value. */
export interface Codec<T> {
  readonly parse: (text: string) => T;
  readonly serialize: (value: T) => string;
}

export interface Storage {
  /** where the values are kept (a directory, a database): for messages */
  readonly location: string;
  /** The key's value; undefined when it has none. Throws StoredValueError when the codec refuses it. */
  read<T>(key: string, codec: Codec<T>): Promise<T | undefined>;
  /**
   * Replaces the key's value by `fn(current)`, atomically with respect to every other update of the
   * key, in this process or another; returns the new value. When `fn` throws, nothing is written.
   */
  update<T>(key: string, codec: Codec<T>, fn: (current: T | undefined) => T | Promise<T>): Promise<T>;
  /** Replaces the key's value without reading it. */
  write<T>(key: string, codec: Codec<T>, value: T): Promise<void>;
  /**
   * Moves a value that can't be read out of the way, keeping it for a person to look at; returns
   * where it went, or null when the key had no value.
   */
  moveAside(key: string): Promise<string | null>;
  /** Proves the storage can be written: a clear error at start-up instead of a late one. */
  probe(): Promise<void>;
}

/** A stored value the key's codec refused (damaged, another version, a hand edit gone wrong). */
export class StoredValueError extends Error {
  override name = 'StoredValueError';

  constructor(
    readonly key: string,
    readonly location: string,
    override readonly cause: unknown,
  ) {
    super(`the stored ${key} in ${location} can't be read: ${cause instanceof Error ? cause.message : String(cause)}`);
  }
}

/** The storage itself failed (not writable, not reachable); names where, never a value. */
export class StateDirError extends Error {
  override name = 'StateDirError';
}

