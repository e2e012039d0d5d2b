// The command line as it ships: `npm run build` bundles it (scripts/build.ts), and the bundle must
// run on the Node that runs the tests — its commands, its lazily loaded chunks, and the files it
// finds beside itself (package.json, the demo's configuration).
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bundle } from '../scripts/build.js';
import { REPO } from './support/cli-process.js';

const run = promisify(execFile);
let outdir: string;

beforeAll(async () => {
  // inside the repository, as dist/ is: the bundle finds package.json by walking up
  outdir = await mkdtemp(join(REPO, '.build-test-'));
  await bundle({ entryPoints: ['src/cli/bin.ts'], outdir });
}, 60_000);

afterAll(async () => {
  if (outdir) await rm(outdir, { recursive: true, force: true });
});

const cli = (args: string[], env: Record<string, string> = {}) =>
  run(process.execPath, [join(outdir, 'cli/bin.js'), ...args], { cwd: outdir, env: { PATH: process.env.PATH ?? '', ...env } });

describe('the bundled command line', () => {
  it('keeps every command and the heavy optional parts in chunks of their own', async () => {
    const chunks = await readdir(join(outdir, 'chunks'));
    for (const name of ['check', 'run', 'validate', 'demo', 'status', 'test-notify', 'nodemailer', 'undici']) {
      expect(chunks.some((file) => file.startsWith(`${name}-`) && file.endsWith('.js')), name).toBe(true);
    }
    // what every command loads must not carry zod's chained API (~750 kB): the schemas are zod/mini
    const entry = await readFile(join(outdir, 'cli/bin.js'), 'utf8');
    const shared = chunks.filter((file) => file.endsWith('.js') && !/^(check|run|validate|demo|status|test-notify|nodemailer|undici)-/.test(file));
    for (const file of shared) expect(await readFile(join(outdir, 'chunks', file), 'utf8'), file).not.toContain('node_modules/zod/v4/classic');
    expect(entry).not.toContain('node_modules/zod/v4/classic');
  });

  it('prints its version from package.json', async () => {
    const pkg = JSON.parse(await readFile(join(REPO, 'package.json'), 'utf8')) as { version: string };
    const { stdout } = await cli(['--version']);
    expect(stdout.trim()).toBe(pkg.version);
  });

  it('validates the example configuration, and points at bad values by file:line:col', async () => {
    const { stdout } = await cli(['validate', '--config', join(REPO, 'alerts.example.yaml')], {
      LANGFUSE_PUBLIC_KEY: 'pk-lf-x',
      LANGFUSE_SECRET_KEY: 'sk-lf-x',
      SLACK_WEBHOOK_URL: 'https://hooks.slack.com/services/T/B/X',
      SMTP_URL: 'smtp://mail.example.com:587',
      ALERT_WEBHOOK_URL: 'https://automation.example.com/hook',
      ALERT_WEBHOOK_SECRET: 'whsec',
    });
    expect(stdout).toMatch(/valid/i);
    const refused = await cli(['validate', '--config', join(REPO, 'test/fixtures/bundle-invalid.yaml')], { LANGFUSE_PUBLIC_KEY: 'a', LANGFUSE_SECRET_KEY: 'b' }).then(
      () => null,
      (error: { code: number; stderr: string }) => error,
    );
    expect(refused?.code).toBe(2);
    expect(refused?.stderr).toContain('bundle-invalid.yaml:3:');
    expect(refused?.stderr).toMatch(/alerts\[0\]\.top: must be at most 1000/);
    expect(refused?.stderr).toMatch(/alerts\[0\]\.severity: must be one of warning, critical, not the text "loud"/);
  });

  it('runs the demo: the whole pipeline against the bundled Langfuse-compatible server', async () => {
    const { stdout } = await cli(['demo']);
    expect(stdout).toContain('the bundled demo/alerts.yaml');
    expect(stdout).toMatch(/Langfuse requests made: \d+/);
    expect(stdout).toMatch(/FIRING/);
  }, 60_000);
});
