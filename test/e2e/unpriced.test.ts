// Models without a price (`unpriced`), end to end over real sockets: fake Langfuse → evaluation →
// state → Slack / email / webhook receivers. The data set is the insight recording's
// (test/fixtures/langfuse/cases-insight-tokens.json), where Langfuse answered cost 0 with tokens
// for its in-house model; every trace also gets the root span real traces carry (no model, no cost).
import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, test } from 'vitest';
import { startHarness, type Harness } from '../support/harness.js';
import { insightObservations, type InsightObservation } from '../support/insight-recording.js';
import type { FakeObservation } from '../../tools/fake-langfuse/server.js';

let harness: Harness | undefined;
afterEach(async () => {
  await harness?.close();
  harness = undefined;
});

const recording = JSON.parse(readFileSync(new URL('../fixtures/langfuse/cases-insight-tokens.json', import.meta.url), 'utf8')) as {
  observations_flat: InsightObservation[];
  cases: Array<{ name: string; body: { data: Array<Record<string, unknown>> } }>;
};
/** what Langfuse answered for the unpriced model by model (n20): tokens with cost 0 */
const recordedRow = recording.cases
  .find((c) => c.name === 'n20.v2.tokens.by_providedModelName')!
  .body.data.find((row) => row['providedModelName'] !== null && row['sum_totalCost'] === 0)!;
const UNPRICED = String(recordedRow['providedModelName']);

/** the root span of each trace: no model, no cost, no tokens */
function rootSpans(observations: readonly FakeObservation[]): FakeObservation[] {
  const first = new Map<string, FakeObservation>();
  for (const o of observations) if (!first.has(o.traceId)) first.set(o.traceId, o);
  return [...first.values()].map((o) => ({
    ...o,
    id: `${o.traceId}-root`,
    type: 'SPAN',
    providedModelName: null,
    inputCost: null,
    outputCost: null,
    totalCost: null,
    inputTokens: undefined,
    outputTokens: undefined,
  }));
}
const recorded = insightObservations(recording.observations_flat);
const withRootSpans = [...recorded, ...rootSpans(recorded)];

/** one generation of `model` at `at`; cost null: no price */
function generation(id: string, model: string, at: Date, tokens: { input: number; output: number }, cost: number | null): FakeObservation {
  return {
    id,
    traceId: `trace-${id}`,
    type: 'GENERATION',
    startTime: at.toISOString(),
    traceName: 'chat',
    userId: null,
    sessionId: null,
    environment: 'production',
    tags: [],
    release: null,
    traceMetadata: {},
    providedModelName: model,
    inputCost: cost,
    outputCost: cost === null ? null : 0,
    totalCost: cost,
    inputTokens: tokens.input,
    outputTokens: tokens.output,
  };
}

const metricsRequests = (h: Harness) => h.fake.requests.filter((r) => /\/metrics\/?$/.test(r.path));

interface Body {
  id: string;
  kind: string;
  severity: string;
  alert: string;
  group: Record<string, string | null>;
  value: number;
  threshold: number | null;
  tokens: { input: number; output: number; total: number };
  message: string;
  contributors: unknown[];
}
const bodies = (h: Harness) => h.webhook.requests.map((r) => r.json as Body);

// the recording's data lies between 2026-12-01 10:15 and 2026-12-02 04:21 UTC
const RECORDED_NOW = new Date('2026-12-02T05:00:00.000Z');

