// Budget steps end to end over real sockets: fake Langfuse → evaluation → state → Slack / email /
// webhook receivers, and what they cost in Langfuse requests (nothing more than `threshold: N`).
import { afterEach, describe, expect, test } from 'vitest';
import { startHarness, type Harness } from '../support/harness.js';
import { spend } from '../support/observations.js';
import type { FakeObservation } from '../../tools/fake-langfuse/server.js';

let harness: Harness | undefined;
afterEach(async () => {
  await harness?.close();
  harness = undefined;
});

const NOW = new Date('2026-11-24T15:00:00.000Z');
const at = (minutes: number) => new Date(NOW.getTime() + minutes * 60_000);

// without contributors: each firing notification's users cost requests of their own (counted in
// test/e2e/contributors.test.ts), and steps fire more often than a plain threshold
const alertYaml = (rule: string) => `
alerts:
  - name: budget
    window: day
    threshold: ${rule}
    explain: []
    channels: [slack-ops, finance-mail, automation]
`;
const STEPS = alertYaml('{ budget: 1000, steps: [50, 80, 100] }');

type Body = { id: string; severity: string; step?: number; threshold: number; value: number };
const bodies = (h: Harness) => h.webhook.requests.map((r) => r.json as Body);

// $550 by 15:00, $850 by 16:00, $1,050 by 17:00 (UTC)
const DAY: FakeObservation[] = [spend(at(-600), 300), spend(at(-300), 250), spend(at(30), 300), spend(at(90), 200)];
const CHECKS = [0, 15, 60, 120].map(at);

describe('budget steps', () => {
  test('each step fires once, on every channel, as spend climbs through the day', async () => {
    harness = await startHarness(STEPS, DAY);
    for (const now of CHECKS) await harness.check(now);
    expect(bodies(harness).map((b) => [b.id, b.severity, b.step, b.threshold, b.value])).toEqual([
      ['budget|-|2026-11-24T00:00:00Z|warning@50|firing', 'warning', 50, 500, 550],
      ['budget|-|2026-11-24T00:00:00Z|warning@80|firing', 'warning', 80, 800, 850],
      ['budget|-|2026-11-24T00:00:00Z|critical@100|firing', 'critical', 100, 1000, 1050],
    ]);
    expect(harness.slack.requests).toHaveLength(3);
    expect(harness.smtp.messages).toHaveLength(3);
    expect(harness.slack.requests[1]!.body).toContain('80 % of the $1,000.00 budget');
    expect(harness.smtp.messages[1]!.parsed.text).toContain('80 % of the $1,000.00 budget');
    expect(harness.smtp.messages[2]!.parsed.subject).toBe('[CRITICAL] budget: $1,050.00 > $1,000.00');

    const state = await harness.store.load();
    expect(state.series['budget|']?.notified).toEqual(['warning@50', 'warning@80', 'critical@100']);
    // a restart and another check send nothing new
    expect((await harness.check(at(180))).planned).toEqual([]);
  });

  test('crossing several steps at once sends only the highest', async () => {
    harness = await startHarness(STEPS, DAY);
    const report = await harness.check(at(120));
    expect(report.planned.map((p) => p.notification.id)).toEqual(['budget|-|2026-11-24T00:00:00Z|critical@100|firing']);
    expect(bodies(harness).map((b) => [b.severity, b.step])).toEqual([['critical', 100]]);
    expect(harness.slack.requests).toHaveLength(1);
  });

  test('cost no Langfuse request more than a plain threshold on the same window', async () => {
    const requestsPerCheck = async (yaml: string): Promise<number[]> => {
      harness = await startHarness(yaml, DAY);
      const counts: number[] = [];
      for (const now of CHECKS) {
        const before = harness.fake.requests.length;
        await harness.check(now);
        counts.push(harness.fake.requests.length - before);
      }
      await harness.close();
      harness = undefined;
      return counts;
    };
    const steps = await requestsPerCheck(STEPS);
    const plain = await requestsPerCheck(alertYaml('1000'));
    // the same requests, check by check ([2, 1, 1, 1] today: steps read nothing of their own)
    expect(steps).toEqual(plain);
    expect(steps.reduce((a, b) => a + b, 0)).toBeGreaterThan(0);
  });
});
