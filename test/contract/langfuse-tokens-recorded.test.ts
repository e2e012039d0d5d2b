// Tokens by model (the report's byModel, PRODUCT.md "Commands") as a real Langfuse answered them:
// the token cases of the insight recording (test/fixtures/langfuse/cases-insight-tokens.json, copied
// from the recording's cases-insight.json: n20, n23, n24 and the data set) replayed over HTTP against
// the test fake and the demo server, loaded with that data set. The fake must answer them exactly
// (token sums per model, the unpriced model's tokens with cost 0); the demo those the product sends.
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { DemoLangfuse } from '../../src/demo/server.js';
import type { FakeLangfuse } from '../../tools/fake-langfuse/server.js';
import { insightObservations, replayRecorded, type InsightObservation, startRecordingServers } from '../support/insight-recording.js';

interface Case {
  name: string;
  path: string;
  rawQueryString: string;
  auth: string;
  status: number;
  body: { data: Array<Record<string, unknown>> };
}

const recording = JSON.parse(readFileSync(new URL('../fixtures/langfuse/cases-insight-tokens.json', import.meta.url), 'utf8')) as {
  observations_flat: InsightObservation[];
  cases: Case[];
};
const [publicKey, secretKey] = recording.cases[0]!.auth.split(':') as [string, string];
const observations = insightObservations(recording.observations_flat);

/** rows keyed by model (their order among equal first metrics isn't fixed), costs within 1e-9 */
function byModel(body: unknown): Record<string, Record<string, unknown>> {
  const rows = (body as Case['body']).data;
  return Object.fromEntries(
    rows.map((row) => [
      String(row['providedModelName'] ?? '(none)'),
      Object.fromEntries(Object.entries(row).map(([key, value]) => [key, typeof value === 'number' ? Number(value.toPrecision(10)) : value])),
    ]),
  );
}

describe('the recorded token cases', () => {
  let fake: FakeLangfuse;
  let demo: DemoLangfuse;
  let close: () => Promise<void>;

  beforeAll(async () => {
    ({ fake, demo, close } = await startRecordingServers(observations, { publicKey, secretKey }));
  });
  afterAll(() => close());

  test('are the three the report relies on, with the unpriced model at cost 0', () => {
    expect(recording.cases.map((c) => c.name)).toEqual([
      'n20.v2.tokens.by_providedModelName',
      'n23.v2.tokens.unpriced_model.no_dims',
      'n24.v2.tokens.generations.by_providedModelName',
    ]);
    expect(byModel(recording.cases[0]!.body)['acme-inhouse-llm-v1']).toMatchObject({ sum_inputTokens: 14400, sum_outputTokens: 3900, sum_totalCost: 0 });
  });

  test.each(recording.cases.map((c) => [c.name, c] as const))('the fake answers %s as Langfuse did', async (_name, c) => {
    const got = await replayRecorded(fake.url, c);
    expect(got.status).toBe(c.status);
    expect(byModel(got.body)).toEqual(byModel(c.body));
    expect((got.body as Case['body']).data).toHaveLength(c.body.data.length);
  });

  // n24 filters on the observation type, which the product never sends: the demo server refuses it
  test.each(recording.cases.map((c) => [c.name, c] as const))('the demo server answers %s alike, or refuses a type filter', async (_name, c) => {
    const got = await replayRecorded(demo.url, c);
    if (c.rawQueryString.includes(encodeURIComponent('"column":"type"'))) {
      expect(got.status).toBe(400);
      return;
    }
    expect(got.status).toBe(c.status);
    expect(byModel(got.body)).toEqual(byModel(c.body));
  });
});
