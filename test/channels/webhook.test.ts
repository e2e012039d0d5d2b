import { createHmac } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { deliver } from '../../src/channels/deliver.js';
import { createWebhookChannel, signBody } from '../../src/channels/webhook.js';
import { verifySignature } from '../support/webhook-signature.js';
import { startHttpReceiver, type HttpReceiver } from '../support/http-receiver.js';
import { CLAUDE_URL, GPT_4O_URL, RESEARCH_URL, context, explained, firing, hostileContributors, notification, recordingSleep, resolved, systemNotice } from './fixtures.js';

const secret = 'whsec-test-signing-secret';

let receiver: HttpReceiver;
beforeEach(async () => {
  receiver = await startHttpReceiver({ status: 204, body: '' });
});
afterEach(async () => {
  await receiver.close();
});

function channel(withSecret = true) {
  return createWebhookChannel(
    'automation',
    { type: 'webhook', url: receiver.url('/hooks/spend?token=query-secret'), ...(withSecret ? { secret } : {}) },
    context(),
  );
}

const modelBudget = notification({
  id: 'model-budget|model=gpt-4o|2026-11-24T09:15:00Z|critical|firing',
  alert: 'model-budget',
  group: { model: 'gpt-4o' },
  window: { type: '24h', from: '2026-11-23T15:04:05.000Z', to: '2026-11-24T15:04:05.000Z', timezone: 'UTC' },
  value: 21.25,
  threshold: 20,
  evaluatedAt: '2026-11-24T15:04:05.000Z',
  langfuseUrl: 'https://cloud.langfuse.com/project/abc',
});

