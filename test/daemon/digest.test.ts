// Digests in the daemon, in-process on a fake cron and clock, over real sockets: the fake Langfuse,
// a webhook receiver, a Slack receiver and an SMTP server. Each scheduled time is sent once, as its
// own message, across restarts; after downtime only the latest missed time goes out, marked late;
// `spend-alerts digest` sends now without touching the schedule's record.
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { buildGeneration } from '../../src/cli/commands/run.js';
import { main } from '../../src/cli/main.js';
import { loadConfig } from '../../src/config/load.js';
import { cleanUsd } from '../../src/core/money.js';
import { Daemon, type Generation } from '../../src/daemon/daemon.js';
import type { CronTask, StartCron } from '../../src/daemon/scheduler.js';
import { createLogger } from '../../src/log/logger.js';
import { StateStore } from '../../src/storage/state-store.js';
import { startFakeLangfuse, type FakeLangfuse } from '../../tools/fake-langfuse/server.js';
import { freePort } from '../support/cli-process.js';
import { startHttpReceiver, type HttpReceiver } from '../support/http-receiver.js';
import { spend } from '../support/observations.js';
import { startSmtpServer, type TestSmtpServer } from '../support/smtp.js';
import { barCount, darkPixels, decodePng } from '../support/png.js';

const MINUTE = 60_000;
/** the minute the tests start on: the data set lies in the days before it */
const T0 = Math.floor(Date.now() / MINUTE) * MINUTE;
const at = (minutes: number, ms = 0): Date => new Date(T0 + minutes * MINUTE + ms);
const HOSTILE_MODEL = '<!channel> gpt&4 @here';
const DATASET = [
  spend(at(-60 * 30), 12.5, { model: 'gpt-4o' }),
  spend(at(-60 * 50), 30.25, { model: HOSTILE_MODEL, userId: '<@U123>' }),
  spend(at(-60 * 80), 7.125, { model: 'claude', traceName: 'rag' }),
];
const DATASET_TOTAL = cleanUsd(12.5 + 30.25 + 7.125);

let dir: string;
let fake: FakeLangfuse;
let hook: HttpReceiver;
let slack: HttpReceiver;
let smtp: TestSmtpServer;
let now: Date;
const running: Daemon[] = [];

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'spend-alerts-digest-'));
  fake = await startFakeLangfuse({ observations: DATASET });
  hook = await startHttpReceiver();
  slack = await startHttpReceiver();
  smtp = await startSmtpServer();
  now = at(0, 10_000);
  await writeFile(
    join(dir, 'alerts.yaml'),
    `langfuse: { baseUrl: "${fake.url}", publicKey: ${fake.publicKey}, secretKey: ${fake.secretKey} }
schedule: "0 0 1 1 *"
channels:
  hook: { type: webhook, url: "${hook.url('/in')}" }
  slack: { type: slack, webhookUrl: "${slack.url('/services/T/B/X')}" }
  mail: { type: email, smtpUrl: "${smtp.url()}", from: "alerts@example.com", to: ["finance@example.com"] }
alerts:
  - { name: budget, window: day, threshold: 1000, channels: [hook] }
digests:
  - { name: minutely, schedule: "* * * * *", window: 7d, channels: [hook, slack, mail], top: 3 }
`,
  );
});

afterEach(async () => {
  for (const daemon of running.splice(0)) await daemon.stop('test over');
  await fake.close();
  await hook.close();
  await slack.close();
  await smtp.close();
  await rm(dir, { recursive: true, force: true });
});

/** A cron that fires every minute of the fake clock: `advanceTo` ticks each minute passed. */
function minuteCron() {
  const tasks: Array<{ expression: string; onTick: (moment: Date) => void; running: boolean }> = [];
  const everyMinute = (expression: string) => expression === '* * * * *';
  const startCron: StartCron = (expression, _timezone, onTick): CronTask => {
    const task = { expression, onTick, running: false };
    tasks.push(task);
    return {
      start: () => void (task.running = true),
      destroy: () => void (task.running = false),
      nextRuns: (count) => (everyMinute(expression) ? Array.from({ length: count }, (_, i) => new Date((Math.floor(now.getTime() / MINUTE) + 1 + i) * MINUTE)) : []),
      match: (moment) => everyMinute(expression) && moment.getTime() % MINUTE === 0,
    };
  };
  const fire = async (minute: number, daemon: Daemon) => {
    for (const task of tasks) if (task.running && everyMinute(task.expression)) task.onTick(new Date(minute * MINUTE));
    await daemon.digestsIdle();
  };
  return {
    startCron,
    /** ticks the moment `minutes` after T0 again, as a second process's cron would */
    refire: (minutes: number, daemon: Daemon) => fire(Math.floor(at(minutes).getTime() / MINUTE), daemon),
    async advanceTo(until: Date, daemon: Daemon) {
      for (let minute = Math.floor(now.getTime() / MINUTE) + 1; minute * MINUTE <= until.getTime(); minute += 1) {
        // the tick arrives a little after its moment, as real timers do
        now = new Date(minute * MINUTE + 120);
        await fire(minute, daemon);
      }
      now = until;
    },
  };
}

