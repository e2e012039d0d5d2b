// `spend-alerts demo` on a fresh clone: the whole pipeline against the bundled sample, no account.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { afterEach, beforeEach, expect, test } from 'vitest';
import { main } from '../../src/cli/main.js';
import { startHttpReceiver, type HttpReceiver } from '../support/http-receiver.js';

let dir: string;
let receiver: HttpReceiver;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'spend-alerts-demo-test-'));
  receiver = await startHttpReceiver();
});
afterEach(async () => {
  await receiver.close();
  await rm(dir, { recursive: true, force: true });
});

async function demo(args: string[], env: Record<string, string> = {}) {
  let stdout = '';
  let stderr = '';
  const out = new PassThrough().on('data', (c: Buffer) => (stdout += c.toString()));
  const err = new PassThrough().on('data', (c: Buffer) => (stderr += c.toString()));
  const code = await main(['demo', ...args], { stdout: out, stderr: err, env, cwd: dir });
  return { code, stdout, stderr };
}

test('with the bundled alerts: the spike fires, printed to the terminal, and a second evaluation sends nothing', async () => {
  const result = await demo([]);
  expect(result.code).toBe(0);
  expect(result.stdout).toContain('CRITICAL FIRING: daily-budget');
  expect(result.stdout).toContain('WARNING FIRING: daily-spike');
  expect(result.stdout).toMatch(/model-budget \[model=claude-sonnet-4-5-20250929\] +\$\d+\.\d\d +threshold \$40\.00 +CRITICAL/);
  expect(result.stdout).not.toMatch(/ level \$|model:null/);
  expect(result.stdout).toContain('Evaluating again, as the next scheduled run would: 0 new notification(s)');
  expect(result.stdout).toContain('staging-budget');
  // a metadata group: one series per listed value, the runaway security auditor over its budget
  expect(result.stdout).toContain('agent-budget [metadata.agent_type=writer]');
  expect(result.stdout).toContain('Group:     metadata.agent_type=auditor');
  // budget steps: the step crossed, as a share of the budget
  expect(result.stdout).toMatch(/FIRING: weekly-steps\n(?:  .*\n)*  Step: +(50|80|100) % of the \$800\.00 budget\n/);
});

test('--config uses that file\'s alerts and channels, and needs no Langfuse keys', async () => {
  await writeFile(
    join(dir, 'mine.yaml'),
    `channels:
  hook:
    type: webhook
    url: \${HOOK_URL}
alerts:
  - name: my-budget
    window: 24h
    threshold: 10
    channels: [hook]
`,
  );
  const result = await demo(['--config', 'mine.yaml'], { HOOK_URL: receiver.url('/hook') });
  expect(result.code).toBe(0);
  expect(result.stdout).toContain('CRITICAL FIRING: my-budget');
  expect(receiver.requests).toHaveLength(1);
  expect(receiver.requests[0]!.json).toMatchObject({ alert: 'my-budget', status: 'firing' });
});

// The sample's one runaway trace lies inside today (UTC) and before now, whatever the hour: the
// bundled perTrace alert names it just after midnight and just before the next one.
test.each(['2026-12-02T00:05:00Z', '2026-12-02T23:55:00Z', '2026-12-31T23:55:00Z'])('at %s the bundled perTrace alert names the runaway trace, with its user and link, and the month forecast fires, saying what drove it', async (at) => {
  let stdout = '';
  const out = new PassThrough().on('data', (c: Buffer) => (stdout += c.toString()));
  const code = await main(['demo'], { stdout: out, stderr: new PassThrough().resume(), env: {}, cwd: dir }, () => new Date(at));
  expect(code).toBe(0);
  const firing = stdout.split('CRITICAL FIRING: runaway-traces').slice(1);
  // one trace, once: the second evaluation sends nothing new
  expect(firing).toHaveLength(1);
  expect(firing[0]).toMatch(/Trace: +security_audit/);
  expect(firing[0]).toMatch(/User: +user-07/);
  expect(firing[0]).toMatch(/Spend: +\$1\d\.\d\d/);
  expect(firing[0]).toMatch(/\/project\/[^/\s]+\/traces\/tr-\d{5}-loop/);
  const forecast = stdout.split('WARNING FIRING: monthly-forecast').slice(1);
  expect(forecast).toHaveLength(1);
  expect(forecast[0]).toMatch(/Forecast: +\$[\d,]+\.\d\d for the whole month/);
  // what drove it: three lists of contributors, the runaway agent's model and user among them
  const explained = forecast[0]!.split('\n\n')[0]!;
  expect(explained).toMatch(/Top models: claude-sonnet-4-5-20250929 \$[\d,.]+ \(\d/);
  expect(explained).toMatch(/Top trace names: \S+ \$[\d,.]+ \(\d/);
  expect(explained).toMatch(/Top users: .*user-07 \$/);
  expect(stdout).toContain('Evaluating again, as the next scheduled run would: 0 new notification(s)');
});
