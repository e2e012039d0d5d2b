// Forecast alerts end to end over real sockets: fake Langfuse → evaluation → state → Slack, email
// and webhook receivers, in Europe/Berlin. `now` is the only thing the tests choose.
import { afterEach, describe, expect, test } from 'vitest';
import { startHarness, type Harness } from '../support/harness.js';
import { spend } from '../support/observations.js';

let harness: Harness | undefined;
afterEach(async () => {
  await harness?.close();
  harness = undefined;
});

const yaml = `
timezone: Europe/Berlin
alerts:
  - name: daily-forecast
    window: day
    forecast: { threshold: 150 }
    explain: []
    channels: [slack-ops, finance-mail, automation]
`;

/** Berlin is UTC+1 in November: local hour `h` of 2026-11-`day` at :30. */
const local = (day: number, h: number) => new Date(Date.UTC(2026, 10, day, h - 1, 30));
/** Seven business days before the 24th: $10 an hour from 08:00 to 18:00 Berlin, 60% of the day by 14:00. */
const history = () => Array.from({ length: 7 }, (_, i) => Array.from({ length: 10 }, (_, h) => spend(local(23 - i, 8 + h), 10))).flat();
/** Today's spend from 08:00 to 14:00 Berlin. */
const today = (usd: number) => Array.from({ length: 6 }, (_, h) => spend(local(24, 8 + h), usd / 6));

const AT_14 = new Date('2026-11-24T13:00:00Z');
const metricsSince = (h: Harness, index: number) => h.fake.requests.slice(index).filter((r) => r.path.includes('metrics')).length;

describe('a forecast alert', () => {
  test('fires at 14:00 on a day whose pace projects over the budget, once, with the math in every channel', async () => {
    harness = await startHarness(yaml, [...history(), ...today(120)]);
    const before = harness.fake.requests.length;
    const report = await harness.check(AT_14);
    expect(report.planned).toHaveLength(1);
    const body = harness.webhook.requests[0]!.json as Record<string, unknown>;
    expect(body).toMatchObject({
      kind: 'forecast',
      status: 'firing',
      severity: 'warning',
      value: 120,
      forecast: 200,
      share: 0.6,
      threshold: 150,
      crossesAt: '2026-11-24T14:30:00.000Z',
      baseline: null,
      factor: null,
    });
    const slack = harness.slack.requests[0]!.body;
    expect(slack).toContain('$200.00 projected');
    expect(slack).toContain('60%');
    expect(slack).toContain('at the usual pace the $150.00 budget is gone by 15:30 Europe/Berlin');
    expect(harness.smtp.messages[0]!.parsed.subject).toBe('[WARNING] daily-forecast: $200.00 projected > $150.00');
    const mail = harness.smtp.messages[0]!.parsed.text ?? '';
    expect(mail).toContain("Typical:   60% of the day's spend by now");
    expect(mail).toContain('Forecast:  $200.00 for the whole day');
    expect(mail).toContain('15:30 Europe/Berlin');
    const cold = metricsSince(harness, before);

    const warm = harness.fake.requests.length;
    const again = await harness.check(new Date(AT_14.getTime() + 30 * 60_000));
    const costs = [cold, metricsSince(harness, warm)];
    expect(again.planned).toHaveLength(0);
    expect(harness.webhook.requests).toHaveLength(1);
    await harness.close();

    // the hourly profile of the 7 previous days costs nothing of its own: a relative alert with the
    // same baseline and filter set sends as many requests (both without contributors, whose
    // baselines differ: test/e2e/contributors.test.ts counts what they cost)
    harness = await startHarness(yaml.replace('forecast: { threshold: 150 }', 'relative: { factor: 2, baseline: 7 }'), [...history(), ...today(120)]);
    await harness.check(AT_14);
    const relativeCold = metricsSince(harness, 0);
    const relativeWarm = harness.fake.requests.length;
    await harness.check(new Date(AT_14.getTime() + 30 * 60_000));
    expect(costs).toEqual([relativeCold, metricsSince(harness, relativeWarm)]);
    expect(costs).toEqual([2, 2]);
  });

  test('stays silent on a normal day', async () => {
    harness = await startHarness(yaml, [...history(), ...today(60)]);
    const report = await harness.check(AT_14);
    expect(report.evaluations[0]!.series[0]!.value).toBeCloseTo(60, 9);
    expect(report.planned).toHaveLength(0);
    expect(harness.webhook.requests).toHaveLength(0);
  });

  test('stays silent before minElapsed, then projects from elapsed time when the usual days spent nothing by now', async () => {
    harness = await startHarness(yaml, [...history(), spend(local(24, 0), 20), spend(local(24, 1), 20)]);
    // 02:00 Berlin: 8% of the day, under minElapsed 0.1
    expect((await harness.check(new Date('2026-11-24T01:00:00Z'))).planned).toHaveLength(0);
    // 03:00 Berlin: 12.5%; the usual days had spent nothing by now, so the share is the time: $40 → $320
    await harness.check(new Date('2026-11-24T02:00:00Z'));
    const body = harness.webhook.requests[0]!.json as Record<string, unknown>;
    expect(body).toMatchObject({ kind: 'forecast', value: 40, forecast: 320, share: 0.125, threshold: 150 });
    // linear in time: $150 at 150 ÷ 320 of the day, 11:15 Berlin
    expect(body['crossesAt']).toBe('2026-11-24T10:15:00.000Z');
  });
});