async function startDaemon(startCron: StartCron): Promise<Daemon> {
  const configFile = join(dir, 'alerts.yaml');
  const sink = new PassThrough();
  sink.resume();
  const io = { stdout: sink, stderr: sink, env: {}, cwd: dir };
  const clock = () => now;
  const load = async (onRequest: Parameters<ConstructorParameters<typeof Daemon>[0]['load']>[0]): Promise<Generation> => {
    const { config } = await loadConfig({ path: configFile, env: {}, needs: 'all' });
    const log = createLogger({ level: 'info', format: 'json', redact: (text) => text, destination: sink });
    return buildGeneration({ config, log, redact: (text) => text }, io, join(dir, 'state'), onRequest, clock);
  };
  const daemon = new Daemon({ load, configFile, store: new StateStore(join(dir, 'state')), port: await freePort(), clock, watch: false, ui: false, startCron });
  running.push(daemon);
  await daemon.start();
  await daemon.digestsIdle();
  return daemon;
}

async function stop(daemon: Daemon): Promise<void> {
  await daemon.stop('restart');
  running.splice(running.indexOf(daemon), 1);
}

interface DigestBody {
  version: string;
  id: string;
  kind: string;
  digest: string;
  report: { total: number; daily: Array<{ date: string; cost: number }>; byModel: Array<{ model: string | null }> };
  delayedSince?: string;
}
const digestBodies = (): DigestBody[] => hook.requests.map((r) => r.json as DigestBody).filter((body) => body.kind === 'digest');
const idFor = (minutes: number): string => `digest|minutely|${at(minutes).toISOString()}`;