describe('webhook channel', () => {
  it('posts the documented body, key for key and in order', async () => {
    await channel().send([modelBudget], AbortSignal.timeout(5_000));
    const [request] = receiver.requests;
    expect(request?.method).toBe('POST');
    expect(request?.path).toBe('/hooks/spend?token=query-secret');
    expect(request?.headers['content-type']).toBe('application/json');
    const expected = {
      version: '1',
      id: 'model-budget|model=gpt-4o|2026-11-24T09:15:00Z|critical|firing',
      status: 'firing',
      severity: 'critical',
      alert: 'model-budget',
      kind: 'threshold',
      group: { model: 'gpt-4o' },
      window: { type: '24h', from: '2026-11-23T15:04:05.000Z', to: '2026-11-24T15:04:05.000Z', timezone: 'UTC' },
      value: 21.25,
      threshold: 20,
      baseline: null,
      factor: null,
      currency: 'USD',
      evaluatedAt: '2026-11-24T15:04:05.000Z',
      langfuseUrl: 'https://cloud.langfuse.com/project/abc',
      contributors: [],
    };
    expect(request?.json).toEqual(expected);
    // same keys in the same order: the raw body is exactly the documented document
    expect(request?.body).toBe(JSON.stringify(expected));
  });

  it('keeps a null group value, an empty group, and adds message and test only when set', async () => {
    const nullGroup = notification({ id: 'a', group: { model: null } });
    const test = notification({ id: 'b', test: true, message: 'hello from test-notify' });
    await channel().send([nullGroup, firing, systemNotice, test], AbortSignal.timeout(5_000));
    const bodies = receiver.requests.map((r) => r.json as Record<string, unknown>);
    expect(bodies[0]?.group).toEqual({ model: null });
    expect(bodies[1]?.group).toEqual({});
    expect(bodies[1]).not.toHaveProperty('message');
    expect(bodies[1]).not.toHaveProperty('test');
    expect(bodies[2]).toMatchObject({ kind: 'system', alert: 'spend-alerts', message: 'Langfuse unreachable for 3 evaluations' });
    expect(Object.keys(bodies[2] ?? {}).slice(-3)).toEqual(['langfuseUrl', 'contributors', 'message']);
    expect(Object.keys(bodies[3] ?? {}).slice(-4)).toEqual(['langfuseUrl', 'contributors', 'message', 'test']);
    expect(bodies[3]?.test).toBe(true);
  });

  it('carries the top contributors of a firing notification, and contributors: [] on a resolved one', async () => {
    await channel().send([explained, resolved, hostileContributors], AbortSignal.timeout(5_000));
    const [fired, resolvedBody, hostile] = receiver.requests.map((r) => r.json as Record<string, unknown>);
    expect(fired?.contributors).toEqual([
      { dimension: 'model', value: 'gpt-4o', spend: 40, share: 0.653, baseline: 10, change: 30, url: GPT_4O_URL },
      { dimension: 'model', value: 'claude-3', spend: 12, share: 0.196, baseline: 0, change: 12, url: CLAUDE_URL },
      { dimension: 'model', value: null, spend: 2.5, share: 0.041, baseline: 4, change: -1.5, url: null },
      { dimension: 'traceName', value: 'research_agent', spend: 61.25, share: 1, baseline: null, change: null, url: RESEARCH_URL },
    ]);
    expect(fired?.contributorsMissing).toEqual([{ dimension: 'userId', reason: 'the request budget admits no more Langfuse requests until 13:40' }]);
    expect(Object.keys(fired ?? {}).slice(-3)).toEqual(['langfuseUrl', 'contributors', 'contributorsMissing']);
    expect(resolvedBody?.contributors).toEqual([]);
    expect(resolvedBody).not.toHaveProperty('contributorsMissing');
    // JSON carries a value as it is; a receiver escapes for its own medium
    expect((hostile?.contributors as Array<{ value: string }>).map((c) => c.value)).toEqual([
      '<img src=x onerror=alert(1)>',
      '@channel <!here>',
      '*bold* </script>',
      'gpt\r\nBcc: x@evil.example',
    ]);
  });

  it('signs the raw body with the secret, verifiable by a receiver', async () => {
    await channel().send([modelBudget], AbortSignal.timeout(5_000));
    const [request] = receiver.requests;
    const timestamp = request?.headers['x-spend-alerts-timestamp'] as string;
    const signature = request?.headers['x-spend-alerts-signature'] as string;
    expect(timestamp).toMatch(/^\d{10}$/);
    expect(Math.abs(Number(timestamp) - Date.now() / 1000)).toBeLessThan(300);
    const body = request?.body ?? '';
    const independent = `sha256=${createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex')}`;
    expect(signature).toBe(independent);
    expect(verifySignature({ secret, body, timestamp, signature })).toBe(true);
    expect(verifySignature({ secret: 'wrong-secret', body, timestamp, signature })).toBe(false);
    expect(verifySignature({ secret, body: body.replace('21.25', '1.25'), timestamp, signature })).toBe(false);
    expect(verifySignature({ secret, body, timestamp: String(Number(timestamp) + 1), signature })).toBe(false);
    expect(verifySignature({ secret, body, timestamp, signature: undefined })).toBe(false);
  });

  it('rejects a stale or future timestamp unless the tolerance allows it', () => {
    const body = '{"x":1}';
    const signature = signBody(secret, 1_000, body);
    expect(verifySignature({ secret, body, timestamp: '1000', signature, now: 1_200 })).toBe(true);
    expect(verifySignature({ secret, body, timestamp: '1000', signature, now: 1_301 })).toBe(false);
    expect(verifySignature({ secret, body, timestamp: '1000', signature, now: 699 })).toBe(false);
    expect(verifySignature({ secret, body, timestamp: '1000', signature, now: 99_999, toleranceSeconds: Infinity })).toBe(true);
  });

  it('sends no signature headers without a secret', async () => {
    await channel(false).send([firing], AbortSignal.timeout(5_000));
    const [request] = receiver.requests;
    expect(request?.headers).not.toHaveProperty('x-spend-alerts-timestamp');
    expect(request?.headers).not.toHaveProperty('x-spend-alerts-signature');
  });

  it('makes one request per notification through deliver(), each with its own outcome', async () => {
    receiver.enqueue({ status: 204 }, { status: 410, body: 'gone' });
    const { sleep } = recordingSleep();
    const outcomes = await deliver(channel(), [firing, resolved, modelBudget], { sleep });
    expect(receiver.requests.map((r) => (r.json as { id: string }).id)).toEqual([firing.id, resolved.id, modelBudget.id]);
    expect(outcomes).toEqual([
      { notificationId: firing.id, ok: true },
      { notificationId: resolved.id, ok: false, retryable: false, error: `webhook: HTTP 410 from ${receiver.origin}/…: gone` },
      { notificationId: modelBudget.id, ok: true },
    ]);
  });

  it('never shows the path, query or signing secret in errors, even when the receiver echoes them', async () => {
    receiver.enqueue({ status: 400, body: `bad request to /hooks/spend?token=query-secret signed with ${secret}` });
    const [outcome] = await deliver(channel(), [firing], {});
    expect(outcome?.ok).toBe(false);
    const error = outcome?.ok === false ? outcome.error : '';
    expect(error).toContain('HTTP 400');
    expect(error).not.toContain('query-secret');
    expect(error).not.toContain('/hooks/spend');
    expect(error).not.toContain(secret);
  });
});
