// The state file on disk: one small JSON document written atomically (temp file, fsync, rename,
// fsync of the directory) so a crash leaves either the old or the new state, never half of one.
import { mkdir, open, readFile, rename, rm } from 'node:fs/promises';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { emptyState, parseState, type State } from './state.js';

export const STATE_FILE = 'state.json';

export class StateDirError extends Error {
  override name = 'StateDirError';
}

export class StateStore {
  readonly file: string;

  constructor(readonly dir: string) {
    this.file = join(dir, STATE_FILE);
  }

  async load(): Promise<State> {
    let text: string;
    try {
      text = await readFile(this.file, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return emptyState();
      throw new StateDirError(`cannot read ${this.file}: ${(error as Error).message}`);
    }
    return parseState(text);
  }

  async save(state: State): Promise<void> {
    try {
      await mkdir(this.dir, { recursive: true });
    } catch (error) {
      throw new StateDirError(`cannot create the state directory ${this.dir}: ${(error as Error).message}`);
    }
    const temp = `${this.file}.${randomUUID()}.tmp`;
    try {
      const handle = await open(temp, 'w', 0o600);
      try {
        await handle.writeFile(JSON.stringify(state, null, 2) + '\n');
        await handle.sync();
      } finally {
        await handle.close();
      }
      await rename(temp, this.file);
      await syncDirectory(this.dir);
    } catch (error) {
      await rm(temp, { force: true });
      throw new StateDirError(`cannot write ${this.file}: ${(error as Error).message}`);
    }
  }
}

async function syncDirectory(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } catch {
    // some file systems refuse fsync on directories; the rename is still atomic there
  } finally {
    await handle.close();
  }
}
