// The real image, built from the Dockerfile with podman (see /scripts/container and the deploy
// docs): validate and check in it, then `run` against the fake Langfuse over the host network —
// healthy, non-root, delivering, stopping with exit 0 and its state in the /data volume, and not
// repeating the alert after a restart on the same volume. And the digest's trend chart drawn in the
// image, which has no system fonts: a PNG that decodes, with its bars and its labels.
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { chmod, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { startFakeLangfuse, type FakeLangfuse } from '../../tools/fake-langfuse/server.js';
import { freePort, REPO, spend } from '../support/cli-process.js';
import { startHttpReceiver, type HttpReceiver } from '../support/http-receiver.js';
import { barCount, darkPixels, decodePng } from '../support/png.js';

const PODMAN = join(REPO, 'scripts/container/podman.sh');
const BASE_IMAGE = 'localhost/node:24-slim';
const IMAGE = 'localhost/spend-alerts:container-test';
const run = randomUUID().slice(0, 8);
const STATE_VOLUME = `spend-alerts-test-state-${run}`;
const CHECK_VOLUME = `spend-alerts-test-check-${run}`;
const CHECK_HOOK = `/check-${run}`;
const RUN_HOOK = `/run-${run}`;

interface Result {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

function exec(file: string, args: readonly string[], timeoutMs = 600_000): Promise<Result> {
  return new Promise((resolve) => {
    execFile(file, args, { maxBuffer: 64 * 1024 * 1024, timeout: timeoutMs }, (error, stdout, stderr) => {
      const code = error === null ? 0 : typeof error.code === 'number' ? error.code : 1;
      resolve({ code, stdout, stderr });
    });
  });
}

const podman = (...args: string[]): Promise<Result> => exec(PODMAN, args);

async function podmanOk(...args: string[]): Promise<string> {
  const result = await podman(...args);
  if (result.code !== 0) throw new Error(`podman ${args.join(' ')} exited ${result.code}:\n${result.stderr}${result.stdout}`);
  return result.stdout;
}

let dir: string;
let fake: FakeLangfuse;
let receiver: HttpReceiver;
const containers: string[] = [];

function config(hook: string): string {
  return `langfuse:
  baseUrl: ${fake.url}
schedule: "*/2 * * * * *"
channels:
  hook:
    type: webhook
    url: ${receiver.url(hook)}
alerts:
  - name: budget
    window: 24h
    threshold: 4
    channels: [hook]
`;
}

const hooks = (path: string) => receiver.requests.filter((r) => r.path === path);

async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe().catch(() => undefined);
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

/** `podman run -d` of the daemon on the host network; returns the container id. */
async function startDaemon(port: number): Promise<string> {
  const id = (
    await podmanOk(
      'run', '-d', '--network', 'host',
      // the daemon writes only to /data (docs: readOnlyRootFilesystem)
      '--read-only',
      '-e', `PORT=${port}`,
      '-e', `LANGFUSE_PUBLIC_KEY=${fake.publicKey}`,
      '-e', `LANGFUSE_SECRET_KEY=${fake.secretKey}`,
      '-v', `${join(dir, 'run.yaml')}:/app/alerts.yaml:ro`,
      '-v', `${STATE_VOLUME}:/data`,
      IMAGE,
    )
  ).trim();
  containers.push(id);
  await until(`/healthz on port ${port}`, async () => ((await fetch(`http://127.0.0.1:${port}/healthz`)).ok ? true : undefined));
  return id;
}

async function evaluations(id: string): Promise<number> {
  const { stdout, stderr } = await podman('logs', id);
  return `${stdout}${stderr}`.split('\n').filter((line) => line.includes('"event":"evaluation"')).length;
}

async function stop(id: string): Promise<{ exitCode: number; logs: string }> {
  await podmanOk('stop', '-t', '30', id);
  const exitCode = Number((await podmanOk('inspect', id, '--format', '{{.State.ExitCode}}')).trim());
  const { stdout, stderr } = await podman('logs', id);
  return { exitCode, logs: `${stdout}${stderr}` };
}

beforeAll(async () => {
  const base = await exec(join(REPO, 'scripts/container/base-image.sh'), [BASE_IMAGE], 900_000);
  if (base.code !== 0) throw new Error(`building the base image failed:\n${base.stderr}${base.stdout}`);
  await podmanOk('build', '--layers=false', '--format', 'docker', '--network', 'host', '--build-arg', `NODE_IMAGE=${BASE_IMAGE}`, '-t', IMAGE, REPO);

  fake = await startFakeLangfuse({ observations: [spend('a', 5)] });
  receiver = await startHttpReceiver();
  dir = await mkdtemp(join(tmpdir(), 'spend-alerts-container-'));
  for (const [name, hook] of [['check.yaml', CHECK_HOOK], ['run.yaml', RUN_HOOK]] as const) {
    await writeFile(join(dir, name), config(hook));
    // read by uid 1000 in the container
    await chmod(join(dir, name), 0o644);
  }
});

afterAll(async () => {
  for (const id of containers) await podman('rm', '-f', id);
  await podman('volume', 'rm', '-f', STATE_VOLUME, CHECK_VOLUME);
  await podman('rmi', '-f', IMAGE);
  await fake?.close();
  await receiver?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('the container image', () => {
  test('declares its health check, user, volume, signal and command', async () => {
    const config = JSON.parse(await podmanOk('image', 'inspect', IMAGE, '--format', '{{json .Config}}')) as {
      User: string;
      Volumes: Record<string, unknown>;
      StopSignal: string;
      Entrypoint: string[];
      Cmd: string[];
      WorkingDir: string;
      Env: string[];
    };
    // kept only in the Docker image format (podman build --format docker)
    const health = JSON.parse(await podmanOk('image', 'inspect', IMAGE, '--format', '{{json .HealthCheck}}')) as { Test: string[] } | null;
    expect(health?.Test.slice(0, 3)).toEqual(['CMD', 'node', '-e']);
    expect(health?.Test[3]).toMatch(/\/healthz/);
    expect(config.User).toBe('1000:1000');
    expect(Object.keys(config.Volumes)).toEqual(['/data']);
    expect(config.StopSignal).toBe('SIGTERM');
    expect(config.Entrypoint).toEqual(['node', '--max-semi-space-size=2', '/app/dist/cli/bin.js']);
    expect(config.Cmd).toEqual(['run']);
    expect(config.WorkingDir).toBe('/app');
    expect(config.Env).toContain('SPEND_ALERTS_STATE_DIR=/data');
  });

  test('starts its commands from the compile cache it ships with, also on a read-only root', async () => {
    const env = ['-e', `LANGFUSE_PUBLIC_KEY=${fake.publicKey}`, '-e', `LANGFUSE_SECRET_KEY=${fake.secretKey}`, '-e', 'NODE_DEBUG_NATIVE=COMPILE_CACHE'];
    const validate = await podman('run', '--rm', '--network', 'host', '--read-only', ...env, IMAGE, 'validate', '--config', 'demo/alerts.yaml');
    expect(validate.code, validate.stderr).toBe(0);
    const accepted = validate.stderr.split('\n').filter((line) => /V8 code cache for ESM file:\/\/\/app\/dist\/.+ was accepted/.test(line));
    // the entry point and the chunk with the configuration loader (zod, yaml), at least
    expect(accepted.length, validate.stderr).toBeGreaterThanOrEqual(2);
    expect(accepted.some((line) => line.includes('/app/dist/cli/bin.js')), validate.stderr).toBe(true);
    expect(validate.stderr).not.toMatch(/rejected|Cannot create cache directory/);
  });

  test('draws the digest chart with its labels, from the font it ships (no system fonts in the image)', async () => {
    // every font file on the image's disk (as root: uid 1000 may not read /root)
    const fonts = await podmanOk('run', '--rm', '--user', '0', '--entrypoint', 'find', IMAGE, '/', '-xdev', '(', '-name', '*.ttf', '-o', '-name', '*.otf', '-o', '-name', '*.ttc', ')', '-print');
    expect(fonts.trim().split('\n')).toEqual(['/app/assets/fonts/Inter-Regular.ttf']);
    const png = await new Promise<Buffer>((resolve, reject) => {
      execFile(
        PODMAN,
        ['run', '--rm', '--read-only', '--entrypoint', 'node', IMAGE, '/app/dist/cli/render-check.js'],
        { encoding: 'buffer', maxBuffer: 16 * 1024 * 1024, timeout: 120_000 },
        (error, stdout, stderr) => (error ? reject(new Error(`render-check failed: ${error.message}\n${stderr.toString()}`)) : resolve(stdout)),
      );
    });
    const image = decodePng(png);
    expect([image.width, image.height]).toEqual([600, 200]);
    // render-check's 30 sample days, one of them at $0
    expect(barCount(image)).toBe(29);
    const band = image.height / 8;
    // the max label above the bars, the dates below them
    expect(darkPixels(image, 0, band)).toBeGreaterThan(50);
    expect(darkPixels(image, image.height - band, image.height)).toBeGreaterThan(100);
  });

  test('runs validate and check', async () => {
    const env = ['-e', `LANGFUSE_PUBLIC_KEY=${fake.publicKey}`, '-e', `LANGFUSE_SECRET_KEY=${fake.secretKey}`];
    const mount = ['-v', `${join(dir, 'check.yaml')}:/app/alerts.yaml:ro`];
    const validate = await podman('run', '--rm', '--network', 'host', ...env, ...mount, IMAGE, 'validate');
    expect(validate.code, validate.stderr).toBe(0);
    expect(validate.stdout).toMatch(/alerts\.yaml: valid/);

    const check = await podman('run', '--rm', '--network', 'host', ...env, ...mount, '-v', `${CHECK_VOLUME}:/data`, IMAGE, 'check');
    expect(check.code, check.stderr).toBe(0);
    expect(hooks(CHECK_HOOK)).toHaveLength(1);
    expect(hooks(CHECK_HOOK)[0]!.json).toMatchObject({ alert: 'budget', status: 'firing', value: 5 });
  });

  test('runs the daemon as uid 1000, healthy, delivering, and stops with exit 0 and its state in /data', async () => {
    const port = await freePort();
    const id = await startDaemon(port);

    const status = await podmanOk('exec', id, 'cat', '/proc/1/status');
    expect(status).toMatch(/^Uid:\s+1000\s+1000\s+1000\s+1000$/m);
    const cmdline = (await podmanOk('exec', id, 'cat', '/proc/1/cmdline')).split('\0');
    expect(cmdline[0]).toMatch(/node$/);
    expect(cmdline.join(' ')).toMatch(/--max-semi-space-size=2 \/app\/dist\/cli\/bin\.js run/);
    const health = await podman('healthcheck', 'run', id);
    expect(health.code, `${health.stdout}${health.stderr}`).toBe(0);

    await until('the alert at the receiver', async () => (hooks(RUN_HOOK).length > 0 ? true : undefined));
    await until('a second evaluation', async () => ((await evaluations(id)) >= 2 ? true : undefined));
    expect((await fetch(`http://127.0.0.1:${port}/readyz`)).status).toBe(200);
    expect(await (await fetch(`http://127.0.0.1:${port}/metrics`)).text()).toContain(
      'spend_alerts_series_spend_usd{alert="budget",group=""} 5',
    );

    const stopped = await stop(id);
    expect(stopped.exitCode, stopped.logs).toBe(0);
    expect(stopped.logs).toMatch(/"msg":"stopped"/);

    const mountpoint = (await podmanOk('volume', 'inspect', STATE_VOLUME, '--format', '{{.Mountpoint}}')).trim();
    const stateFile = join(mountpoint, 'state.json');
    const state = JSON.parse(await readFile(stateFile, 'utf8')) as { series: Record<string, { notified: string[] }> };
    expect(state.series['budget|']?.notified).toEqual(['critical']);
    expect((await stat(stateFile)).uid).toBe(1000);
    expect(hooks(RUN_HOOK)).toHaveLength(1);
  });

  test('started again on the same volume, it does not repeat the alert', async () => {
    const port = await freePort();
    const id = await startDaemon(port);
    await until('three evaluations after the restart', async () => ((await evaluations(id)) >= 3 ? true : undefined));
    expect(hooks(RUN_HOOK)).toHaveLength(1);
    const stopped = await stop(id);
    expect(stopped.exitCode, stopped.logs).toBe(0);
  });
});
