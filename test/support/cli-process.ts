// The real command line as a child process (`node --import tsx src/cli/bin.ts …`, on the Node that
// runs the tests), with its JSON log lines parsed as they arrive, so tests can wait for what the
// daemon says it did and signal it like a container runtime would.
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import type { FakeObservation } from '../../tools/fake-langfuse/server.js';
import { spend as generation } from './observations.js';

export const REPO = fileURLToPath(new URL('../../', import.meta.url));
const BIN = 'src/cli/bin.ts';
// by path, so that a process started in another working directory (its own .env) finds it too
const TSX = `${REPO}node_modules/tsx/dist/loader.mjs`;

export type LogLine = Record<string, unknown> & { level: string; msg: string; time: string };

export interface CliProcess {
  readonly child: ChildProcess;
  /** every JSON log line so far */
  readonly logs: LogLine[];
  /** stderr lines that are not JSON (errors printed by the CLI before a logger exists) */
  readonly plainStderr: string[];
  readonly stdout: () => string;
  /** resolves with the first log line (from now on or already seen) that `predicate` accepts */
  waitForLog(predicate: (line: LogLine) => boolean, what: string, timeoutMs?: number): Promise<LogLine>;
  /** resolves once `count` lines accepted by `predicate` were seen */
  waitForLogs(predicate: (line: LogLine) => boolean, count: number, what: string, timeoutMs?: number): Promise<LogLine[]>;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** SIGKILL if still running; for afterEach */
  kill(): Promise<void>;
}

export interface CliOptions {
  readonly args: readonly string[];
  readonly env?: Readonly<Record<string, string | undefined>>;
  readonly cwd?: string;
}

const BASE_ENV_DROP = /^(HTTPS?_PROXY|NO_PROXY|ALL_PROXY|LOG_LEVEL|LOG_FORMAT|PORT|HOST|SPEND_ALERTS_.*|LANGFUSE_.*)$/i;

export function startCli(options: CliOptions): CliProcess {
  const env: Record<string, string> = {};
  for (const [name, value] of Object.entries(process.env)) {
    if (value !== undefined && !BASE_ENV_DROP.test(name)) env[name] = value;
  }
  for (const [name, value] of Object.entries(options.env ?? {})) {
    if (value === undefined) delete env[name];
    else env[name] = value;
  }
  const child = spawn(process.execPath, ['--import', TSX, `${REPO}${BIN}`, ...options.args], {
    cwd: options.cwd ?? REPO,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const logs: LogLine[] = [];
  const plainStderr: string[] = [];
  let stdout = '';
  const watchers = new Set<() => void>();
  let buffered = '';
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
    stdout += chunk;
  });
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
    buffered += chunk;
    const lines = buffered.split('\n');
    buffered = lines.pop() ?? '';
    for (const line of lines) {
      if (line.trim() === '') continue;
      try {
        logs.push(JSON.parse(line) as LogLine);
      } catch {
        plainStderr.push(line);
      }
    }
    for (const notify of [...watchers]) notify();
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once('exit', (code, signal) => {
      for (const notify of [...watchers]) notify();
      resolve({ code, signal });
    });
  });

  const waitForLogs = (
    predicate: (line: LogLine) => boolean,
    count: number,
    what: string,
    timeoutMs = 15_000,
  ): Promise<LogLine[]> =>
    new Promise((resolve, reject) => {
      const check = (): boolean => {
        const found = logs.filter(predicate);
        if (found.length >= count) {
          finish();
          resolve(found.slice(0, count));
          return true;
        }
        if (child.exitCode !== null || child.signalCode !== null) {
          finish();
          reject(new Error(`the process exited before ${what}; its log:\n${describe(logs, plainStderr)}`));
          return true;
        }
        return false;
      };
      const timer = setTimeout(() => {
        finish();
        reject(new Error(`timed out waiting for ${what}; the log so far:\n${describe(logs, plainStderr)}`));
      }, timeoutMs);
      const finish = (): void => {
        clearTimeout(timer);
        watchers.delete(notify);
      };
      const notify = (): void => void check();
      watchers.add(notify);
      check();
    });

  return {
    child,
    logs,
    plainStderr,
    stdout: () => stdout,
    waitForLogs,
    waitForLog: async (predicate, what, timeoutMs) => (await waitForLogs(predicate, 1, what, timeoutMs))[0]!,
    exited,
    async kill() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
    },
  };
}

function describe(logs: readonly LogLine[], plain: readonly string[]): string {
  return [...logs.map((line) => `  ${line.level}: ${line.msg}`), ...plain.map((line) => `  ${line}`)].join('\n');
}

/** A port nothing listens on right now (`run` has no --port 0). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

/** One priced generation `hoursAgo` before now, for a fake Langfuse, with a chosen id. */
export function spend(id: string, usd: number, fields: Partial<FakeObservation> = {}, hoursAgo = 1): FakeObservation {
  const at = new Date(Date.now() - hoursAgo * 3_600_000);
  return { ...generation(at, usd), id, traceId: `tr-${id}`, inputTokens: 100, outputTokens: 20, ...fields };
}

/** Evaluation summary lines of `run`. */
export const isEvaluation = (line: LogLine): boolean => line['event'] === 'evaluation';
