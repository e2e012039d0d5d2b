// The fake Langfuse held to a real one: every recorded metrics request is replayed over HTTP against
// the fake loaded with the recorded data set and must get the recorded status and answer.
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { startFakeLangfuse, type FakeLangfuse } from '../src/fake-langfuse/server.js';
import {
  RECORDED_PROJECT,
  RECORDED_PUBLIC_KEY,
  RECORDED_SECRET_KEY,
  loadDatasetObservations,
  loadRecording,
  type RecordedCase,
} from './support/langfuse-dataset.js';

const TOLERANCE = 1e-9;

const recording = loadRecording();
const isMetricsPath = (path: string): boolean => /^\/api\/public\/(v2\/)?metrics\/?$/.test(path);
const metricsCases = recording.cases.filter((c) => isMetricsPath(c.path));
const otherEndpointCases = recording.cases.filter((c) =>
  ['/api/public/health', '/api/public/ready', '/api/public/projects'].includes(c.path),
);
const unknownPathCases = recording.cases.filter((c) => /^m2b?\./.test(c.name));

let fake: FakeLangfuse;

beforeAll(async () => {
  fake = await startFakeLangfuse({
    observations: loadDatasetObservations(),
    publicKey: RECORDED_PUBLIC_KEY,
    secretKey: RECORDED_SECRET_KEY,
    projectId: RECORDED_PROJECT.id,
    projectName: RECORDED_PROJECT.name,
    organization: RECORDED_PROJECT.organization,
  });
});

afterAll(async () => {
  await fake.close();
});

function authorization(auth: string | null): Record<string, string> {
  if (auth === null) return {};
  if (auth.startsWith('Basic ') || auth.startsWith('Bearer ')) return { authorization: auth };
  return { authorization: `Basic ${Buffer.from(auth).toString('base64')}` };
}

async function replay(c: RecordedCase): Promise<{ status: number; contentType: string | null; body: unknown }> {
  const url = `${fake.url}${c.path}${c.rawQueryString ? `?${c.rawQueryString}` : ''}`;
  const res = await fetch(url, {
    method: c.method,
    headers: { ...authorization(c.auth), ...(c.method === 'POST' ? { 'content-type': 'application/json' } : {}) },
    ...(c.method === 'POST' ? { body: '{}' } : {}),
  });
  const text = await res.text();
  const contentType = res.headers.get('content-type');
  return { status: res.status, contentType, body: contentType?.startsWith('application/json') && text ? JSON.parse(text) : text };
}

/** `actual` with every number that is within TOLERANCE of its counterpart in `expected` replaced by it */
function align(actual: unknown, expected: unknown): unknown {
  if (typeof actual === 'number' && typeof expected === 'number') {
    return Math.abs(actual - expected) <= TOLERANCE ? expected : actual;
  }
  if (Array.isArray(actual) && Array.isArray(expected)) return actual.map((a, i) => align(a, expected[i]));
  if (actual && expected && typeof actual === 'object' && typeof expected === 'object') {
    const e = expected as Record<string, unknown>;
    return Object.fromEntries(Object.entries(actual).map(([k, v]) => [k, align(v, e[k])]));
  }
  return actual;
}

type Row = Record<string, unknown>;

// Langfuse leaves the rows of one time bucket in no fixed order: put them in one, by their
// non-numeric fields (the group), keeping the buckets where they are.
function canonical(rows: readonly Row[]): Row[] {
  if (!rows.some((r) => 'time_dimension' in r)) return [...rows];
  const groupKey = (r: Row): string => JSON.stringify(Object.entries(r).filter(([, v]) => typeof v !== 'number'));
  const out: Row[] = [];
  let i = 0;
  while (i < rows.length) {
    let j = i;
    while (j < rows.length && rows[j]?.time_dimension === rows[i]?.time_dimension) j++;
    out.push(...rows.slice(i, j).sort((a, b) => (groupKey(a) < groupKey(b) ? -1 : groupKey(a) > groupKey(b) ? 1 : 0)));
    i = j;
  }
  return out;
}

describe('replays every recorded metrics request', () => {
  test('the recording has the expected cases', () => {
    expect(metricsCases.length).toBeGreaterThanOrEqual(100);
    expect(unknownPathCases.length).toBe(2);
  });

  test.each(metricsCases.map((c) => [c.name, c] as const))('%s', async (_name, c) => {
    const got = await replay(c);
    expect(got.status).toBe(c.status);
    const expected = c.body as { data?: Row[] } | string;
    if (typeof expected === 'object' && expected !== null && Array.isArray(expected.data)) {
      const actualRows = (got.body as { data: Row[] }).data;
      const expectedRows = canonical(expected.data);
      expect(align(canonical(actualRows), expectedRows)).toEqual(expectedRows);
      expect(Object.keys(got.body as object)).toEqual(Object.keys(expected));
    } else {
      expect(got.body).toEqual(expected);
    }
  });

  test.each(otherEndpointCases.map((c) => [c.name, c] as const))('%s', async (_name, c) => {
    const got = await replay(c);
    expect(got.status).toBe(c.status);
    expect(got.body).toEqual(c.body);
  });

  test.each(unknownPathCases.map((c) => [c.name, c] as const))('%s answers an HTML 404', async (_name, c) => {
    const got = await replay(c);
    expect(got.status).toBe(404);
    expect(got.contentType).toBe('text/html; charset=utf-8');
    expect(got.body).toContain('This page could not be found.');
  });
});
