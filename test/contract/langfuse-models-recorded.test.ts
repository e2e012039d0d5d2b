// The fake Langfuse's Models API held to the recording (cases l1–l11 of cases.json): the recorded
// requests replayed over HTTP against the fake, seeded with Langfuse's catalogue and a project with
// the recording's custom model, each answer compared with what Langfuse sent. Ids and creation
// times the fake makes itself are the only fields left out.
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { startFakeLangfuse, type FakeLangfuse } from '../../tools/fake-langfuse/server.js';
import { RECORDED_PUBLIC_KEY, RECORDED_SECRET_KEY, loadRecording, type RecordedCase } from '../support/langfuse-dataset.js';
import { builtinModels, customModel } from '../support/langfuse-models.js';

const cases = new Map(loadRecording().cases.filter((c) => c.path.startsWith('/api/public/models')).map((c) => [c.name.split('.')[0]!, c]));
const recorded = (key: string): RecordedCase => cases.get(key)!;
const authorization = `Basic ${Buffer.from(`${RECORDED_PUBLIC_KEY}:${RECORDED_SECRET_KEY}`).toString('base64')}`;

let fake: FakeLangfuse;

/** the recording's project: its custom model, and 7 more so that it holds 175 models as Langfuse did (l10) */
beforeAll(async () => {
  fake = await startFakeLangfuse({ observations: [], publicKey: RECORDED_PUBLIC_KEY, secretKey: RECORDED_SECRET_KEY, managedModels: builtinModels() });
  const custom = recorded('l3').requestBody as Record<string, unknown>;
  for (const body of [custom, ...Array.from({ length: 7 }, (_, i) => customModel(`zz-project-model-${i}`, 1e-6, 2e-6))]) {
    expect((await send('POST', '/api/public/models', body)).status).toBe(200);
  }
});
afterAll(() => fake.close());

async function send(method: string, path: string, body?: unknown): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(`${fake.url}${path}`, {
    method,
    headers: { authorization, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

const replay = (c: RecordedCase) => send(c.method, `${c.path}${c.rawQueryString ? `?${c.rawQueryString}` : ''}`, c.requestBody ?? undefined);

/** a model answer without what the fake makes up: its id, creation time and its tiers' ids */
function withoutMadeUp(model: Record<string, unknown>): Record<string, unknown> {
  const { id: _id, createdAt: _createdAt, pricingTiers, ...rest } = model;
  return { ...rest, pricingTiers: (pricingTiers as Array<Record<string, unknown>>).map(({ id: _tier, ...tier }) => tier) };
}

describe('the fake Models API answers as Langfuse did', () => {
  test('l1: the first page of 5, ordered by name, with the flat prices of the default tier and the page meta', async () => {
    const c = recorded('l1');
    const { status, body } = await replay(c);
    expect(status).toBe(c.status);
    const want = c.body as { data: Array<Record<string, unknown>>; meta: unknown };
    expect(body['meta']).toEqual(want.meta);
    const got = body['data'] as Array<Record<string, unknown>>;
    expect(got.map((m) => m['id'])).toEqual(want.data.map((m) => m['id']));
    for (const [index, model] of want.data.entries()) {
      // babbage-002 still carries a totalPrice on the recorded server from an older catalogue;
      // builtin-models.json, whose default tier has none, is the catalogue at the recorded commit
      const { createdAt: _c, totalPrice, ...rest } = model;
      expect({ ...got[index], createdAt: undefined, totalPrice: undefined }).toEqual({ ...rest, createdAt: undefined, totalPrice: undefined });
      if (model['modelName'] !== 'babbage-002') expect(got[index]!['totalPrice']).toEqual(totalPrice);
    }
  });

  test('l10: a page past the last is empty, with the totals', async () => {
    const c = recorded('l10');
    expect(await replay(c)).toEqual({ status: c.status, body: c.body });
  });

  test('l2: a custom model read back; l3: a second model of its name refused word for word', async () => {
    const list = await send('GET', '/api/public/models?page=1&limit=100');
    const page2 = await send('GET', '/api/public/models?page=2&limit=100');
    const all = [...(list.body['data'] as Array<Record<string, unknown>>), ...(page2.body['data'] as Array<Record<string, unknown>>)];
    expect(all).toHaveLength(175);
    const llama = all.find((m) => m['modelName'] === 'llama-3-70b-internal')!;
    const read = await send('GET', `/api/public/models/${String(llama['id'])}`);
    expect(read.status).toBe(recorded('l2').status);
    expect(withoutMadeUp(read.body)).toEqual(withoutMadeUp(recorded('l2').body as Record<string, unknown>));
    const c = recorded('l3');
    expect(await replay(c)).toEqual({ status: c.status, body: c.body });
  });

  test('l4: a missing unit and l11: no flat prices and no pricingTiers are refused with the schema errors', async () => {
    for (const key of ['l4', 'l11']) {
      const c = recorded(key);
      expect(await replay(c), key).toEqual({ status: c.status, body: c.body });
    }
  });

  test('l5–l6c: created, deleted, deleted again and read after: 200, 200, 404, 404', async () => {
    const created = await replay(recorded('l5'));
    expect(created.status).toBe(200);
    expect(withoutMadeUp(created.body)).toEqual(withoutMadeUp(recorded('l5').body as Record<string, unknown>));
    const path = `/api/public/models/${String(created.body['id'])}`;
    for (const [key, method] of [['l6', 'DELETE'], ['l6b', 'DELETE'], ['l6c', 'GET']] as const) {
      const c = recorded(key);
      expect(await send(method, path), key).toEqual({ status: c.status, body: c.body });
    }
  });

  test("l7: one of Langfuse's models read by id; l8: it can't be deleted; l9: an unknown id", async () => {
    const gpt4o = recorded('l7');
    const read = await replay(gpt4o);
    expect(read.status).toBe(200);
    expect({ ...read.body, createdAt: undefined }).toEqual({ ...(gpt4o.body as Record<string, unknown>), createdAt: undefined });
    for (const key of ['l8', 'l9']) {
      const c = recorded(key);
      expect(await replay(c), key).toEqual({ status: c.status, body: c.body });
    }
    expect((await send('GET', gpt4o.path)).status).toBe(200);
  });

  test('the Models API asks for the same keys as the Metrics API', async () => {
    const res = await fetch(`${fake.url}/api/public/models`, { headers: { authorization: 'Basic ' + Buffer.from('pk-lf-local:wrong').toString('base64') } });
    expect(res.status).toBe(401);
  });
});
