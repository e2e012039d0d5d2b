// The two Langfuse stand-ins held to a real one. Every recorded request is replayed over HTTP
// against each, loaded with the recorded data set:
// - the test fake (tools/fake-langfuse) must answer every one exactly as Langfuse did;
// - the demo server (src/demo) answers the shapes the worker sends: where it answers, it answers
//   as Langfuse did; what it doesn't support it refuses with a 400 saying so, never a wrong number.
// Then every query the worker actually sends (`check` over alerts of every kind, on v2 and on v1)
// is replayed against both, over the demo's sample data: the demo must answer each, as the fake does.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { main } from '../../src/cli/main.js';
import { sampleObservations } from '../../src/demo/sample-data.js';
import { startDemoLangfuse, type DemoLangfuse, type DemoObservation } from '../../src/demo/server.js';
import { startFakeLangfuse, type FakeLangfuse, type FakeObservation } from '../../tools/fake-langfuse/server.js';
import {
  RECORDED_PROJECT,
  RECORDED_PUBLIC_KEY,
  RECORDED_SECRET_KEY,
  loadDatasetObservations,
  loadRecording,
  type RecordedCase,
} from '../support/langfuse-dataset.js';

const TOLERANCE = 1e-9;

const recording = loadRecording();
const isMetricsPath = (path: string): boolean => /^\/api\/public\/(v2\/)?metrics\/?$/.test(path);
const isV2 = (path: string): boolean => path.startsWith('/api/public/v2/');
const metricsCases = recording.cases.filter((c) => isMetricsPath(c.path));
const projectCases = recording.cases.filter((c) => c.path === '/api/public/projects');
const otherEndpointCases = recording.cases.filter((c) => ['/api/public/health', '/api/public/ready'].includes(c.path));
const unknownPathCases = recording.cases.filter((c) => /^m2b?\./.test(c.name));

const RECORDED_KEYS = { publicKey: RECORDED_PUBLIC_KEY, secretKey: RECORDED_SECRET_KEY };

/**
 * The data set as Langfuse's v2 tables hold it: traces older than 7 days were backfilled there
 * without their trace fields (what the fake models as `v2LostTraceFields`).
 */
function asV2Sees(observations: readonly FakeObservation[]): DemoObservation[] {
  return observations.map(({ v2LostTraceFields, ...o }) =>
    v2LostTraceFields ? { ...o, traceName: null, userId: null, sessionId: null, release: null, tags: [], traceMetadata: {} } : o,
  );
}

function authorization(auth: string | null): Record<string, string> {
  if (auth === null) return {};
  if (auth.startsWith('Basic ') || auth.startsWith('Bearer ')) return { authorization: auth };
  return { authorization: `Basic ${Buffer.from(auth).toString('base64')}` };
}

interface Reply {
  readonly status: number;
  readonly contentType: string | null;
  readonly body: unknown;
}

