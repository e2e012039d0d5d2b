// Noticing that alerts.yaml changed. The directory is watched, not the file: editors save by writing
// a new file and renaming it over the old one, and a Kubernetes ConfigMap volume swaps a `..data`
// symlink, so a watch on the file itself would keep watching an inode nobody reads any more. Events
// are debounced (one save is several events) and only a change of the file's bytes is reported, so
// unrelated files in the same directory and no-op swaps cause no reload.
import { watch, type FSWatcher } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createHash } from 'node:crypto';
import { dirname } from 'node:path';

export interface ConfigWatcher {
  close(): void;
}

export interface WatchOptions {
  /** the config file, absolute */
  readonly file: string;
  /** called once the file's content differs from what it was (a missing file is a content too) */
  readonly onChange: () => void;
  readonly onError: (error: Error) => void;
  readonly debounceMs?: number;
  /** called after each debounced look at the file, changed or not: what tests wait on */
  readonly onChecked?: () => void;
}

export async function watchConfigFile(options: WatchOptions): Promise<ConfigWatcher> {
  const debounceMs = options.debounceMs ?? 300;
  let known = await fingerprint(options.file);
  let timer: NodeJS.Timeout | undefined;
  let closed = false;

  const check = async (): Promise<void> => {
    const now = await fingerprint(options.file);
    if (closed || now === known) return;
    known = now;
    options.onChange();
  };
  const schedule = (): void => {
    clearTimeout(timer);
    timer = setTimeout(() => {
      check().then(options.onChecked, (error: unknown) => options.onError(error instanceof Error ? error : new Error(String(error))));
    }, debounceMs);
  };

  let watcher: FSWatcher;
  try {
    watcher = watch(dirname(options.file), { persistent: false }, schedule);
  } catch (error) {
    throw new Error(`cannot watch ${dirname(options.file)} for changes: ${(error as Error).message}`);
  }
  watcher.on('error', (error) => options.onError(error));

  return {
    close() {
      closed = true;
      clearTimeout(timer);
      watcher.close();
    },
  };
}

/** A digest of the file's bytes, or a marker for why there are none. */
async function fingerprint(file: string): Promise<string> {
  try {
    return createHash('sha256').update(await readFile(file)).digest('hex');
  } catch (error) {
    return `unreadable:${(error as NodeJS.ErrnoException).code ?? 'error'}`;
  }
}