describe('digests in the daemon', () => {
  test('every channel gets the digest as its own message: the webhook body with the data set total, Slack a sparkline, email text and HTML', async () => {
    const cron = minuteCron();
    const daemon = await startDaemon(cron.startCron);
    await cron.advanceTo(at(1, 30_000), daemon);

    const [body, ...others] = digestBodies();
    expect(others).toEqual([]);
    expect(Object.keys(body!)).toEqual(['version', 'id', 'kind', 'digest', 'report']);
    expect(body).toMatchObject({ version: '1', id: idFor(1), kind: 'digest', digest: 'minutely' });
    expect(body!.report.total).toBe(DATASET_TOTAL);
    expect(body!.report.daily).toHaveLength(8);
    // ranked by cost, cut to top 3: the hostile name travels as data in JSON
    expect(body!.report.byModel.map((m) => m.model)).toEqual([HOSTILE_MODEL, 'gpt-4o', 'claude']);

    expect(slack.requests).toHaveLength(1);
    const message = slack.requests[0]!.body;
    expect(message).toMatch(/[▁▂▃▄▅▆▇█]{8}/);
    expect(message).toContain('&lt;!channel&gt; gpt&amp;4 @\u200dhere');
    expect(message).not.toContain('<!channel>');
    expect(message).not.toContain('<@U123>');

    expect(smtp.messages).toHaveLength(1);
    const mail = smtp.messages[0]!.parsed;
    expect(mail.subject).toMatch(/^\[DIGEST\] minutely: \$49\.88 /);
    expect(mail.text).toContain('Total');
    expect(mail.text).toContain(HOSTILE_MODEL);
    expect(mail.html).toContain('&lt;!channel&gt; gpt&amp;4 @here');
    expect(mail.html).not.toContain('<!channel>');
    // the trend as an inline PNG the HTML shows by Content-ID, drawn with the bundled font
    expect(mail.html).toContain('src="cid:trend"');
    const raw = smtp.messages[0]!.raw;
    expect(raw).toMatch(/Content-Type: image\/png/i);
    const part = raw.split(/Content-ID: <trend>\r?\n/i)[1]!.split(/\r?\n\r?\n/)[1]!.split(/\r?\n--/)[0]!;
    const png = decodePng(Buffer.from(part.replace(/\s+/g, ''), 'base64'));
    expect([png.width, png.height]).toEqual([600, 200]);
    expect(barCount(png)).toBe(body!.report.daily.filter((day) => day.cost > 0).length);
    expect(darkPixels(png)).toBeGreaterThan(0);
  });

  test('a per-minute digest over three simulated minutes is sent exactly 3 times, a restart in between sending nothing twice', async () => {
    const cron = minuteCron();
    const first = await startDaemon(cron.startCron);
    await cron.advanceTo(at(2, 30_000), first);
    await stop(first);
    // restarted within the same minute: the latest scheduled time was sent already
    const restartedCron = minuteCron();
    const second = await startDaemon(restartedCron.startCron);
    expect(digestBodies().map((body) => body.id)).toEqual([idFor(1), idFor(2)]);
    // a tick for a time already sent (another process's cron, a restart within its second) sends nothing
    await restartedCron.refire(2, second);
    expect(digestBodies()).toHaveLength(2);
    await restartedCron.advanceTo(at(3, 30_000), second);

    expect(digestBodies().map((body) => body.id)).toEqual([idFor(1), idFor(2), idFor(3)]);
    expect(digestBodies().some((body) => body.delayedSince !== undefined)).toBe(false);
    expect(slack.requests).toHaveLength(3);
    expect(smtp.messages).toHaveLength(3);
  });

  test('after downtime only the latest missed time goes out, once, marked late', async () => {
    const cron = minuteCron();
    const first = await startDaemon(cron.startCron);
    await cron.advanceTo(at(1, 30_000), first);
    await stop(first);
    now = at(5, 30_000);
    const second = await startDaemon(minuteCron().startCron);
    await stop(second);
    // and a second restart in the same minute sends nothing more
    await startDaemon(minuteCron().startCron);

    expect(digestBodies().map((body) => [body.id, body.delayedSince])).toEqual([
      [idFor(1), undefined],
      [idFor(5), at(5).toISOString()],
    ]);
    expect(slack.requests.map((r) => r.body).filter((text) => text.includes('Sent late'))).toHaveLength(1);
  });

  test('`digest --name` sends now without touching the record: the schedule still sends its next time', async () => {
    const out = new PassThrough();
    const err = new PassThrough();
    let stdout = '';
    let stderr = '';
    out.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    err.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    const code = await main(['digest', '--name', 'minutely', '--state-dir', join(dir, 'state')], { stdout: out, stderr: err, env: {}, cwd: dir }, () => now);
    expect(code).toBe(0);
    expect(stdout).toBe('digest minutely: sent to hook, slack, mail\n');
    expect(stderr).toMatch(/^digest: \d+ Langfuse requests\n$/);
    const manual = `digest|minutely|${now.toISOString().replace(/\.\d{3}Z$/, '.000Z')}`;
    expect(digestBodies().map((body) => body.id)).toEqual([manual]);
    expect((await new StateStore(join(dir, 'state')).load()).digests).toEqual({});

    const cron = minuteCron();
    const daemon = await startDaemon(cron.startCron);
    await cron.advanceTo(at(1, 30_000), daemon);
    expect(digestBodies().map((body) => body.id)).toEqual([manual, idFor(1)]);
  });

  test('`digest --dry-run` prints what it would send and sends nothing; an unknown name exits 1', async () => {
    let stdout = '';
    const out = new PassThrough();
    out.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    const err = new PassThrough();
    let stderr = '';
    err.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    const io = { stdout: out, stderr: err, env: {}, cwd: dir };
    expect(await main(['digest', '--dry-run', '--state-dir', join(dir, 'state')], io, () => now)).toBe(0);
    expect(stdout).toContain('digest|minutely|');
    expect(stdout).toContain('→ hook, slack, mail');
    expect(stdout).toContain('Spend digest minutely: $49.88');
    expect(hook.requests).toHaveLength(0);
    expect(slack.requests).toHaveLength(0);
    expect(smtp.messages).toHaveLength(0);
    expect(await main(['digest', '--name', 'weekly', '--state-dir', join(dir, 'state')], io, () => now)).toBe(1);
    expect(stderr).toContain('no digest named "weekly" (defined: minutely)');
  });

  test('a request budget that can\'t admit the report: `digest` exits 1, sends nothing and says what it needs', async () => {
    const file = join(dir, 'alerts.yaml');
    const text = await readFile(file, 'utf8');
    await writeFile(file, text.replace(`secretKey: ${fake.secretKey} }`, `secretKey: ${fake.secretKey}, requestBudget: { perHour: 5 } }`));
    let stderr = '';
    const err = new PassThrough();
    err.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    const out = new PassThrough();
    out.resume();
    const code = await main(['digest', '--state-dir', join(dir, 'state')], { stdout: out, stderr: err, env: {}, cwd: dir }, () => now);
    expect(code).toBe(1);
    expect(stderr).toMatch(/digest: needs \d+ requests; the budget admits 5\n/);
    expect(stderr).toContain('digest: 0 Langfuse requests');
    expect(fake.requests.filter((r) => r.path.includes('metrics'))).toEqual([]);
    expect(hook.requests).toHaveLength(0);
    expect(slack.requests).toHaveLength(0);
    expect(smtp.messages).toHaveLength(0);
  });
});
