// The metadata filter a `groupBy: metadata.KEY` alert sends once per value, held to a real
// Langfuse: the cases of the second recording (../shared/langfuse/recorded/cases-insight.json,
// copied to test/fixtures/langfuse/insight-metadata.json) that filter on trace metadata are
// replayed over HTTP against the test fake and the demo server, loaded with that recording's data.
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { DemoLangfuse } from '../../src/demo/server.js';
import type { FakeLangfuse } from '../../tools/fake-langfuse/server.js';
import { insightObservations, replayRecorded, type InsightObservation, startRecordingServers } from '../support/insight-recording.js';
import type { RecordedCase } from '../support/langfuse-dataset.js';

const recording = JSON.parse(readFileSync(new URL('../fixtures/langfuse/insight-metadata.json', import.meta.url), 'utf8')) as {
  observations: InsightObservation[];
  cases: RecordedCase[];
};

const observations = insightObservations(recording.observations);

const [publicKey, secretKey] = recording.cases[0]!.auth!.split(':') as [string, string];

type Row = Record<string, unknown>;

/** An answer's rows (groups, buckets, counts and cost), the cost rounded past float noise, in one order. */
function costs(body: unknown): Row[] {
  const rows = (body as { data: Row[] }).data;
  return rows
    .map((row) => {
      const cost = row['sum_totalCost'];
      const rest = Object.fromEntries(Object.entries(row).filter(([key]) => key !== 'sum_totalCost'));
      return { ...rest, sum_totalCost: typeof cost === 'number' ? Math.round(cost * 1e10) / 1e10 : cost };
    })
    .sort((a, b) => (JSON.stringify(a) < JSON.stringify(b) ? -1 : 1));
}

describe('metadata filters, as a real Langfuse answered them', () => {
  let fake: FakeLangfuse;
  let demo: DemoLangfuse;
  let close: () => Promise<void>;
  beforeAll(async () => {
    ({ fake, demo, close } = await startRecordingServers(observations, { publicKey, secretKey }));
  });
  afterAll(() => close());

  test('the fixture holds the metadata cases: a value with spend, hourly, none, and combined with none of', () => {
    expect(recording.cases.map((c) => c.name.split('.')[0])).toEqual(['n40', 'n41', 'n42', 'n43', 'n43b', 'n48']);
    expect(recording.cases.every((c) => JSON.stringify(c.query).includes('"stringObject"'))).toBe(true);
  });

  test.each(recording.cases.map((c) => [c.name, c] as const))('%s: the fake and the demo answer the same costs', async (_name, c) => {
    for (const server of [fake.url, demo.url]) {
      const got = await replayRecorded(server, c);
      expect(got.status).toBe(c.status);
      expect(costs(got.body)).toEqual(costs(c.body));
    }
  });
});