async function replay(baseUrl: string, c: RecordedCase): Promise<Reply> {
  const url = `${baseUrl}${c.path}${c.rawQueryString ? `?${c.rawQueryString}` : ''}`;
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

/** the same answer, up to the order of rows within a bucket and float rounding */
function expectSameAnswer(got: Reply, status: number, body: unknown): void {
  expect(got.status).toBe(status);
  const expected = body as { data?: Row[] } | string;
  if (typeof expected === 'object' && expected !== null && Array.isArray(expected.data)) {
    const expectedRows = canonical(expected.data);
    expect(align(canonical((got.body as { data: Row[] }).data), expectedRows)).toEqual(expectedRows);
    expect(Object.keys(got.body as object)).toEqual(Object.keys(expected));
  } else {
    expect(got.body).toEqual(expected);
  }
}

describe('the test fake replays every recorded request exactly', () => {
  let fake: FakeLangfuse;

  beforeAll(async () => {
    fake = await startFakeLangfuse({
      observations: loadDatasetObservations(),
      ...RECORDED_KEYS,
      projectId: RECORDED_PROJECT.id,
      projectName: RECORDED_PROJECT.name,
      organization: RECORDED_PROJECT.organization,
    });
  });

  afterAll(async () => {
    await fake.close();
  });

  test('the recording has the expected cases', () => {
    expect(metricsCases.length).toBeGreaterThanOrEqual(100);
    expect(unknownPathCases.length).toBe(2);
  });

  test.each(metricsCases.map((c) => [c.name, c] as const))('%s', async (_name, c) => {
    expectSameAnswer(await replay(fake.url, c), c.status, c.body);
  });

  test.each([...projectCases, ...otherEndpointCases].map((c) => [c.name, c] as const))('%s', async (_name, c) => {
    const got = await replay(fake.url, c);
    expect(got.status).toBe(c.status);
    expect(got.body).toEqual(c.body);
  });

  test.each(unknownPathCases.map((c) => [c.name, c] as const))('%s answers an HTML 404', async (_name, c) => {
    const got = await replay(fake.url, c);
    expect(got.status).toBe(404);
    expect(got.contentType).toBe('text/html; charset=utf-8');
    expect(got.body).toContain('This page could not be found.');
  });
});

describe('the demo server answers the recorded requests it supports as Langfuse did, and refuses the rest', () => {
  // v1 and v2 read different tables in Langfuse: one server each, over the data as that API sees it
  let v1: DemoLangfuse;
  let v2: DemoLangfuse;
  const answered: string[] = [];

  beforeAll(async () => {
    const dataset = loadDatasetObservations();
    const options = { ...RECORDED_KEYS, project: RECORDED_PROJECT };
    v1 = await startDemoLangfuse({ observations: dataset, ...options });
    v2 = await startDemoLangfuse({ observations: asV2Sees(dataset), ...options });
  });

  afterAll(async () => {
    await Promise.all([v1.close(), v2.close()]);
  });

  test.each(metricsCases.map((c) => [c.name, c] as const))('%s', async (name, c) => {
    const got = await replay(isV2(c.path) ? v2.url : v1.url, c);
    if (got.status === 200) {
      answered.push(name);
      expectSameAnswer(got, c.status, c.body);
    } else if (c.status === 200) {
      expect(got).toMatchObject({ status: 400, body: { message: expect.stringMatching(/^the demo server does not support /) } });
    } else {
      // Langfuse refused it too; the demo's message may differ
      expect(got.status).toBeGreaterThanOrEqual(400);
    }
  });

  test('it answers most of the recorded metrics requests, on both API versions', () => {
    expect(answered.length).toBeGreaterThanOrEqual(40);
    expect(answered.filter((name) => !isV2(metricsCases.find((c) => c.name === name)!.path)).length).toBeGreaterThanOrEqual(5);
  });

  test.each(projectCases.map((c) => [c.name, c] as const))('%s', async (_name, c) => {
    const got = await replay(v2.url, c);
    expect(got.status).toBe(c.status);
    expect(got.body).toEqual(c.body);
  });
});

describe('every query the worker sends: the demo server answers it as the test fake does', () => {
  const NOW = new Date('2026-11-25T15:20:00Z');
  // every rule, window kind, groupBy field, top-N and filter the configuration offers
  const CONFIG = `timezone: Asia/Kolkata
channels:
  terminal: { type: console }
alerts:
  - { name: day, window: day, threshold: 40, channels: [terminal] }
  - { name: week, window: week, threshold: 400, channels: [terminal] }
  - { name: month, window: month, threshold: 2000, channels: [terminal] }
  - { name: spike, window: day, relative: { factor: 2, baseline: 7 }, channels: [terminal] }
  - { name: rolling-spike, window: 3h, relative: { factor: 2, baseline: 3 }, channels: [terminal] }
  - { name: models, window: 24h, groupBy: model, threshold: 40, channels: [terminal] }
  - { name: users, window: 24h, groupBy: userId, top: 5, threshold: 40, channels: [terminal] }
  - { name: traces, window: 1h, groupBy: traceName, threshold: 5, channels: [terminal] }
  - { name: environments, window: 7d, groupBy: environment, threshold: 300, channels: [terminal] }
  - { name: releases, window: day, groupBy: release, threshold: 30, channels: [terminal] }
  - { name: agents, window: day, groupBy: metadata.agent_type, values: [auditor, writer], threshold: 10, channels: [terminal] }
  - { name: runaway, window: 24h, perTrace: { threshold: 5, top: 10 }, channels: [terminal] }
  - name: filtered
    window: 36h
    threshold: 5
    filters:
      environment: production
      traceName: [security_audit, chat]
      model: claude-sonnet-4-5-20250929
      userId: user-07
      release: "1.5.0"
      tags: [team-b]
      metadata: { agent_type: auditor }
    channels: [terminal]
`;

  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'spend-alerts-contract-'));
    await writeFile(join(dir, 'alerts.yaml'), CONFIG);
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  /** the metrics queries `check` sends to a test fake on `version` */
  async function queriesSent(version: 'v1' | 'v2'): Promise<Array<{ path: string; query: unknown }>> {
    const fake = await startFakeLangfuse({ observations: sampleObservations(NOW), v2Enabled: version === 'v2' });
    try {
      const stateDir = await mkdtemp(join(dir, 'state-'));
      const env = {
        LANGFUSE_BASE_URL: fake.url,
        LANGFUSE_PUBLIC_KEY: fake.publicKey,
        LANGFUSE_SECRET_KEY: fake.secretKey,
        SPEND_ALERTS_STATE_DIR: stateDir,
      };
      const sink = (): PassThrough => new PassThrough().resume();
      const code = await main(['check', '--dry-run'], { stdout: sink(), stderr: sink(), env, cwd: dir }, () => NOW);
      // 1: alerts fire; 2 would be a configuration error
      expect(code).toBeLessThanOrEqual(1);
      return fake.requests
        .filter((r) => isMetricsPath(r.path) && r.status === 200 && isV2(r.path) === (version === 'v2'))
        .map((r) => ({ path: r.path, query: r.query }));
    } finally {
      await fake.close();
    }
  }

  test.each(['v2', 'v1'] as const)('on %s', async (version) => {
    const queries = await queriesSent(version);
    const shapes = (q: unknown): string => {
      const { dimensions, filters, timeDimension, orderBy } = q as Record<string, Array<Record<string, unknown>> | Record<string, unknown> | undefined>;
      return JSON.stringify({ dimensions, filters: (filters as Array<Record<string, unknown>>).map((f) => f['column']), timeDimension, orderBy });
    };
    // hourly and minute buckets, exact ranges, top-N, grouped and filtered queries all among them
    expect(queries.some((q) => shapes(q.query).includes('"granularity":"hour"'))).toBe(true);
    expect(queries.some((q) => shapes(q.query).includes('"granularity":"minute"'))).toBe(true);
    expect(queries.some((q) => shapes(q.query).includes('sum_totalCost","direction":"desc"'))).toBe(true);
    expect(queries.some((q) => shapes(q.query).includes('"metadata"'))).toBe(true);
    expect(queries.some((q) => shapes(q.query).includes('[{"field":"traceId"},{"field":"traceName"},{"field":"userId"}]'))).toBe(true);

    const observations = sampleObservations(NOW);
    const fake = await startFakeLangfuse({ observations });
    const demo = await startDemoLangfuse({
      observations,
      publicKey: fake.publicKey,
      secretKey: fake.secretKey,
      project: { id: 'p', name: 'p', organization: { id: 'o', name: 'o' } },
    });
    try {
      for (const { path, query } of queries) {
        const c = { method: 'GET', path, rawQueryString: `query=${encodeURIComponent(JSON.stringify(query))}`, auth: `${fake.publicKey}:${fake.secretKey}` } as RecordedCase;
        const expected = await replay(fake.url, c);
        expect(expected.status).toBe(200);
        expectSameAnswer(await replay(demo.url, c), expected.status, expected.body);
      }
    } finally {
      await Promise.all([fake.close(), demo.close()]);
    }
  });
});
