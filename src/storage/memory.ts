// The in-memory driver: values kept as the codec's text (so every read is validated, as from a
// file), in a space that several instances can share like processes share a state directory.
import { StoredValueError, type Codec, type Storage } from './storage.js';

/** What instances of the memory driver share: the values, and each key's turn for updates. */
export interface MemorySpace {
  readonly values: Map<string, string>;
  readonly turns: Map<string, Promise<unknown>>;
}

export function memorySpace(): MemorySpace {
  return { values: new Map(), turns: new Map() };
}

export function memoryStorage(space: MemorySpace = memorySpace()): Storage {
  const location = 'memory';

  /** Runs `change` once every earlier change of the key is done: the driver's lock. */
  function inTurn<T>(key: string, change: () => Promise<T>): Promise<T> {
    const turn = (space.turns.get(key) ?? Promise.resolve()).then(change);
    space.turns.set(key, turn.catch(() => {}));
    return turn;
  }

  async function read<T>(key: string, codec: Codec<T>): Promise<T | undefined> {
    const text = space.values.get(key);
    if (text === undefined) return undefined;
    try {
      return codec.parse(text);
    } catch (error) {
      throw new StoredValueError(key, location, error);
    }
  }

  return {
    location,
    read,
    update: (key, codec, fn) =>
      inTurn(key, async () => {
        const next = await fn(await read(key, codec));
        space.values.set(key, codec.serialize(next));
        return next;
      }),
    write: (key, codec, value) => inTurn(key, async () => void space.values.set(key, codec.serialize(value))),
    async moveAside(key) {
      const text = space.values.get(key);
      if (text === undefined) return null;
      let n = 1;
      while (space.values.has(`${key}.corrupt-${n}`)) n += 1;
      const movedTo = `${key}.corrupt-${n}`;
      space.values.set(movedTo, text);
      space.values.delete(key);
      return movedTo;
    },
    async probe() {},
  };
}
