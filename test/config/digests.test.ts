// digests: in alerts.yaml: defaults, and each mistake a located error.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { configError, LANGFUSE_ENV, loadFixture } from './helpers.js';

describe('digests configuration', () => {
  it('refuses a duplicate name, a bad cron, an unknown channel and a window reports do not have, each located', async () => {
    const error = await configError(loadFixture('digest-checks.yaml'));
    expect(error.issues.map((issue) => [issue.line, issue.path])).toEqual([
      [8, 'digests[1].name'],
      [9, 'digests[2].schedule'],
      [10, 'digests[3].channels[0]'],
      [11, 'digests[4].window'],
    ]);
    const messages = error.issues.map((issue) => issue.message).join('\n');
    expect(messages).toContain('duplicate digest name "weekly" (digests[0] has it too)');
    expect(messages).toContain('unknown channel "pager" (defined: hook)');
    expect(messages).toMatch(/invalid cron expression "0 9 32 \* \*"/);
  });

  it('defaults to a 7d window, the top 5, and no digests at all', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'spend-alerts-digests-'));
    try {
      const file = join(dir, 'alerts.yaml');
      const head = `langfuse: { publicKey: pk, secretKey: sk }
channels: { hook: { type: webhook, url: "https://hooks.example.com/in" } }
alerts: [{ name: budget, window: day, threshold: 50, channels: [hook] }]
`;
      await writeFile(file, `${head}digests: [{ name: weekly, schedule: "0 9 * * 1", channels: [hook] }]\n`);
      const { config } = await loadConfig({ path: file, env: LANGFUSE_ENV, needs: 'all' });
      expect(config.digests).toEqual([{ name: 'weekly', schedule: '0 9 * * 1', window: '7d', channels: ['hook'], top: 5 }]);
      await writeFile(file, head);
      expect((await loadConfig({ path: file, env: LANGFUSE_ENV, needs: 'all' })).config.digests).toEqual([]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
