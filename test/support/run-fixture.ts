// A `spend-alerts run` process per test, against a fresh fake Langfuse ($3 on gpt-4o, $2 on
// claude-sonnet-4 in the last day), a webhook receiver and a temporary directory for its config
// and state, on a seconds-level schedule.
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach } from 'vitest';
import { startFakeLangfuse, type FakeLangfuse } from '../../tools/fake-langfuse/server.js';
import { sleep, type Sleep } from '../../src/util/backoff.js';
import { freePort, spend, startCli, type CliProcess } from './cli-process.js';
import { startHttpReceiver, type HttpReceiver } from './http-receiver.js';

export const METRICS_PATH = '/api/public/v2/metrics';
// not a word that appears elsewhere: the path of a webhook URL is redacted from logs
export const HOOK = '/hook-7f3a9c';

export const BUDGET = `  - name: budget
    window: 24h
    threshold: 4
    channels: [hook]
`;

export interface RunFixture {
  readonly dir: string;
  readonly fake: FakeLangfuse;
  readonly receiver: HttpReceiver;
  /** the process started by run() */
  readonly daemon: CliProcess;
  /**
   * How the fake waits out its `delay` faults: a real timer unless the test sets its own, to hold
   * an answer until an event or to watch which requests are in flight.
   */
  fakeSleep: Sleep;
  /**
   * Makes the fake hold the answers of its `delay` faults; resolves once one is held, with the
   * function that lets it go.
   */
  holdDelays(): Promise<() => void>;
  /** alerts.yaml around the given `alerts:` entries */
  config(alerts: string): string;
  /** writes alerts.yaml and starts `run` on a free port, with `args` after the others */
  run(text: string, args?: readonly string[]): Promise<{ port: number; configFile: string }>;
  get(port: number, path: string): Promise<{ status: number; body: string }>;
  /** resolves once /healthz answers (the server starts before the first evaluation) */
  listening(port: number): Promise<void>;
  state(): Promise<{ series: Record<string, { notified: string[] }>; outbox: object; evaluations: Array<{ ok: boolean }> }>;
  /** webhook requests received */
  hooks(): Array<{ json: unknown }>;
}

/** Registers the hooks; the returned object is valid inside tests. */
export function useRunFixture(): RunFixture {
  let dir: string;
  let fake: FakeLangfuse;
  let receiver: HttpReceiver;
  let daemon: CliProcess | undefined;
  let fakeSleep: Sleep;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'spend-alerts-run-'));
    fakeSleep = sleep;
    fake = await startFakeLangfuse({
      observations: [spend('a', 3), spend('b', 2, { providedModelName: 'claude-sonnet-4' })],
      sleep: (ms, signal) => fakeSleep(ms, signal),
    });
    receiver = await startHttpReceiver();
  });

  afterEach(async () => {
    await daemon?.kill();
    daemon = undefined;
    await fake.close();
    await receiver.close();
    await rm(dir, { recursive: true, force: true });
  });

  const get = async (port: number, path: string): Promise<{ status: number; body: string }> => {
    const response = await fetch(`http://127.0.0.1:${port}${path}`);
    return { status: response.status, body: await response.text() };
  };

  return {
    get dir() {
      return dir;
    },
    get fake() {
      return fake;
    },
    get receiver() {
      return receiver;
    },
    get daemon() {
      if (daemon === undefined) throw new Error('run() was not called');
      return daemon;
    },
    get fakeSleep() {
      return fakeSleep;
    },
    set fakeSleep(replacement) {
      fakeSleep = replacement;
    },
    holdDelays: () =>
      new Promise((resolve) => {
        fakeSleep = () => new Promise((wake) => resolve(() => wake()));
      }),
    config: (alerts) => `langfuse:
  baseUrl: ${fake.url}
  publicKey: ${fake.publicKey}
  secretKey: ${fake.secretKey}
schedule: "*/2 * * * * *"
channels:
  hook:
    type: webhook
    url: ${receiver.url(HOOK)}
alerts:
${alerts}`,
    async run(text, args = []) {
      const configFile = join(dir, 'alerts.yaml');
      await writeFile(configFile, text);
      const port = await freePort();
      daemon = startCli({ args: ['run', '--config', configFile, '--state-dir', join(dir, 'state'), '--port', String(port), ...args] });
      return { port, configFile };
    },
    get,
    async listening(port) {
      for (;;) {
        try {
          await get(port, '/healthz');
          return;
        } catch {
          if (daemon!.child.exitCode !== null) throw new Error(`run exited: ${daemon!.plainStderr.join('\n')}`);
          await new Promise((resolve) => setTimeout(resolve, 50));
        }
      }
    },
    state: async () => JSON.parse(await readFile(join(dir, 'state', 'state.json'), 'utf8')),
    hooks: () => receiver.requests.filter((r) => r.path === HOOK),
  };
}
