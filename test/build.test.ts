// The command line as it ships: `npm run build` bundles it (scripts/build.ts), and the bundle must
// run on the Node that runs the tests — its commands, its lazily loaded chunks, and the files it
// finds beside itself (package.json, the demo's configuration).
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bundle, ENTRY_POINTS } from '../scripts/build.js';
import { REPO } from './support/cli-process.js';
import { startForwardProxy } from './support/forward-proxy.js';
import { barCount, darkPixels, decodePng } from './support/png.js';
import { startSmtpServer } from './support/smtp.js';

const run = promisify(execFile);
let outdir: string;

beforeAll(async () => {
  // inside the repository, as dist/ is: the bundle finds package.json by walking up
  outdir = await mkdtemp(join(REPO, '.build-test-'));
  await bundle({ entryPoints: ENTRY_POINTS, outdir });
}, 60_000);

afterAll(async () => {
  if (outdir) await rm(outdir, { recursive: true, force: true });
});

const cli = (args: string[], env: Record<string, string> = {}) =>
  run(process.execPath, [join(outdir, 'cli/bin.js'), ...args], { cwd: outdir, env: { PATH: process.env.PATH ?? '', ...env } });

describe('the bundled command line', () => {
  it('keeps every command and nodemailer in chunks of their own', async () => {
    const chunks = await readdir(join(outdir, 'chunks'));
    for (const name of ['check', 'run', 'validate', 'demo', 'status', 'test-notify', 'nodemailer']) {
      expect(chunks.some((file) => file.startsWith(`${name}-`) && file.endsWith('.js')), name).toBe(true);
    }
    // what every command loads must not carry zod's chained API (~750 kB): the schemas are zod/mini
    const entry = await readFile(join(outdir, 'cli/bin.js'), 'utf8');
    const shared = chunks.filter((file) => file.endsWith('.js') && !/^(check|run|validate|demo|status|test-notify|nodemailer)-/.test(file));
    for (const file of shared) expect(await readFile(join(outdir, 'chunks', file), 'utf8'), file).not.toContain('node_modules/zod/v4/classic');
    expect(entry).not.toContain('node_modules/zod/v4/classic');
  });

  it('ships nothing from tools/ or test/: the demo runs on its own server, not the test fake', async () => {
    const maps = (await readdir(outdir, { recursive: true })).filter((file) => file.endsWith('.js.map'));
    expect(maps.length).toBeGreaterThan(0);
    const sources = new Set<string>();
    for (const file of maps) {
      const map = JSON.parse(await readFile(join(outdir, file), 'utf8')) as { sources: string[] };
      for (const source of map.sources) sources.add(source);
    }
    const ours = [...sources].filter((source) => !source.includes('node_modules/'));
    expect(ours.some((source) => source.includes('src/demo/server.ts'))).toBe(true);
    expect(ours.filter((source) => /(^|\/)(tools|test)\//.test(source))).toEqual([]);
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

  it('sends mail with its nodemailer chunk', async () => {
    const smtp = await startSmtpServer();
    try {
      const config = join(outdir, 'mail.yaml');
      await writeFile(
        config,
        'channels:\n  mail:\n    type: email\n    smtpUrl: ${SMTP_URL}\n    from: spend-alerts@example.com\n    to: [finance@example.com]\n' +
          'alerts:\n  - { name: budget, window: day, threshold: 5, channels: [mail] }\n',
      );
      await cli(['test-notify', '--config', config], { SMTP_URL: smtp.url(), LANGFUSE_PUBLIC_KEY: 'pk-lf-x', LANGFUSE_SECRET_KEY: 'sk-lf-x' });
      expect(smtp.messages).toHaveLength(1);
      expect(smtp.messages[0]!.parsed.subject).toMatch(/TEST/);
    } finally {
      await smtp.close();
    }
  }, 60_000);

  it('sends through HTTP_PROXY (undici, loaded from node_modules)', async () => {
    const proxy = await startForwardProxy();
    try {
      const { stdout } = await cli(['demo'], { HTTP_PROXY: proxy.url });
      expect(stdout).toMatch(/Langfuse requests made: \d+/);
      // the demo's Langfuse is on 127.0.0.1, and NO_PROXY is empty: every request went through
      expect(proxy.requests.length).toBeGreaterThan(0);
    } finally {
      await proxy.close();
    }
  }, 60_000);

  it('logs for humans through pino-pretty, which stays outside the bundle', async () => {
    const { stderr } = await cli(['demo', '--log-format', 'pretty', '--log-level', 'debug']);
    expect(stderr).toMatch(/^\[[0-9-]+ [0-9:.]+ [+-]\d{4}\] DEBUG: langfuse projects → 200 in \d+ ms$/m);
  }, 60_000);

  it('draws the digest chart with resvg from node_modules and the font found from the bundle', async () => {
    const { stdout } = await run(process.execPath, [join(outdir, 'cli/render-check.js')], { cwd: outdir, encoding: 'buffer' });
    const image = decodePng(stdout);
    // 30 sample days, one of them at $0
    expect(barCount(image)).toBe(29);
    expect(darkPixels(image)).toBeGreaterThan(300);
  }, 60_000);
});
