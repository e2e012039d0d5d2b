// What every storage driver must do, whatever it keeps values in: run by drivers.test.ts against
// each driver. A driver passes when two instances over the same place behave as one storage.
import { describe, expect, test } from 'vitest';
import { StoredValueError, type Codec, type Storage } from '../../src/storage/storage.js';

export interface DriverUnderTest {
  readonly name: string;
  /** a fresh, empty place, and a way to open further instances of the driver over it */
  setUp(): Promise<{ open(): Storage; tearDown(): Promise<void> }>;
}

interface Counter {
  readonly n: number;
}

/** Accepts only {"n": <integer>}: anything else is refused, as a real key's codec refuses a damaged value. */
const counter: Codec<Counter> = {
  parse(text) {
    const data = JSON.parse(text) as unknown;
    if (typeof data !== 'object' || data === null || !Number.isInteger((data as Counter).n)) throw new Error('not a counter');
    return { n: (data as Counter).n };
  },
  serialize: (value) => JSON.stringify(value),
};

/** Stores any text as it is: plants what a damaged or foreign value would look like. */
const text: Codec<string> = { parse: (value) => value, serialize: (value) => value };

const increment = (current: Counter | undefined): Counter => ({ n: (current?.n ?? 0) + 1 });

export function storageConformance(driver: DriverUnderTest): void {
  describe(`${driver.name} storage`, () => {
    async function withPlace(run: (open: () => Storage) => Promise<void>): Promise<void> {
      const place = await driver.setUp();
      try {
        await run(place.open);
      } finally {
        await place.tearDown();
      }
    }

    test('a key without a value reads as undefined', () =>
      withPlace(async (open) => {
        expect(await open().read('state.json', counter)).toBeUndefined();
      }));

    test('an update creates the value, returns it, and a read (of another instance too) sees it', () =>
      withPlace(async (open) => {
        const storage = open();
        expect(await storage.update('state.json', counter, (current) => (expect(current).toBeUndefined(), { n: 7 }))).toEqual({ n: 7 });
        expect(await storage.read('state.json', counter)).toEqual({ n: 7 });
        expect(await open().read('state.json', counter)).toEqual({ n: 7 });
      }));

    test('an update sees the previous value; an async change works the same', () =>
      withPlace(async (open) => {
        const storage = open();
        await storage.update('state.json', counter, increment);
        const seen: Array<Counter | undefined> = [];
        await storage.update('state.json', counter, async (current) => {
          seen.push(current);
          await new Promise((resolve) => setImmediate(resolve));
          return increment(current);
        });
        expect(seen).toEqual([{ n: 1 }]);
        expect(await storage.read('state.json', counter)).toEqual({ n: 2 });
      }));

    test('keys are independent', () =>
      withPlace(async (open) => {
        const storage = open();
        await storage.update('state.json', counter, () => ({ n: 1 }));
        await storage.update('langfuse-budget.json', counter, () => ({ n: 2 }));
        expect(await storage.read('state.json', counter)).toEqual({ n: 1 });
        expect(await storage.read('langfuse-budget.json', counter)).toEqual({ n: 2 });
      }));

    test('concurrent updates from two instances over the same place lose no write', () =>
      withPlace(async (open) => {
        const instances = [open(), open()];
        const slowIncrement = async (current: Counter | undefined) => {
          // yield between read and write: a storage without a lock would lose updates here
          await new Promise((resolve) => setImmediate(resolve));
          return increment(current);
        };
        await Promise.all(Array.from({ length: 20 }, (_, i) => instances[i % 2]!.update('state.json', counter, slowIncrement)));
        expect(await instances[0]!.read('state.json', counter)).toEqual({ n: 20 });
      }));

    test('a change that throws writes nothing, and the next update goes ahead', () =>
      withPlace(async (open) => {
        const storage = open();
        await storage.update('state.json', counter, () => ({ n: 1 }));
        await expect(storage.update('state.json', counter, () => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
        await expect(storage.update('state.json', counter, () => { throw new Error('bang'); })).rejects.toThrow('bang');
        expect(await storage.read('state.json', counter)).toEqual({ n: 1 });
        expect(await open().update('state.json', counter, increment)).toEqual({ n: 2 });
      }));

    test('a value its codec refuses is a StoredValueError naming the key, on read and on update, and stays as it was', () =>
      withPlace(async (open) => {
        const storage = open();
        await storage.write('state.json', text, '{"n": "seven"}');
        const refused = await storage.read('state.json', counter).catch((error: unknown) => error);
        expect(refused).toBeInstanceOf(StoredValueError);
        expect((refused as StoredValueError).key).toBe('state.json');
        expect((refused as StoredValueError).message).toContain('state.json');
        expect((refused as StoredValueError).message).toContain('not a counter');
        await expect(storage.update('state.json', counter, increment)).rejects.toThrow(StoredValueError);
        expect(await storage.read('state.json', text)).toBe('{"n": "seven"}');
      }));

    test('write replaces a value without reading it, even one its codec would refuse', () =>
      withPlace(async (open) => {
        const storage = open();
        await storage.write('langfuse-cache.json', text, 'garbage');
        await storage.write('langfuse-cache.json', counter, { n: 3 });
        expect(await open().read('langfuse-cache.json', counter)).toEqual({ n: 3 });
      }));

    test('a value moved aside is kept elsewhere and the key is empty; nothing to move is null', () =>
      withPlace(async (open) => {
        const storage = open();
        expect(await storage.moveAside('state.json')).toBeNull();
        await storage.write('state.json', text, 'damaged');
        const movedTo = await storage.moveAside('state.json');
        expect(movedTo).toEqual(expect.stringContaining('state.json.corrupt-'));
        expect(await storage.read('state.json', text)).toBeUndefined();
        expect(await storage.moveAside('state.json')).toBeNull();
        expect(await storage.update('state.json', counter, increment)).toEqual({ n: 1 });
      }));

    test('a fresh place can be proved writable', () =>
      withPlace(async (open) => {
        await expect(open().probe()).resolves.toBeUndefined();
      }));
  });
}
