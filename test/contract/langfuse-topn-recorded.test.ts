// The top-N of traces (a perTrace alert's one request) as a real Langfuse answered it: every
// recorded top-N case of the insight recording (test/fixtures/langfuse/cases-insight-topn.json,
// copied from the recording's cases-insight.json: the top-N cases, their 400s and the data set)
// is replayed over HTTP against the test fake and the demo server, loaded with that data set.
// The fake must answer each exactly, errors word for word; the demo answers the successful ones
// alike and refuses the invalid ones with a 400.
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
  body: unknown;
}

const recording = JSON.parse(readFileSync(new URL('../fixtures/langfuse/cases-insight-topn.json', import.meta.url), 'utf8')) as {
  observations_flat: InsightObservation[];
  cases: Case[];
};
const [publicKey, secretKey] = recording.cases[0]!.auth.split(':') as [string, string];
const metricsCases = recording.cases.filter((c) => c.path === '/api/public/v2/metrics');

const observations = insightObservations(recording.observations_flat);

/** numbers within 1e-9 of the recorded ones count as equal (sums of floats) */
function near(actual: unknown, expected: unknown): unknown {
  if (typeof actual === 'number' && typeof expected === 'number') return Math.abs(actual - expected) <= 1e-9 ? expected : actual;
  if (Array.isArray(actual) && Array.isArray(expected)) return actual.map((a, i) => near(a, expected[i]));
  if (actual && expected && typeof actual === 'object' && typeof expected === 'object') {
    return Object.fromEntries(Object.entries(actual).map(([k, v]) => [k, near(v, (expected as Record<string, unknown>)[k])]));
  }
  return actual;
}

describe('the recorded top-N cases', () => {
  let fake: FakeLangfuse;
  let demo: DemoLangfuse;
  let close: () => Promise<void>;

  beforeAll(async () => {
    ({ fake, demo, close } = await startRecordingServers(observations, { publicKey, secretKey }));
  });
  afterAll(() => close());

  test('are the ones the perTrace rule relies on', () => {
    const names = metricsCases.map((c) => c.name);
    expect(names).toContain('n03.v2.topN.traceId_traceName_userId.row_limit_5');
    expect(names.filter((name) => name.includes('.err.'))).toHaveLength(7);
  });

  test.each(metricsCases.map((c) => [c.name, c] as const))('the fake answers %s as Langfuse did', async (_name, c) => {
    const got = await replayRecorded(fake.url, c);
    expect(got.status).toBe(c.status);
    expect(near(got.body, c.body)).toEqual(c.body);
  });

  test.each(metricsCases.map((c) => [c.name, c] as const))('the demo server answers %s alike, or refuses it', async (_name, c) => {
    const got = await replayRecorded(demo.url, c);
    if (c.status === 200) {
      expect(got.status).toBe(200);
      expect(near(got.body, c.body)).toEqual(c.body);
    } else {
      expect(got.status).toBe(400);
    }
  });
});
