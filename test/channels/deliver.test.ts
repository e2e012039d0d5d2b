import { describe, expect, it } from 'vitest';
import { DeliveryError, type Channel } from '../../src/channels/channel.js';
import { deliver } from '../../src/channels/deliver.js';
import { TimeLimitError } from '../../src/util/deadline.js';
import type { Notification } from '../../src/core/notification.js';
import { firing, recordingSleep, relative, resolved } from './fixtures.js';

/** A channel answering each send from a script: undefined accepts, an error rejects. */
function scripted(batches: boolean, ...script: Array<unknown>) {
  const sends: Array<readonly string[]> = [];
  const channel: Channel = {
    name: 'fake',
    type: 'console',
    batches,
    async send(notifications: readonly Notification[]) {
      sends.push(notifications.map((n) => n.id));
      const step = script.shift();
      if (step !== undefined) throw step;
    },
  };
  return { channel, sends };
}

const transient = () => new DeliveryError('HTTP 503 from https://hooks.slack.com/…', true);
const permanent = () => new DeliveryError('HTTP 404 from https://hooks.slack.com/…: no_service', false);

describe('deliver', () => {
  it('sends a batching channel everything at once, and one notification at a time otherwise', async () => {
    const batching = scripted(true);
    await deliver(batching.channel, [firing, resolved, relative]);
    expect(batching.sends).toEqual([[firing.id, resolved.id, relative.id]]);

    const single = scripted(false);
    await deliver(single.channel, [firing, resolved, relative]);
    expect(single.sends).toEqual([[firing.id], [resolved.id], [relative.id]]);
  });

  it('sends nothing for no notifications', async () => {
    const { channel, sends } = scripted(true);
    expect(await deliver(channel, [])).toEqual([]);
    expect(sends).toEqual([]);
  });

  it('backs off exponentially with full jitter, capped at maxDelayMs', async () => {
    const { channel, sends } = scripted(true, transient(), transient(), transient(), transient());
    const { sleep, waits } = recordingSleep();
    const randoms = [1, 0.5, 1, 0.25];
    const outcomes = await deliver(channel, [firing], {
      attempts: 5,
      baseDelayMs: 100,
      maxDelayMs: 300,
      sleep,
      random: () => randoms.shift() ?? 0,
    });
    expect(outcomes).toEqual([{ notificationId: firing.id, ok: true }]);
    // caps 100, 200, 300 (400 capped), 300 (800 capped), scaled by the random draws
    expect(waits).toEqual([100, 100, 300, 75]);
    expect(sends).toHaveLength(5);
  });

  it('reports the last error after the last attempt, retryable and counted', async () => {
    const { channel, sends } = scripted(true, transient(), transient(), transient());
    const outcomes = await deliver(channel, [firing, resolved], { ...recordingSleep(), attempts: 3 });
    const error = 'HTTP 503 from https://hooks.slack.com/… (after 3 attempts)';
    expect(outcomes).toEqual([
      { notificationId: firing.id, ok: false, retryable: true, error },
      { notificationId: resolved.id, ok: false, retryable: true, error },
    ]);
    expect(sends).toHaveLength(3);
  });

  it('does not retry a permanent failure', async () => {
    const { channel, sends } = scripted(true, permanent());
    const { sleep, waits } = recordingSleep();
    const outcomes = await deliver(channel, [firing], { sleep });
    expect(outcomes).toEqual([
      { notificationId: firing.id, ok: false, retryable: false, error: 'HTTP 404 from https://hooks.slack.com/…: no_service' },
    ]);
    expect(waits).toEqual([]);
    expect(sends).toHaveLength(1);
  });

  it('waits at least as long as Retry-After asks when that is within maxDelayMs', async () => {
    const { channel } = scripted(true, new DeliveryError('HTTP 429', true, 2));
    const { sleep, waits } = recordingSleep();
    await deliver(channel, [firing], { sleep, random: () => 0.1, baseDelayMs: 1_000, maxDelayMs: 5_000 });
    expect(waits).toEqual([2_000]);
  });

  it('stops and reports when Retry-After is beyond maxDelayMs, carrying it for the next attempt', async () => {
    const { channel, sends } = scripted(true, new DeliveryError('HTTP 429', true, 3_600));
    const { sleep, waits } = recordingSleep();
    const [outcome] = await deliver(channel, [firing], { sleep, maxDelayMs: 60_000 });
    expect(outcome).toEqual({
      notificationId: firing.id,
      ok: false,
      retryable: true,
      error: 'HTTP 429; asked to retry after 3600 s',
      retryAfterSeconds: 3_600,
    });
    expect(waits).toEqual([]);
    expect(sends).toHaveLength(1);
  });

  it('carries a Retry-After the last attempt was answered with, for the next attempt', async () => {
    const { channel, sends } = scripted(true, transient(), new DeliveryError('HTTP 429', true, 20));
    const [outcome] = await deliver(channel, [firing], { ...recordingSleep(), attempts: 2, maxDelayMs: 60_000 });
    expect(outcome).toEqual({
      notificationId: firing.id,
      ok: false,
      retryable: true,
      error: 'HTTP 429; asked to retry after 20 s (after 2 attempts)',
      retryAfterSeconds: 20,
    });
    expect(sends).toHaveLength(2);
  });

  it('sends a peer that asked to wait none of the other notifications, carrying its Retry-After to them', async () => {
    const { channel, sends } = scripted(false, new DeliveryError('HTTP 429', true, 600));
    const outcomes = await deliver(channel, [firing, resolved, relative], recordingSleep());
    expect(sends).toEqual([[firing.id]]);
    expect(outcomes).toEqual([
      { notificationId: firing.id, ok: false, retryable: true, error: 'HTTP 429; asked to retry after 600 s', retryAfterSeconds: 600 },
      ...[resolved, relative].map((n) => ({
        notificationId: n.id,
        ok: false,
        retryable: true,
        error: 'not sent: console asked to retry after 600 s',
        retryAfterSeconds: 600,
      })),
    ]);
  });

  it('treats an unclassified exception from a channel as retryable', async () => {
    const { channel, sends } = scripted(true, new TypeError('boom'));
    const outcomes = await deliver(channel, [firing], recordingSleep());
    expect(outcomes).toEqual([{ notificationId: firing.id, ok: true }]);
    expect(sends).toHaveLength(2);
  });

  it('keeps going after one notification fails on a channel that sends one at a time', async () => {
    const { channel } = scripted(false, permanent());
    const outcomes = await deliver(channel, [firing, resolved], recordingSleep());
    expect(outcomes.map((o) => [o.notificationId, o.ok])).toEqual([
      [firing.id, false],
      [resolved.id, true],
    ]);
  });

  it('stops waiting and sending when the signal aborts', async () => {
    const controller = new AbortController();
    const { channel, sends } = scripted(false, transient());
    const outcomes = await deliver(channel, [firing, resolved], {
      signal: controller.signal,
      sleep: async (_ms, signal) => {
        controller.abort();
        signal.throwIfAborted();
      },
    });
    expect(outcomes).toEqual([
      { notificationId: firing.id, ok: false, retryable: true, error: 'HTTP 503 from https://hooks.slack.com/… (cancelled)' },
      { notificationId: resolved.id, ok: false, retryable: true, error: 'cancelled before delivery' },
    ]);
    expect(sends).toEqual([[firing.id]]);
  });

  it('stops waiting for a channel that ignores the signal once a time limit runs out, and names the limit', async () => {
    const controller = new AbortController();
    let started!: () => void;
    const sending = new Promise<void>((resolve) => (started = resolve));
    const deaf: Channel = {
      name: 'deaf',
      type: 'email',
      batches: false,
      send: () => {
        started();
        return new Promise<void>(() => {});
      },
    };
    const delivering = deliver(deaf, [firing, resolved], { signal: controller.signal });
    await sending;
    controller.abort(new TimeLimitError("channel deaf's time limit of 30 s ran out"));
    expect(await delivering).toEqual([
      { notificationId: firing.id, ok: false, retryable: true, error: "email: no answer (channel deaf's time limit of 30 s ran out)" },
      { notificationId: resolved.id, ok: false, retryable: true, error: "not sent: channel deaf's time limit of 30 s ran out" },
    ]);
  });

  it('sleeps for real by default and can be aborted in the middle of a wait', async () => {
    const controller = new AbortController();
    const { channel, sends } = scripted(true, transient());
    const delivering = deliver(channel, [firing], { signal: controller.signal, baseDelayMs: 600_000, maxDelayMs: 600_000, random: () => 1 });
    setImmediate(() => controller.abort());
    const [outcome] = await delivering;
    expect(outcome).toMatchObject({ ok: false, retryable: true });
    expect(sends).toHaveLength(1);
  });

  it('reports the outcomes of each send through onSent before the next send starts', async () => {
    const events: string[] = [];
    const channel: Channel = {
      name: 'fake',
      type: 'webhook',
      batches: false,
      async send(notifications) {
        events.push(`send ${notifications[0]?.id}`);
        if (notifications[0]?.id === resolved.id) throw permanent();
      },
    };
    const outcomes = await deliver(channel, [firing, resolved, relative], {
      onSent: async (sent) => {
        for (const outcome of sent) events.push(`outcome ${outcome.notificationId} ${outcome.ok}`);
      },
    });
    expect(events).toEqual([
      `send ${firing.id}`,
      `outcome ${firing.id} true`,
      `send ${resolved.id}`,
      `outcome ${resolved.id} false`,
      `send ${relative.id}`,
      `outcome ${relative.id} true`,
    ]);
    expect(outcomes.map((o) => o.ok)).toEqual([true, false, true]);
  });

  it('reports the send of a batch once, with every notification it carried', async () => {
    const calls: string[][] = [];
    const channel: Channel = { name: 'batching', type: 'slack', batches: true, async send() {} };
    await deliver(channel, [firing, resolved], { onSent: async (sent) => void calls.push(sent.map((o) => o.notificationId)) });
    expect(calls).toEqual([[firing.id, resolved.id]]);
  });

  it('redacts every error message it returns', async () => {
    const { channel } = scripted(true, new DeliveryError('login as bob:hunter2-secret refused', false));
    const [outcome] = await deliver(channel, [firing], { redact: (t) => t.replace('hunter2-secret', '[REDACTED]') });
    expect(outcome).toMatchObject({ ok: false, error: 'login as bob:[REDACTED] refused' });
  });
});
