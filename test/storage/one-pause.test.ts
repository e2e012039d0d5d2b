// "Langfuse said wait until T" is stored once, by the request quota (langfuse-budget.json): the
// admission of `check` and the daemon, the evaluation itself and `status` all read that record.
// Before, the evaluation and `status` read a second copy in state.json that only a 429 with a
// Retry-After wrote: after a 429 without one, the admission waited while a direct evaluation
// queried Langfuse again and `status` showed no pause.
import { PassThrough } from 'node:stream';
import { afterEach, expect, test } from 'vitest';
import { parseCommandLine } from '../../src/cli/args.js';
import { statusCommand } from '../../src/cli/commands/status.js';
import { RequestQuota } from '../../src/sources/langfuse/quota.js';
import { fileStorage } from '../../src/storage/file.js';
import { startHarness, type Harness } from '../support/harness.js';
import { spend } from '../support/observations.js';

let harness: Harness | undefined;
afterEach(async () => {
  await harness?.close();
  harness = undefined;
});

const NOW = new Date('2026-11-24T15:00:00.000Z');
const CONFIG = `
alerts:
  - name: daily-budget
    window: day
    threshold: 50
    channels: [automation]
`;

async function status(h: Harness, at: Date): Promise<string> {
  const parsed = parseCommandLine(['status', '--state-dir', h.stateDir], {});
  if (parsed.kind !== 'command') throw new Error('not a command');
  let stdout = '';
  const out = new PassThrough().on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  await statusCommand(parsed.options, { stdout: out, stderr: new PassThrough().resume(), env: {}, cwd: h.stateDir }, at);
  return stdout;
}

test('after a 429 without Retry-After, the admission, the evaluation and status agree on one pause', async () => {
  harness = await startHarness(CONFIG, [spend(new Date(NOW.getTime() - 3_600_000), 60)]);
  harness.fake.inject({ kind: 'status', status: 429, times: 10 });
  const first = await harness.check(NOW);
  expect(first.alertFailures[0]!.error).toContain('HTTP 429');

  const soon = new Date(NOW.getTime() + 30_000);
  const admission = (await RequestQuota.open({ storage: fileStorage(harness.stateDir), limits: {} })).admit(0, soon);
  expect(admission).toMatchObject({ ok: false, kind: 'rate-limited' });
  const until = (admission as { retryAt: Date }).retryAt.toISOString();

  const queried = harness.fake.requests.length;
  const second = await harness.check(soon);
  expect(harness.fake.requests.length).toBe(queried);
  expect(second.alertFailures).toEqual([{ alert: 'daily-budget', error: `Langfuse asked not to be queried before ${until} (rate limit); not queried` }]);
  expect(await status(harness, soon)).toContain(`Langfuse asked not to be queried before ${until}`);

  harness.fake.clearFaults();
  const after = new Date(Date.parse(until) + 60_000);
  expect((await harness.check(after)).alertFailures).toEqual([]);
  expect(await status(harness, after)).not.toContain('Langfuse asked not to be queried');
});