describe('unpriced', () => {
  test('names the model with tokens and no cost, once; not the priced ones nor the root spans; one request per evaluation', async () => {
    harness = await startHarness(
      `
alerts:
  - name: unpriced-models
    window: 24h
    unpriced: {}
    channels: [slack-ops, finance-mail, automation]
`,
      withRootSpans,
    );
    const first = await harness.check(RECORDED_NOW);
    expect(first.planned.map((p) => p.notification.group)).toEqual([{ model: UNPRICED }]);
    const [body] = bodies(harness);
    expect(body).toMatchObject({
      kind: 'unpriced',
      severity: 'warning',
      alert: 'unpriced-models',
      group: { model: UNPRICED },
      value: 0,
      threshold: null,
      tokens: {
        input: recordedRow['sum_inputTokens'],
        output: recordedRow['sum_outputTokens'],
        total: recordedRow['sum_totalTokens'],
      },
      contributors: [],
    });
    expect(body!.message).toContain(UNPRICED);
    expect(body!.message).toContain('models:');
    const slack = harness.slack.requests[0]!.body;
    expect(slack).toContain(UNPRICED);
    expect(slack).toContain('18,300');
    expect(slack).toContain('models:');
    const mail = harness.smtp.messages[0]!.parsed;
    expect(mail.text).toContain(UNPRICED);
    expect(mail.text).toContain('18,300');
    expect(mail.text).toContain('models:');
    // one request per evaluation: the models of the window with their cost and tokens
    expect(metricsRequests(harness)).toHaveLength(1);
    expect(metricsRequests(harness)[0]!.query).toMatchObject({
      metrics: [
        { measure: 'totalCost', aggregation: 'sum' },
        { measure: 'inputTokens', aggregation: 'sum' },
        { measure: 'outputTokens', aggregation: 'sum' },
      ],
      dimensions: [{ field: 'providedModelName' }],
    });

    const second = await harness.check(new Date(RECORDED_NOW.getTime() + 15 * 60_000));
    expect(second.planned).toHaveLength(0);
    expect(metricsRequests(harness)).toHaveLength(2);
  });

  test('not under minTokens, not for an ignored model; alerts with the same filters share the request', async () => {
    harness = await startHarness(
      `
alerts:
  - name: few-tokens
    window: 24h
    unpriced: { minTokens: ${Number(recordedRow['sum_totalTokens'])} }
    channels: [automation]
  - name: free-on-purpose
    window: 24h
    unpriced: { ignore: ['${UNPRICED}'] }
    channels: [automation]
`,
      withRootSpans,
    );
    const checked = await harness.check(RECORDED_NOW);
    expect(checked.planned).toHaveLength(0);
    expect(harness.webhook.requests).toHaveLength(0);
    expect(metricsRequests(harness)).toHaveLength(1);
  });

  test('a model priced at 0 under models: is free on purpose: it does not fire, an unpriced model beside it does', async () => {
    harness = await startHarness(
      `
alerts:
  - name: unpriced-models
    window: day
    unpriced: { minTokens: 1000 }
    channels: [automation]
models:
  - modelName: acme-free
    matchPattern: "(?i)^(acme-free)$"
    inputPrice: 0
    outputPrice: 0
`,
      [
        generation('free', 'acme-free', new Date('2026-11-24T12:00:00.000Z'), { input: 4000, output: 500 }, 0),
        generation('other', 'in-house', new Date('2026-11-24T12:00:00.000Z'), { input: 4000, output: 500 }, 0),
      ],
    );
    const checked = await harness.check(new Date('2026-11-24T15:00:00.000Z'));
    expect(checked.planned.map((p) => p.notification.group)).toEqual([{ model: 'in-house' }]);
  });

  test('calendar windows: a model priced for part of the window is not unpriced; an unpriced one notifies once per period', async () => {
    const now = new Date('2026-11-24T15:00:00.000Z');
    const tomorrow = new Date('2026-11-25T15:00:00.000Z');
    const hoursBefore = (h: number, from: Date) => new Date(from.getTime() - h * 3_600_000);
    harness = await startHarness(
      `
alerts:
  - name: unpriced-models
    window: day
    unpriced: { minTokens: 1000 }
    channels: [automation]
`,
      [
        generation('a', 'in-house', hoursBefore(3, now), { input: 4000, output: 500 }, null),
        generation('b', 'repriced', hoursBefore(4, now), { input: 5000, output: 500 }, null),
        generation('c', 'repriced', hoursBefore(1, now), { input: 100, output: 10 }, 0.002),
        generation('d', 'in-house', hoursBefore(3, tomorrow), { input: 2000, output: 100 }, null),
      ],
    );
    const first = await harness.check(now);
    expect(first.planned.map((p) => p.notification.id)).toEqual(['unpriced-models|model=in-house|2026-11-24T00:00:00Z|warning|firing']);
    expect(bodies(harness)[0]!.tokens).toEqual({ input: 4000, output: 500, total: 4500 });
    expect((await harness.check(new Date(now.getTime() + 3_600_000))).planned).toHaveLength(0);
    const next = await harness.check(tomorrow);
    expect(next.planned.map((p) => p.notification.id)).toEqual(['unpriced-models|model=in-house|2026-11-25T00:00:00Z|warning|firing']);
  });

  test('a hostile model name is escaped in Slack and email', async () => {
    const hostile = '<!channel> <https://evil.example|click> @here <b>x</b>';
    harness = await startHarness(
      `
alerts:
  - name: unpriced-models
    window: day
    unpriced: {}
    channels: [slack-ops, finance-mail, automation]
`,
      [generation('evil', hostile, new Date('2026-11-24T12:00:00.000Z'), { input: 3000, output: 300 }, null)],
    );
    await harness.check(new Date('2026-11-24T15:00:00.000Z'));
    const slack = harness.slack.requests[0]!.body;
    expect(slack).not.toContain('<!channel>');
    expect(slack).not.toContain('<https://evil.example|click>');
    expect(slack).toContain('&lt;!channel&gt;');
    expect(slack).not.toMatch(/(^|[^&])@here/);
    const html = harness.smtp.messages[0]!.parsed.html as string;
    expect(html).not.toContain('<b>x</b>');
    expect(html).toContain('&lt;b&gt;x&lt;/b&gt;');
    expect(bodies(harness)[0]!.group).toEqual({ model: hostile });
  });
});
